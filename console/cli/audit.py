"""`opsdesk audit`: the audit log, newest N or from a time on, with what each entry changed;
`--verify` walks its hash chain and checks its guards instead."""

from __future__ import annotations

import argparse
from typing import Any

from opsdesk.console.cli.common import options_from
from opsdesk.console.cli.listing import COUNT_AT_MOST, cut, say_cut
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.session import open_session
from opsdesk.store.errors import GUARDS_MISSING
from opsdesk.store.records import AuditBreak, AuditCheck, AuditEntry
from opsdesk.store.timefmt import from_db


async def audit(args: argparse.Namespace) -> int:
    if args.verify:
        return await verify(args)
    session = await open_session(options_from(args), create=False)
    try:
        audit_log = session.store.audit
        entries = await audit_log.entries(
            since=args.since, entity_key=args.entity, limit=args.limit or -1,
            newest_first=not args.since,
        )  # fmt: skip
        total = len(entries)
        if cut(total, args.limit):
            total = await audit_log.count(
                since=args.since, entity_key=args.entity, at_most=COUNT_AT_MOST + 1
            )
        if not args.since:
            entries.reverse()
    finally:
        await session.close()
    _print(args, entries)
    say_cut(len(entries), total)
    return 0


def _print(args: argparse.Namespace, entries: list[AuditEntry]) -> None:
    if args.json:
        emit_json(entries)
        return
    rows = [
        [
            e.at.strftime("%Y-%m-%d %H:%M:%SZ"),
            e.actor,
            e.action,
            e.entity_key,
            _summary(e.before, e.after),
        ]
        for e in entries
    ]
    emit_table(["at (UTC)", "actor", "action", "key", "change"], rows)


async def verify(args: argparse.Namespace) -> int:
    """Exit 0 when the chain is intact and the guards are there, 1 otherwise."""
    if args.since or args.entity:
        raise UsageError("audit: --verify checks the whole log; drop --since and --entity")
    session = await open_session(options_from(args), create=False)
    try:
        check = await session.store.audit.verify()
    finally:
        await session.close()
    if args.json:
        emit_json(_as_json(check))
    else:
        if not check.guards_intact:
            emit_line(f"audit: {GUARDS_MISSING}")
        if check.broken is not None:
            emit_line(f"audit: {describe_break(check.broken)}")
        else:
            noun = "entry" if check.entries == 1 else "entries"
            emit_line(f"audit: {check.entries:,} {noun}, chain intact")
    return 0 if check.intact else 1


def describe_break(broken: AuditBreak) -> str:
    """`entry 1234 (2026-11-03 10:00Z, INC-12) does not match its hash: ...`"""
    try:
        at = from_db(broken.at).strftime("%Y-%m-%d %H:%MZ")
    except ValueError:
        at = broken.at  # the time was rewritten too: show it as stored
    if broken.missing is None:
        why = "changed or inserted outside opsdesk"
    else:
        first, last = broken.missing
        gone = f"entry {first} was" if first == last else f"entries {first}-{last} were"
        why = f"{gone} deleted before it, outside opsdesk"
    return f"entry {broken.id} ({at}, {broken.entity_key}) does not match its hash: {why}"


def _as_json(check: AuditCheck) -> dict[str, Any]:
    broken = None
    if check.broken is not None:
        broken = {
            "id": check.broken.id,
            "at": check.broken.at,
            "entity_key": check.broken.entity_key,
            "missing": list(check.broken.missing) if check.broken.missing else None,
            "message": describe_break(check.broken),
        }
    return {
        "entries": check.entries,
        "intact": check.intact,
        "guards_intact": check.guards_intact,
        "broken": broken,
        "head": None if check.head_id is None else {"id": check.head_id, "hash": check.head_hash},
    }


def _summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return "created" if after else ""
    if after is None:
        return "removed"
    changed = [k for k in after if before.get(k) != after.get(k)]
    return ", ".join(f"{k}: {before.get(k)!s} -> {after[k]!s}" for k in changed)
