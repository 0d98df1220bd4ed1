"""The rules that turn the period's records into the service review's figures about
service: the red/amber/green summary (section 1), service levels (2), incidents (3) and
customers (4); the team, changes, vendors, outage cost and improvement are in
review_resources.py.

Pure functions of rows the store returns and the config; no I/O, so each figure is tested
with records built by hand. They lean on the rules that already exist rather than
restating them: SLA clocks (`sla`, whose clocks explain each breach) and duration spreads
(`metrics.spread`).

Red, amber, green: a figure that meets its target is green; one that misses it by no more
than `[service_review] amber_margin` percent of the target is amber; beyond, red. A
service's status is its worst figure; a service with nothing measured is `none`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import Config
from opsdesk.console.domain.metrics import spread
from opsdesk.console.domain.review_format import duration, measure_line
from opsdesk.console.domain.service_review import (
    Attainment,
    Breach,
    Measure,
    Period,
    PriorityTimes,
    Rag,
    Satisfaction,
    ServiceRag,
    Spread,
    Volume,
)
from opsdesk.console.domain.sla import Clock, StateChange
from opsdesk.store.records import Durations, Incident
from opsdesk.store.review_records import OutcomeRow

PRIORITIES = ("P1", "P2", "P3", "P4")
_RANK: dict[Rag, int] = {"none": 0, "green": 1, "amber": 2, "red": 3}


# Targets and RAG ---------------------------------------------------------------------------


def targets(config: Config, service: str) -> tuple[float, timedelta, float]:
    """(SLA attainment as a share, MTTR median, CSAT) a service is judged against: its own
    where set, else `[service_review]`'s."""
    review = config.service_review
    own = config.service(service)
    sla = own.sla_target if own is not None and own.sla_target is not None else review.sla_target
    mttr = own.mttr_target if own is not None and own.mttr_target else review.mttr_target
    csat = (
        own.csat_target if own is not None and own.csat_target is not None else review.csat_target
    )
    return sla / 100, mttr, csat


def judge(
    name: str, value: float | None, target: float, margin: float, higher_is_better: bool = True
) -> Measure:
    """Green on target, amber within `margin` percent of the target, red beyond."""
    if value is None:
        return Measure(name, None, target, "none", higher_is_better)
    slack = target * margin / 100
    if higher_is_better:
        status: Rag = "green" if value >= target else "amber" if value >= target - slack else "red"
    else:
        status = "green" if value <= target else "amber" if value <= target + slack else "red"
    return Measure(name, value, target, status, higher_is_better)


def worst(statuses: Iterable[Rag]) -> Rag:
    return max(statuses, key=_RANK.__getitem__, default="none")


def service_rag(
    config: Config,
    service: str,
    attained: float | None,
    mttr_median: timedelta | None,
    csat: float | None,
) -> ServiceRag:
    """A service's RAG status against its targets, with a line per figure off target."""
    sla, mttr, csat_target = targets(config, service)
    margin = config.service_review.amber_margin
    measures = (
        judge("SLA attainment", attained, sla, margin),
        judge(
            "MTTR median",
            None if mttr_median is None else mttr_median.total_seconds(),
            mttr.total_seconds(),
            margin,
            higher_is_better=False,
        ),
        judge("CSAT", csat, csat_target, margin),
    )
    reasons = tuple(measure_line(m) for m in measures if m.status in ("amber", "red"))
    return ServiceRag(service, worst(m.status for m in measures), measures, reasons)


# Service levels ----------------------------------------------------------------------------


def attainment(
    name: str,
    rows: Iterable[OutcomeRow],
    agreed: float,
    respond_target: timedelta | None = None,
    resolve_target: timedelta | None = None,
) -> Attainment:
    """Attainment over these outcome rows: per incident, every clock met (as `incident
    metrics` counts it), with the respond and resolve clocks also counted apart."""
    rows = list(rows)
    judged = sum(r.judged for r in rows)
    met = sum(r.met for r in rows)
    return Attainment(
        name=name,
        respond_judged=sum(r.respond_judged for r in rows),
        respond_met=sum(r.respond_met for r in rows),
        resolve_judged=sum(r.resolve_judged for r in rows),
        resolve_met=sum(r.resolve_met for r in rows),
        agreed=agreed,
        achieved=met / judged if judged else None,
        respond_target=respond_target,
        resolve_target=resolve_target,
        judged=judged,
        met=met,
    )


def held_time(history: Sequence[StateChange], until: datetime) -> tuple[timedelta, tuple[str, ...]]:
    """Real time spent on hold before `until`, and the reasons given for the holds."""
    held = timedelta(0)
    reasons: list[str] = []
    for index, change in enumerate(history):
        if change.state != "on_hold":
            continue
        end = history[index + 1].at if index + 1 < len(history) else until
        held += max(min(end, until) - change.at, timedelta(0))
        reason = change.detail.replace("_", " ")
        if reason and reason not in reasons:
            reasons.append(reason)
    return held, tuple(reasons)


