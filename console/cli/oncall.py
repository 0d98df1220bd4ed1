"""`opsdesk oncall ...`: who is on call, for scripts and for a phone over SSH."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.cli.rosters import add_review_parsers
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.oncall import OncallOps
from opsdesk.console.ops.session import Session, open_session
from opsdesk.store.records import HandoffNote


async def now_command(args: argparse.Namespace) -> int:
    at = args.at or now()
    session = await open_session(options_from(args), create=False)
    try:
        found = await _ops(session).on_call(at, args.schedule)
    finally:
        await session.close()
    if args.json:
        emit_json(
            [
                {
                    "schedule": f.schedule, "person": f.login, "from": f.since, "to": f.until,
                    "next_person": f.next_login, "source": f.source,
                    "since": f.since, "until": f.until,  # the older names, kept for scripts
                }
                for f in found
            ]
        )  # fmt: skip
        return 0
    rows = [
        [f.schedule, f.login or "— gap —",
         f"{f.since:%Y-%m-%d %H:%M}" if f.since else "over a year ago",
         f"{f.until:%Y-%m-%d %H:%M}" if f.until else "no hand-off within a year",
         f.next_login or "—", f.source]
        for f in found
    ]  # fmt: skip
    emit_table(["schedule", "on call", "from (UTC)", "to (UTC)", "next", "source"], rows)
    return 0


async def escalation_command(args: argparse.Namespace) -> int:
    at = args.at or now()
    session = await open_session(options_from(args), create=False)
    try:
        steps = await _ops(session).escalation(args.service, at)
    finally:
        await session.close()
    if args.json:
        emit_json([dataclasses.asdict(step) for step in steps])
        return 0
    rows = [
        [str(s.level), f"{s.paged_at:%Y-%m-%d %H:%M}", s.via, s.login or "— nobody —",
         s.name, s.phone, s.email]
        for s in steps
    ]  # fmt: skip
    emit_table(["level", "paged at (UTC)", "via", "person", "name", "phone", "email"], rows)
    return 0


async def shifts_command(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        found = await _ops(session).shifts(args.start, args.end, args.schedule, args.person)
    finally:
        await session.close()
    if args.json:
        emit_json(
            [
                {
                    "schedule": name,
                    "person": s.login,
                    "from": s.start,
                    "to": s.end,
                    "source": s.source,
                }
                for name, s in found
            ]
        )
        return 0
    rows = [
        [
            name,
            s.login or "— gap —",
            f"{s.start:%Y-%m-%d %H:%M}",
            f"{s.end:%Y-%m-%d %H:%M}",
            s.source,
        ]
        for name, s in found
    ]
    emit_table(["schedule", "person", "from (UTC)", "to (UTC)", "source"], rows)
    return 0


async def handoff_add(args: argparse.Namespace) -> int:
    at = now()
    session = await open_session(options_from(args), create=True)
    try:
        note = await _ops(session).leave_handoff(args.schedule, args.text, at)
    finally:
        await session.close()
    if args.json:
        emit_json(_handoff_out(note))
    else:
        emit_line(f"HND-{note.id}: handoff note for {note.for_login} on {note.schedule}")
    return 0


async def handoff_list(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        notes = await _ops(session).recent_handoffs(args.limit)
    finally:
        await session.close()
    if args.json:
        emit_json([_handoff_out(n) for n in notes])
        return 0
    rows = [
        [f"HND-{n.id}", n.schedule, n.author, n.for_login, f"{n.created_at:%Y-%m-%d %H:%M}",
         "yes" if n.seen_at else "no", n.text]
        for n in notes
    ]  # fmt: skip
    emit_table(["key", "schedule", "by", "for", "written (UTC)", "read", "note"], rows)
    return 0


async def override_add(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=True)
    try:
        added = await _ops(session).add_override(
            args.schedule, args.person, args.start, args.end, args.reason or "", now()
        )
    finally:
        await session.close()
    if args.json:
        emit_json(_override_out(added))
    else:
        emit_line(
            f"OVR-{added.id}: {added.login} covers {added.schedule} "
            f"{added.starts_at:%Y-%m-%d %H:%M}–{added.ends_at:%Y-%m-%d %H:%M} UTC"
        )
    return 0


async def override_list(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        found = await _ops(session).upcoming_overrides(now())
    finally:
        await session.close()
    if args.json:
        emit_json([_override_out(o) for o in found])
        return 0
    rows = [
        [f"OVR-{o.id}", o.schedule, o.login, f"{o.starts_at:%Y-%m-%d %H:%M}",
         f"{o.ends_at:%Y-%m-%d %H:%M}", o.reason, o.created_by]
        for o in found
    ]  # fmt: skip
    emit_table(["key", "schedule", "person", "from (UTC)", "to (UTC)", "reason", "by"], rows)
    return 0


async def override_remove(args: argparse.Namespace) -> int:
    text = args.id.upper().removeprefix("OVR-")
    if not text.isdigit():
        raise UsageError(f"{args.id!r} is not an override id (expected OVR-<number>)")
    session = await open_session(options_from(args), create=True)
    try:
        removed = await _ops(session).remove_override(int(text), now())
    finally:
        await session.close()
    if args.json:
        emit_json(_override_out(removed))
    else:
        emit_line(f"OVR-{removed.id} removed ({removed.login} on {removed.schedule})")
    return 0


def _override_out(override: Any) -> dict[str, Any]:
    return {
        "key": f"OVR-{override.id}", "schedule": override.schedule, "person": override.login,
        "from": override.starts_at, "to": override.ends_at, "reason": override.reason,
        "created_by": override.created_by,
        "id": f"OVR-{override.id}",  # the older name, kept for scripts
    }  # fmt: skip


def _handoff_out(note: HandoffNote) -> dict[str, Any]:
    """A handoff note as JSON in the words every record uses: `key` (`HND-n`, as
    overrides are `OVR-n`) and `created_by`; `id` and `author` are the older names, kept
    for scripts."""
    return {
        "key": f"HND-{note.id}",
        "created_by": note.author,
        **dataclasses.asdict(note),
        "id": f"HND-{note.id}",
    }


def _ops(session: Session) -> OncallOps:
    return OncallOps(session.store, session.config, session.actor)


def add_parser(
    command: Callable[..., argparse.ArgumentParser],
    action: Callable[..., argparse.ArgumentParser],
    instant: Callable[[str], Any],
) -> None:
    """Register `opsdesk oncall ...` (called by console.cli)."""
    parent = command("oncall", now_command, "who is on call: now, shifts, overrides")
    sub = parent.add_subparsers(title="oncall commands", metavar="ACTION", required=True)
    p = action(sub, "now", now_command, "who is on call for each schedule, since, until, next")
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--at", metavar="ISO", type=instant, help="another instant (UTC if no offset)")
    p.add_argument("--json", action="store_true")

    p = action(
        sub, "shifts", shifts_command, "the final rota (layers, overrides, gaps) for a range"
    )
    p.add_argument("--from", dest="start", required=True, type=instant, metavar="ISO")
    p.add_argument("--to", dest="end", required=True, type=instant, metavar="ISO")
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--person", metavar="LOGIN")
    p.add_argument("--json", action="store_true")

    p = action(sub, "escalation", escalation_command, "who would be paged, level by level")
    p.add_argument("service")
    p.add_argument("--at", metavar="ISO", type=instant, help="incident start (UTC if no offset)")
    p.add_argument("--json", action="store_true")

    add_review_parsers(sub, action)

    handoffs = sub.add_parser("handoff", help="write or list handoff notes")
    inner_handoff = handoffs.add_subparsers(
        title="handoff commands", metavar="ACTION", required=True
    )
    p = action(inner_handoff, "add", handoff_add, "leave a note for whoever is on call next")
    p.add_argument("--schedule", required=True, metavar="NAME")
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p = action(inner_handoff, "list", handoff_list, "recent handoff notes")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")

    overrides = sub.add_parser("override", help="add, list or remove overrides")
    inner = overrides.add_subparsers(title="override commands", metavar="ACTION", required=True)
    p = action(inner, "add", override_add, "put someone on call for a time range")
    p.add_argument("--schedule", required=True, metavar="NAME")
    p.add_argument("--person", required=True, metavar="LOGIN")
    p.add_argument("--from", dest="start", required=True, type=instant, metavar="ISO")
    p.add_argument("--to", dest="end", required=True, type=instant, metavar="ISO")
    p.add_argument("--reason", metavar="TEXT")
    p.add_argument("--json", action="store_true")
    p = action(inner, "list", override_list, "overrides in force now or later")
    p.add_argument("--json", action="store_true")
    p = action(inner, "remove", override_remove, "remove an override")
    p.add_argument("id", metavar="OVR-N")
    p.add_argument("--json", action="store_true")
