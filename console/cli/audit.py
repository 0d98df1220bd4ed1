"""`opsdesk audit`: the audit log, newest N or from a time on, with what each entry changed."""

from __future__ import annotations

import argparse
from typing import Any

from opsdesk.console.cli.common import options_from
from opsdesk.console.cli.output import emit_json, emit_table
from opsdesk.console.ops.session import open_session


async def audit(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        entries = await session.store.audit.entries(
            since=args.since, entity_key=args.entity, limit=args.limit, newest_first=not args.since
        )
        if not args.since:
            entries.reverse()
    finally:
        await session.close()
    if args.json:
        emit_json(entries)
        return 0
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
    return 0


def _summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return "created" if after else ""
    if after is None:
        return "removed"
    changed = [k for k in after if before.get(k) != after.get(k)]
    return ", ".join(f"{k}: {before.get(k)!s} -> {after[k]!s}" for k in changed)