def breaches(
    incident: Incident,
    history: Sequence[StateChange],
    respond: Clock,
    resolve: Clock,
    calendar: str,
) -> list[Breach]:
    """The clocks of a resolved incident that the store recorded as missed (what the
    attainment counts), each explained by its clock: how late in counted time, and the
    hold time that paused it. (Had the policy changed since, a clock may now show no
    lateness; it is still listed, as it was missed when it stopped.)"""
    found = []
    until = incident.resolved_at or history[-1].at
    for clock, stored in ((respond, incident.response_met), (resolve, incident.resolve_met)):
        if stored is not False:
            continue
        late = max(clock.elapsed - clock.target, timedelta(0))
        held, reasons = held_time(history, until) if clock.name == "resolve" else (timedelta(0), ())
        why = (
            f"{clock.name} {duration(late)} late"
            f" ({duration(clock.elapsed)} against {duration(clock.target)}"
        )
        why += f", {calendar})" if calendar != "24x7" else ")"
        if held:
            why += f"; held {duration(held)}" + (f": {', '.join(reasons)}" if reasons else "")
        found.append(
            Breach(
                incident_id=incident.id,
                key=incident.key,
                title=incident.title,
                service=incident.service,
                priority=incident.priority,
                clock=clock.name,
                target=clock.target,
                elapsed=clock.elapsed,
                late_by=late,
                held=held,
                calendar=calendar,
                due=clock.due,
                resolved_at=incident.resolved_at,
                reason=why,
            )
        )
    return found


# Incidents ---------------------------------------------------------------------------------


def day_bounds(period: Period, until: datetime | None = None) -> tuple[datetime, ...]:
    """The local midnights that cut `period` into days in its zone, as UTC instants: the
    period's start, each midnight inside it, and its end (so a month of 30 days gives 31
    bounds). Midnight is found by the zone's rules for each date, so the day clocks go
    back is 25 hours long and the day they go forward 23; a period starting or ending
    inside a day gives that day only its part. With `until` (now) inside the period, the
    days stop there: a month not over has no days yet to come (which would read as days
    without incidents)."""
    end = period.end if until is None else max(min(period.end, until), period.start)
    if end <= period.start:
        return ()
    zone = ZoneInfo(period.timezone)
    bounds = [period.start]
    day = period.start.astimezone(zone).date() + timedelta(days=1)
    while True:
        midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
        if midnight >= end:
            break
        if midnight > bounds[-1]:
            bounds.append(midnight)
        day += timedelta(days=1)
    bounds.append(end)
    return tuple(bounds)


def volumes(
    names: Sequence[str], current: dict[str, int], previous: dict[str, int]
) -> tuple[Volume, ...]:
    return tuple(Volume(n, current.get(n, 0), previous.get(n, 0)) for n in names)


DurationRow = tuple[str, str, str, int, int, float]
"""(kind "ack" | "resolve", service, priority, minute, count, seconds): a histogram bucket."""


def histograms(rows: Iterable[DurationRow], by: str) -> dict[tuple[str, str | None], Durations]:
    """Merge buckets into one histogram per (kind, priority) or (kind, service) (`by`),
    plus (kind, None) for all of them, in one pass over the rows."""
    merged: dict[tuple[str, str | None], dict[int, list[float]]] = {}
    for row in rows:
        kind, service, priority, minute, count, total = row
        group: str = priority if by == "priority" else service
        for key in ((kind, group), (kind, None)):
            slot = merged.setdefault(key, {}).get(minute)
            if slot is None:
                merged[key][minute] = [count, total]
            else:
                slot[0] += count
                slot[1] += total
    return {
        key: Durations(tuple((int(n), t) for _, (n, t) in sorted(buckets.items())))
        for key, buckets in merged.items()
    }


def to_spread(durations: Durations | None) -> Spread:
    figures = spread(durations or Durations())
    return Spread(figures.count, figures.median, figures.p90, figures.mean)


def priority_times(rows: Sequence[DurationRow]) -> tuple[PriorityTimes, ...]:
    """MTTA and MTTR per priority and for all."""
    found = histograms(rows, "priority")
    return tuple(
        PriorityTimes(
            p or "all", to_spread(found.get(("ack", p))), to_spread(found.get(("resolve", p)))
        )
        for p in (*PRIORITIES, None)
    )


def service_mttr(rows: Sequence[DurationRow]) -> dict[str, Spread]:
    """MTTR per service (resolve histograms only)."""
    found = histograms((r for r in rows if r[0] == "resolve"), "service")
    return {service: to_spread(d) for (_, service), d in found.items() if service is not None}


# Customers ---------------------------------------------------------------------------------


def satisfaction(name: str, rows: Iterable[OutcomeRow], target: float) -> Satisfaction:
    """CSAT of incidents resolved in the period: average, responses per score, and the
    share of resolved incidents that got a score."""
    counts = [0, 0, 0, 0, 0]
    resolved = 0
    for row in rows:
        resolved += row.resolved
        if row.csat is not None and 1 <= row.csat <= 5:
            counts[row.csat - 1] += row.resolved
    responses = sum(counts)
    total = sum(score * n for score, n in enumerate(counts, start=1))
    return Satisfaction(
        service=name,
        average=total / responses if responses else None,
        responses=responses,
        resolved=resolved,
        response_rate=responses / resolved if resolved else None,
        distribution=(counts[0], counts[1], counts[2], counts[3], counts[4]),
        target=target,
    )
