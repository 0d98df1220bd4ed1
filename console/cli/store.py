"""`opsdesk store ...`: commands about the store as a whole. `store copy SRC DST` moves a
whole store between SQLite files and PostgreSQL databases (store/copy.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from opsdesk.console.cli.output import emit_json, emit_line, emit_table, warn
from opsdesk.console.cli.parsing import Parser
from opsdesk.console.errors import UsageError

Command = Callable[[str, Callable[..., Any], str], argparse.ArgumentParser]
AddAction = Callable[[Any, str, Callable[..., Any], str], argparse.ArgumentParser]


def add_parser(command: Command, add_action: AddAction) -> None:
    store = command("store", _help, "the store as a whole: copy, migrate, and roles on PostgreSQL")
    actions = store.add_subparsers(
        title="store commands", metavar="ACTION", parser_class=Parser, required=True
    )
    copy = add_action(
        actions,
        "copy",
        copy_command,
        "copy a whole store (SQLite file or postgresql:// URL) into a new or empty one,"
        " audit chain included, and check it",
    )
    copy.add_argument("source", metavar="SRC", help="the store to copy (read, never changed)")
    copy.add_argument(
        "target", metavar="DST", help="a new SQLite file, or an empty PostgreSQL database"
    )
    copy.add_argument("--json", action="store_true", help="print the report as JSON")
    from opsdesk.console.cli.store_admin import add_actions

    add_actions(actions, add_action)


def _help(args: argparse.Namespace) -> int:  # `required=True` means argparse answers first
    return 2


def copy_command(args: argparse.Namespace) -> int:
    """Exit 0 when every check agrees, 1 when the copy committed but one does not."""
    if args.read_only:
        raise UsageError("store copy: writes DST; drop --read-only (SRC is only read anyway)")
    from opsdesk.store.copy import copy_store

    report = copy_store(args.source, args.target)
    if args.json:
        emit_json(_as_json(report))
    else:
        _print(report)
    if report.ok:
        return 0
    warn(f"store copy: {_failure(report)}")
    return 1


def _print(report: Any) -> None:
    emit_line(f"copied {report.source} -> {report.target} in {report.seconds:.1f} s")
    emit_table(
        ["table", "rows"],
        [
            [
                t.table,
                f"{t.target_rows:,}" if t.equal else f"{t.target_rows:,} (SRC {t.source_rows:,})",
            ]
            for t in report.tables
        ],
    )
    if report.not_copied:
        reasons: dict[str, list[str]] = {}
        for name, why in report.not_copied.items():
            reasons.setdefault(why, []).append(name)
        for why, names in reasons.items():
            emit_line(f"not copied ({why}): {', '.join(names)}")
    emit_line(f"metrics: {'equal' if report.metrics_equal else 'DIFFER'} on both sides")
    check = report.audit
    if check.intact:
        emit_line(f"audit: {check.entries:,} entries, chain intact on DST")


def _failure(report: Any) -> str:
    from opsdesk.console.cli.audit import describe_break

    unequal = [t for t in report.tables if not t.equal]
    if unequal:
        t = unequal[0]
        return f"{t.table}: {t.source_rows:,} rows in SRC, {t.target_rows:,} in DST"
    if not report.metrics_equal:
        return "the metrics aggregates differ between SRC and DST"
    check = report.audit
    if check.broken is None:
        return "DST's audit log guards are missing"
    said = f"DST's audit chain: {describe_break(check.broken)}"
    source = report.source_audit
    if source is not None and source.broken is not None and source.broken.id == check.broken.id:
        said += " (SRC's chain was already broken there)"
    return said


def _as_json(report: Any) -> dict[str, Any]:
    check = report.audit
    return {
        "source": report.source,
        "target": report.target,
        "ok": report.ok,
        "seconds": round(report.seconds, 3),
        "rows": report.rows,
        "tables": [
            {"table": t.table, "rows": t.target_rows, "source_rows": t.source_rows}
            for t in report.tables
        ],
        "not_copied": report.not_copied,
        "metrics_equal": report.metrics_equal,
        "audit": {
            "entries": check.entries,
            "intact": check.intact,
            "guards_intact": check.guards_intact,
            "broken_at": None if check.broken is None else check.broken.id,
            "head": None
            if check.head_id is None
            else {"id": check.head_id, "hash": check.head_hash},
        },
    }
