"""The manager's figures commands over any period: `incident metrics --from/--to --service`,
`change stats` and `vendors availability`. Each reads one section of the service review
(console/ops/review_figures.py), so its numbers are the review's numbers.

Periods: `--from`/`--to` take a day (in the team's zone, `[service_review] timezone`; the
`--to` day is included) or an instant; without them, the last 30 days up to now.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.listing import check_services
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.config.model import Config
from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.periods import between
from opsdesk.console.domain.review_period import compared_until, day_range, team_zone
from opsdesk.console.errors import InputError
from opsdesk.console.ops.session import open_session

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Window:
    """The period a figures command covers, [start, end), and the one it is compared
    with, [before, before_end): as `report review --from/--to` compares, the same number of
    local days just before when both bounds are days (so a month with a change of clocks
    is compared day for day), else the same length."""

    start: datetime
    end: datetime
    before: datetime
    zone: str
    before_end: datetime  # `start`, or for a period not over as far in (compared_until)

    def said(self) -> str:
        """ "2026-11-01 to 2026-11-30 (America/New_York), compared with 2026-10-02 to
        2026-10-31": the period as the team reads it, and what "before" means."""
        return (
            f"{_span(self.start, self.end, self.zone)} ({self.zone}),"
            f" compared with {_span(self.before, self.before_end, self.zone)}"
        )


def _span(start: datetime, end: datetime, zone: str) -> str:
    tz = ZoneInfo(zone)
    first, after = start.astimezone(tz), end.astimezone(tz)
    if first.time() == after.time() == time(0):
        last = after.date() - timedelta(days=1)
        return str(first.date()) if last == first.date() else f"{first.date()} to {last}"
    return f"{first:%Y-%m-%d %H:%M} to {after:%Y-%m-%d %H:%M}"


def window(command: str, args: argparse.Namespace, config: Config, at: datetime) -> Window:
    """[start, end) from --from/--to in the team's zone, defaulting to the last 30 days,
    with the period it is compared with (see `Window`)."""
    zone = team_zone(config)
    try:
        start, end = between(args.from_, args.to, ZoneInfo(zone))
    except ValueError as exc:
        raise InputError(f"{command}: {exc}") from None
    end = end or at
    start = start or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise InputError(f"{command}: --from must be before --to (and before now without --to)")
    if end - start > timedelta(days=366):
        raise InputError(f"{command}: at most 366 days at a time")
    before = start - (end - start)
    first, last = args.from_, args.to
    if type(first) is date and type(last) is date:  # whole days: the review's own rule
        compared = day_range(first, last, zone).previous
        before = compared.start if compared is not None else before
    return Window(start, end, before, zone, compared_until(start, end, before, at))


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds(), 1)


def _spread(spread: Any) -> dict[str, float | None]:
    return {k: _seconds(getattr(spread, k)) for k in ("mean", "median", "p90")}


async def incident_metrics(args: argparse.Namespace) -> int:
    """`incident metrics` over a period, for one service or all."""
    from opsdesk.console.ops.review_figures import incident_figures

    at = now()
    session = await open_session(options_from(args), create=False)
    try:
        if args.service:
            check_services("incident metrics", session.config, [args.service])
        span = window("incident metrics", args, session.config, at)
        start, end = span.start, span.end
        found = await incident_figures(
            session.store,
            session.config,
            start,
            end,
            args.service,
            span.before,
            span.before_end,
        )
    finally:
        await session.close()
    everything = found.times[-1]
    if args.json:
        emit_json(
            {
                "from": start, "to": end, "before_from": span.before,
                "before_to": span.before_end, "timezone": span.zone,
                "service": args.service, "opened": found.opened[-1].count,
                "opened_before": found.opened[-1].previous,
                "resolved": found.resolved,
                "mtta_s": _spread(everything.mtta), "mttr_s": _spread(everything.mttr),
                "acknowledged": everything.mtta.count,
                "sla_attainment": found.attainment.achieved,
                "sla_target": found.attainment.agreed,
                "csat_average": found.satisfaction.average,
                "csat_responses": found.satisfaction.responses,
                "by_priority": [
                    {
                        "priority": t.priority, "opened": v.count, "opened_before": v.previous,
                        "mtta_s": _spread(t.mtta), "mttr_s": _spread(t.mttr),
                        "sla_attainment": a.achieved, "sla_judged": a.judged,
                    }
                    for t, v, a in zip(found.times, found.opened, found.by_priority, strict=False)
                ],
            }
        )  # fmt: skip
        return 0
    what = args.service or "all services"
    emit_line(f"{what}, {span.said()}")
    emit_line(
        f"opened {found.opened[-1].count:,} ({found.opened[-1].previous:,} before)  "
        f"resolved {found.resolved:,}  SLA attainment {fmt.share(found.attainment.achieved)}"
        f" (target {fmt.share(found.attainment.agreed)})  "
        f"CSAT {fmt.score(found.satisfaction.average)}"
        f" ({found.satisfaction.responses:,} responses)"
    )
    rows = []
    for times, volume in zip(found.times, found.opened, strict=True):
        attained = next(
            (a for a in found.by_priority if a.name == times.priority), found.attainment
        )
        rows.append(
            [
                times.priority, f"{volume.count:,}", fmt.duration(times.mtta.median),
                fmt.duration(times.mtta.p90), fmt.duration(times.mttr.median),
                fmt.duration(times.mttr.p90), fmt.share(attained.achieved),
            ]
        )  # fmt: skip
    emit_table(
        ["priority", "opened", "MTTA median", "MTTA p90", "MTTR median", "MTTR p90", "SLA"], rows
    )
    return 0


