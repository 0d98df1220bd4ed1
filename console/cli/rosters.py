"""`opsdesk oncall lint | diff | export`: look at a roster as a whole before trusting it,
see what a new roster would move, and put shifts into people's calendars."""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.config.loader import parse_sources, read_toml, to_toml_data
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.rotations import final_rota
from opsdesk.console.errors import ConfigError, InputError, OpsdeskError
from opsdesk.console.ops.oncall import OncallOps, pick_schedules
from opsdesk.console.ops.session import open_session

MAX_DAYS = 366
HOUR = timedelta(hours=1)


def _days(value: int) -> timedelta:
    if not 1 <= value <= MAX_DAYS:
        raise InputError(f"--days must be between 1 and {MAX_DAYS}")
    return timedelta(days=value)


def _start_of_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def _roster(args: argparse.Namespace, since: datetime) -> tuple[Any, list[Any]]:
    session = await open_session(options_from(args), create=False)
    try:
        ops = OncallOps(session.store, session.config, session.actor)
        overrides = await ops.upcoming_overrides(since)
    finally:
        await session.close()
    return session.config, overrides


async def lint_command(args: argparse.Namespace) -> int:
    from opsdesk.console.domain.roster_checks import lint_schedule  # `oncall now` needs none

    start = _start_of_hour(now())
    end = start + _days(args.days)
    config, overrides = await _roster(args, start)
    reports = [
        lint_schedule(schedule, overrides, config.people, start, end)
        for schedule in pick_schedules(config.schedules, args.schedule)
    ]
    if args.json:
        emit_json(
            [
                {
                    "schedule": r.schedule, "from": r.start, "to": r.end,
                    "coverage_percent": round(r.coverage * 100, 2),
                    "gaps": [{"from": g.start, "to": g.end} for g in r.gaps],
                    "empty_shifts": [
                        {"layer": e.layer, "person": e.login, "from": e.start, "to": e.end}
                        for e in r.empty_turns
                    ],
                    "balance": round(r.balance, 3),
                    "load": [
                        {"person": p.login, "hours": round(p.hours, 2),
                         "off_hours": round(p.off_hours, 2)}
                        for p in r.load
                    ],
                }
                for r in reports
            ]
        )  # fmt: skip
    else:
        for report in reports:
            emit_line(
                f"{report.schedule}: {report.coverage:.1%} covered over {args.days} days, "
                f"{len(report.gaps)} gaps, {len(report.empty_turns)} empty shifts, "
                f"balance {report.balance:.2f} (1.00 = even)"
            )
            for gap in report.gaps:
                emit_line(f"  gap {gap.start:%Y-%m-%d %H:%M} → {gap.end:%Y-%m-%d %H:%M} UTC")
            for turn in report.empty_turns:
                emit_line(
                    f"  empty shift: {turn.login} on {turn.layer} "
                    f"{turn.start:%Y-%m-%d %H:%M} → {turn.end:%Y-%m-%d %H:%M} UTC "
                    "(the restriction leaves it no time)"
                )
            rows = [[p.login, f"{p.hours:.1f}", f"{p.off_hours:.1f}"] for p in report.load]
            emit_table(["person", "hours", "off-hours (own zone)"], rows)
    return 1 if any(r.problems for r in reports) else 0


def _proposed(path: Path, current: Any) -> Any:
    """The schedules of NEW.toml, checked like any config (its own people, or ours)."""
    data = read_toml(path)
    if not data.get("schedules"):
        raise ConfigError(f"{path}: no [[schedules]] in it, so there is nothing to compare")
    current_data = to_toml_data(current)
    for section in ("people", "roles"):
        if section not in data and section in current_data:
            data[section] = current_data[section]
    return parse_sources([(str(path), data)])


