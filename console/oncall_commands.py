"""`opsdesk oncall ...`: who is on call, for scripts and for a phone over SSH."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from opsdesk.console.commands import now, options_from
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.oncall import on_call_at
from opsdesk.console.output import emit_json, emit_table
from opsdesk.console.schema import suggest
from opsdesk.console.session import open_session


async def now_command(args: argparse.Namespace) -> int:
    at = args.at or now()
    session = await open_session(options_from(args), create=False)
    try:
        schedules = session.config.schedules
        if args.schedule:
            names = [s.name for s in schedules]
            schedules = [s for s in schedules if s.name == args.schedule]
            if not schedules:
                raise OpsdeskError(
                    f"unknown schedule {args.schedule!r}{suggest(args.schedule, names)}"
                )
        overrides = await session.store.overrides.not_ended(at - _longest(schedules))
    finally:
        await session.close()
    found = [on_call_at(schedule, overrides, at) for schedule in schedules]
    if args.json:
        emit_json(
            [
                {
                    "schedule": f.schedule, "person": f.login, "since": f.since, "until": f.until,
                    "next_person": f.next_login, "source": f.source,
                }
                for f in found
            ]
        )  # fmt: skip
        return 0
    rows = [
        [f.schedule, f.login or "— gap —", f"{f.since:%Y-%m-%d %H:%M}",
         f"{f.until:%Y-%m-%d %H:%M}", f.next_login or "—", f.source]
        for f in found
    ]  # fmt: skip
    emit_table(["schedule", "on call", "since (UTC)", "until (UTC)", "next", "source"], rows)
    return 0


def _longest(schedules: list[Any]) -> Any:
    from datetime import timedelta

    rotations = [layer.rotation for s in schedules for layer in s.layers]
    return max(rotations, default=timedelta(days=1)) * 2


def add_parser(
    command: Callable[..., argparse.ArgumentParser],
    action_parser: Callable[
        [argparse.ArgumentParser, str, Callable[..., Any], str], argparse.ArgumentParser
    ],
    instant: Callable[[str], Any],
) -> None:
    """Register `opsdesk oncall ...` (called by console.cli)."""
    parent = command("oncall", now_command, "who is on call: now, shifts, overrides")
    sub = parent.add_subparsers(title="oncall commands", metavar="ACTION", required=True)
    p = action_parser(
        sub, "now", now_command, "who is on call for each schedule, since, until, next"
    )  # type: ignore[arg-type]
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--at", metavar="ISO", type=instant, help="another instant (UTC if no offset)")
    p.add_argument("--json", action="store_true")
