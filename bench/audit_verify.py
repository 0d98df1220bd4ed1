"""How long `opsdesk audit --verify` takes over a long audit log: N entries written through
the real write path (`Transaction.audit`, chained as they go in), with before/after JSON
the size of an incident's; then the chain walked in-process (median of 3) and by the CLI
in its own process (median of 3, interpreter start included).

    python -m bench.audit_verify [--entries 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import emit
from opsdesk.store import Actor, Store

BATCH = 5000  # audit rows per write transaction while building


def incident_json(n: int, state: str) -> dict[str, Any]:
    return {
        "id": n,
        "title": f"disk {n} full on host-{n % 97}",
        "description": "root volume at 99%; log rotation stuck since the last deploy",
        "service": "payments",
        "impact": 2,
        "urgency": 2,
        "priority": "P3",
        "state": state,
        "assignee": "ana",
        "reporter": "ben",
        "version": 2,
        "updated_at": "2026-11-25T12:00:00Z",
        "updated_by": "ana",
    }


async def build(path: Path, entries: int) -> float:
    """Write `entries` audit rows through the store's own write path; seconds taken."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    actor = Actor("bench", frozenset({"admin"}))
    began = time.perf_counter()
    async with await Store.open(path) as store:
        db = store._db  # the bench writes audit rows alone, without the incidents behind them
        done = 0
        while done < entries:
            async with db.write(actor, "engineer", "bench", now) as tx:
                for _ in range(min(BATCH, entries - done)):
                    done += 1
                    key = f"INC-{done % 5000 + 1}"
                    if done % 2:
                        await tx.audit("incident.note", "incident", key, None, {"note": "ok"})
                    else:
                        before, after = incident_json(done, "new"), incident_json(done, "ack")
                        await tx.audit("incident.acknowledge", "incident", key, before, after)
    return time.perf_counter() - began


async def verify_seconds(path: Path) -> tuple[float, int, bool]:
    async with await Store.open(path) as store:
        began = time.perf_counter()
        check = await store.audit.verify()
        return time.perf_counter() - began, check.entries, check.intact


def cli_seconds(path: Path) -> float:
    began = time.perf_counter()
    argv = [sys.executable, "-m", "opsdesk.console", "--store", str(path), "audit", "--verify"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "audit.db"
        built = asyncio.run(build(store, args.entries))
        runs = [asyncio.run(verify_seconds(store)) for _ in range(3)]
        assert all(entries == args.entries and intact for _, entries, intact in runs), runs
        walk = statistics.median(seconds for seconds, _, _ in runs)
        cli = statistics.median(cli_seconds(store) for _ in range(3))
        size_mb = store.stat().st_size / 1e6
    emit(
        {
            "entries": args.entries,
            "store_mb": round(size_mb, 1),
            "build_seconds": round(built, 1),
            "verify_seconds": round(walk, 2),
            "verify_us_per_entry": round(walk / args.entries * 1e6, 1),
            "cli_verify_seconds": round(cli, 2),
        }
    )


if __name__ == "__main__":
    main()