async def change_stats(args: argparse.Namespace) -> int:
    """`change stats`: changes planned to start in the period, how they ended."""
    from opsdesk.console.ops.review_figures import change_figures

    at = now()
    session = await open_session(options_from(args), create=False)
    try:
        if args.service:
            check_services("change stats", session.config, [args.service])
        span = window("change stats", args, session.config, at)
        start, end = span.start, span.end
        found = await change_figures(
            session.store, start, end, args.service, span.before, span.before_end
        )
    finally:
        await session.close()
    if args.json:
        emit_json(
            {
                "from": start, "to": end, "before_from": span.before,
                "before_to": span.before_end, "timezone": span.zone,
                "service": args.service, "total": found.total,
                "total_before": found.previous_total, "by_type": dict(found.by_type),
                "finished": found.finished, "succeeded": found.succeeded,
                "failed": found.failed, "rolled_back": found.rolled_back,
                "success_rate": found.success_rate, "emergency_ratio": found.emergency_ratio,
                "linked_to_incidents": found.linked_to_incidents,
                "unsuccessful": [
                    {
                        "key": c.key, "title": c.title, "type": c.type, "state": c.state,
                        "outcome": c.outcome, "services": list(c.services),
                        "planned_start": c.planned_start,
                        "incidents": [f"INC-{i}" for i in c.incidents],
                    }
                    for c in found.unsuccessful
                ],
            }
        )  # fmt: skip
        return 0
    what = args.service or "all services"
    emit_line(f"{what}, planned to start {span.said()}")
    emit_table(
        ["measure", "value"],
        [
            ["changes", f"{found.total:,} ({found.previous_total:,} before)"],
            *([f"  {kind}", f"{n:,}"] for kind, n in found.by_type),
            ["finished", f"{found.finished:,}"],
            ["success rate", f"{fmt.share(found.success_rate)} of finished"],
            ["failed", f"{found.failed:,}"],
            ["rolled back", f"{found.rolled_back:,}"],
            ["emergency ratio", fmt.share(found.emergency_ratio)],
            ["linked to incidents", f"{found.linked_to_incidents:,}"],
        ],
    )
    if found.unsuccessful:
        emit_line("failed and rolled back:")
        emit_table(
            ["change", "outcome", "incidents", "title"],
            [
                [
                    c.key, c.outcome.replace("_", " "),
                    ", ".join(f"INC-{i}" for i in c.incidents) or "—", c.title,
                ]
                for c in found.unsuccessful
            ],
        )  # fmt: skip
    return 0


async def vendors_availability(args: argparse.Namespace) -> int:
    """`vendors availability`: each vendor's availability against its contract."""
    from opsdesk.console.ops.review_figures import vendor_reviews

    at = now()
    session = await open_session(options_from(args), create=False)
    try:
        config = session.config
        span = window("vendors availability", args, config, at)
        start, end = span.start, span.end
        today: date = at.astimezone(ZoneInfo(team_zone(config))).date()
        found = await vendor_reviews(session.store, config, start, min(end, at), end, today, {})
    finally:
        await session.close()
    if args.json:
        emit_json(
            {
                "from": start,
                "to": end,
                "timezone": span.zone,
                "vendors": [
                    {
                        "vendor": v.vendor, "availability": v.availability,
                        "contracted": v.contracted, "met": v.met,
                        "downtime_s": _seconds(v.downtime), "services": list(v.services),
                    }
                    for v in found
                ],
            }
        )  # fmt: skip
        return 0
    emit_line(span.said().partition(", compared with")[0])
    emit_table(
        ["vendor", "availability", "contracted", "met", "downtime", "services"],
        [
            [
                v.vendor, fmt.share(v.availability, 3), fmt.share(v.contracted, 2),
                "—" if v.met is None else ("yes" if v.met else "NO"),
                fmt.duration(v.downtime) if v.downtime else "—", ", ".join(v.services) or "—",
            ]
            for v in found
        ],
    )  # fmt: skip
    return 0