async def diff_command(args: argparse.Namespace) -> int:
    from opsdesk.console.domain.roster_checks import roster_diff

    if not 1 <= args.weeks <= 52:
        raise InputError("--weeks must be between 1 and 52")
    start = _start_of_hour(now())
    end = start + timedelta(weeks=args.weeks)
    config, overrides = await _roster(args, start)
    proposed = _proposed(Path(args.new), config)
    named = {s.name for s in proposed.schedules}
    left_out = [s.name for s in config.schedules if s.name not in named]
    current = [s for s in config.schedules if s.name in named]
    moves = roster_diff(current, proposed.schedules, overrides, start, end)
    if args.json:
        emit_json(
            [
                {"schedule": m.schedule, "from": m.start, "to": m.end,
                 "before": m.before, "after": m.after}
                for m in moves
            ]
        )  # fmt: skip
        return 0
    if left_out:
        emit_line(f"not in {args.new}, so left as they are: {', '.join(left_out)}")
    if not moves:
        emit_line(f"no shift moves in the next {args.weeks} weeks")
        return 0
    rows = [
        [m.schedule, f"{m.start:%Y-%m-%d %H:%M}", f"{m.end:%Y-%m-%d %H:%M}",
         m.before or "— gap —", m.after or "— gap —"]
        for m in moves
    ]  # fmt: skip
    emit_table(["schedule", "from (UTC)", "to (UTC)", "now", "with NEW"], rows)
    hours: dict[str, float] = {}
    for move in moves:
        length = (move.end - move.start) / timedelta(hours=1)
        for login, sign in ((move.before, -1), (move.after, 1)):
            if login:
                hours[login] = hours.get(login, 0.0) + sign * length
    changes = ", ".join(f"{who} {delta:+.0f}h" for who, delta in sorted(hours.items()) if delta)
    emit_line(f"{len(moves)} stretches move; hours on call change: {changes or 'none'}")
    return 0


async def export_command(args: argparse.Namespace) -> int:
    # Here, not at the top: every command imports this module, and icalendar is slow to load.
    from opsdesk.console.domain.ical import CalendarShift, calendar

    start = _start_of_hour(now())
    end = start + _days(args.days)
    config, overrides = await _roster(args, start - timedelta(days=MAX_DAYS))
    schedules = pick_schedules(config.schedules, args.schedule)
    logins = [p.login for p in config.people]
    if args.person is not None and logins and args.person not in logins:
        raise InputError(f"unknown login {args.person!r}{suggest(args.person, logins)}")
    names = {p.login: p.name for p in config.people}
    # The shift in progress is exported whole: the rota is laid out from before now.
    before = start - max((lay.rotation for s in schedules for lay in s.layers), default=HOUR)
    shifts = [
        CalendarShift(s.name, s.timezone, shift.login, names.get(shift.login, ""),
                      shift.start, shift.end, shift.source)
        for s in schedules
        for shift in final_rota(s, overrides, before, end)
        if shift.login is not None and args.person in (None, shift.login) and shift.end > start
    ]  # fmt: skip
    title = f"on call: {args.person or 'everyone'} ({', '.join(s.name for s in schedules)})"
    _write_atomically(Path(args.ical), calendar(shifts, now(), title))
    emit_line(f"{args.ical}: {len(shifts)} shifts over {args.days} days")
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target and rename, so a calendar app never reads half a file."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(temp, path)
    except OSError as exc:
        raise OpsdeskError(f"{path}: cannot write: {exc.strerror or exc}") from None


def add_review_parsers(sub: Any, action: Any) -> None:
    """Register lint, diff and export under `opsdesk oncall`."""
    p = action(sub, "lint", lint_command, "coverage, gaps, empty shifts, balance, off-hours load")
    p.add_argument("--days", type=int, default=28, help="how far ahead (default 28)")
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--json", action="store_true")

    p = action(sub, "diff", diff_command, "which shifts move if NEW.toml's roster replaced ours")
    p.add_argument("new", metavar="NEW.toml")
    p.add_argument("--weeks", type=int, default=4, help="how far ahead (default 4)")
    p.add_argument("--json", action="store_true")

    p = action(sub, "export", export_command, "write shifts as an iCalendar (RFC 5545) file")
    p.add_argument("--ical", required=True, metavar="FILE")
    p.add_argument("--person", metavar="LOGIN")
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--days", type=int, default=28, help="how far ahead (default 28)")
