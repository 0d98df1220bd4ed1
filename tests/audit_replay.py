"""Check a store against what the workers were told: nothing reported done is missing,
nothing refused was applied, and the audit log replayed from nothing gives the final state.

Replay is the lost-update check: every audited update records the fields it changed as
they were before. If two writers had both started from version 3 and both been applied,
the second row's "before" would not match what the first left, and the chain breaks.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsdesk.store import Store
from opsdesk.store.changes import _json as change_json
from opsdesk.store.incidents import incident_json
from opsdesk.store.records import IncidentFilter
from tests.store_backends import is_postgres, raw, raw_named

MARKER = re.compile(r"(?:cli|app|crash)\d+ [a-z]+ \d+")
FIELD_UPDATES = {"ack": "incident.acknowledge", "assign": "incident.assign",
                 "resolve": "incident.resolve", "priority": "incident.priority"}  # fmt: skip


@dataclass
class Findings:
    """What a check found: counts for the figures, and every problem in words."""

    operations: int = 0
    done: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    audit_rows: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


def read_logs(paths: list[Path]) -> list[dict[str, Any]]:
    """Every complete line; a worker killed while writing one leaves it without its newline,
    and that operation was never reported to anyone."""
    records = []
    for path in paths:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
                if line.endswith("\n"):
                    records.append(json.loads(line))
    return records


def refusal_kind(record: dict[str, Any]) -> str:
    """Sort a refusal by its message: what a person was told."""
    text = record.get("error", "")
    if "was changed by" in text:
        return "stale"
    if "needs the" in text or "own change" in text or "already approved" in text:
        return "not allowed"
    if "no such" in text:
        return "not found"
    return "not applicable"


def check_refusal(record: dict[str, Any], findings: Findings) -> None:
    text = record.get("error", "")
    if "locked" in text.lower() or "busy" in text.lower():
        findings.problem(f"{record['worker']} {record['op']}: a user saw {text.strip()!r}")
    if "Traceback" in text or text.count("\n") > 1:
        findings.problem(f"{record['worker']} {record['op']}: not a one-line error: {text!r}")
    if "code" in record and record["code"] not in (1, 2):
        findings.problem(f"{record['worker']} {record['op']}: exit code {record['code']}")


def replay(rows: list[dict[str, Any]], findings: Findings) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fold the audit log: incidents and changes by key, overrides by id."""
    incidents: dict[str, dict[str, Any]] = {}
    changes: dict[str, dict[str, Any]] = {}
    overrides: dict[str, dict[str, Any]] = {}
    for row in rows:
        before = None if row["before"] is None else json.loads(row["before"])
        after = None if row["after"] is None else json.loads(row["after"])
        key, action = row["entity_key"], row["action"]
        table = {"incident": incidents, "change": changes, "override": overrides}.get(row["entity"])
        if table is None:
            continue
        if action.endswith(".create"):
            if key in table:
                findings.problem(f"audit {row['id']}: {key} created twice")
            table[key] = after
            continue
        if action == "override.remove":
            table.pop(key, None)
            continue
        if before is None:  # notes and links change no field
            continue
        state = table.get(key)
        if state is None:
            findings.problem(f"audit {row['id']}: {action} on {key}, which was never created")
            continue
        stale = {k: (state.get(k), v) for k, v in before.items() if state.get(k) != v}
        if stale:
            findings.problem(
                f"audit {row['id']}: lost update: {action} on {key} by {row['actor']} started "
                f"from {stale} (field: (replayed, recorded before))"
            )
        state.update(after or {})
    return incidents, {"changes": changes, "overrides": overrides}


async def _current(location: str) -> tuple[dict[str, Any], dict[str, Any]]:
    async with await Store.open(location, read_only=True) as store:
        found = await store.incidents.find(IncidentFilter(), limit=10_000_000)
        incidents = {i.key: incident_json(i) for i in found}
        changes = {c.key: change_json(c) for c in await store.changes.find(limit=10_000_000)}
    return incidents, changes


def check_store(location: str | Path, records: list[dict[str, Any]]) -> Findings:
    """The store at `location` (a SQLite file, or a PostgreSQL URL with the rights to read
    everything) against what the workers logged."""
    location = str(location)
    findings = Findings(operations=len(records))
    if not is_postgres(location):
        conn = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if result != "ok":
            findings.problem(f"integrity_check: {result}")
            return findings
    rows = raw_named(location, "SELECT * FROM audit ORDER BY id")
    findings.audit_rows = len(rows)
    text = "\n".join(
        [*(r["after"] or "" for r in rows),
         *(r[0] for r in raw(location, "SELECT comment FROM change_approvals"))]
    )  # fmt: skip
    stored_markers = set(MARKER.findall(text))
    overrides = {r[0] for r in raw(location, "SELECT id FROM overrides")}
    audited = {
        (r["entity_key"], r["actor"], r["action"], json.loads(r["after"]).get("version"))
        for r in rows
        if r["after"] and r["entity"] == "incident"
    }
    replayed, others = replay(rows, findings)
    current, changes = asyncio.run(_current(location))
    _compare("incident", replayed, current, findings)
    _compare("change", others["changes"], changes, findings)
    for record in records:
        marker = record.get("marker")
        if not record["ok"]:
            findings.refused[refusal_kind(record)] += 1
            if record["op"] == "stale" and refusal_kind(record) != "stale":
                findings.problem(f"a stale write was refused for another reason: {record}")
            check_refusal(record, findings)
            if marker and marker in stored_markers:
                findings.problem(f"refused but applied: {record['op']} {marker!r}")
            continue
        if record["op"] == "stale":
            findings.problem(f"a stale write was applied: {record}")
        findings.done += 1
        if marker and marker not in stored_markers:
            findings.problem(f"reported done but missing: {record['op']} {marker!r}")
        result = record.get("result", {})
        if record["op"] in FIELD_UPDATES:
            audit = (result["key"], record["actor"], FIELD_UPDATES[record["op"]], result["version"])
            if audit not in audited:
                findings.problem(f"reported done but not audited: {audit}")
        if (
            record["op"] == "override"
            and int(str(result["id"]).removeprefix("OVR-")) not in overrides
        ):
            findings.problem(f"reported done but missing: override {result['id']}")
    return findings


def _compare(
    what: str, replayed: dict[str, Any], current: dict[str, Any], findings: Findings
) -> None:
    if set(replayed) != set(current):
        findings.problem(
            f"{what}s in the store and in the audit log differ: "
            f"{sorted(set(replayed) ^ set(current))[:10]}"
        )
    for key, state in replayed.items():
        now = current.get(key)
        if now is None:
            continue
        differ = {k: (v, now.get(k)) for k, v in state.items() if now.get(k) != v}
        if differ:
            findings.problem(f"{key}: replaying the audit log gives {differ} (replayed, stored)")
