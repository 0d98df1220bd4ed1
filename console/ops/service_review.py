"""Build the monthly service review: read the period from the store, let the domain rules
decide every figure, return one `ServiceReview` that the CLI (text, Markdown, JSON), the
HTML report and the console's Review screen all render.

The store answers with grouped counts (store/review_queries.py); only the incidents the
review lists one by one are read as records, and only the breached ones have their
timelines read, to explain each breach with the SLA rules themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import Config
from opsdesk.console.domain import review_resources as resources
from opsdesk.console.domain import review_rules as rules
from opsdesk.console.domain.problem_rules import review_status
from opsdesk.console.domain.review_period import business_hours, so_far, team_zone
from opsdesk.console.domain.rotations import final_rota
from opsdesk.console.domain.service_review import (
    Breach,
    Incidents,
    MajorIncident,
    Period,
    Recurring,
    ServiceLevels,
    ServiceReview,
    Vendors,
)
from opsdesk.console.domain.sla import clocks
from opsdesk.console.ops.incidents import history_of
from opsdesk.console.ops.oncall import lookback
from opsdesk.console.ops.review_figures import vendor_reviews
from opsdesk.store import Store
from opsdesk.store.review_records import OutcomeRow

BREACH_LIST = 200  # breaches listed one by one; the count covers them all
EXPLAIN_BATCH = 250  # incidents whose clocks are worked out at a time
ACTION_LIMIT = 5000


def _previous(period: Period) -> Period:
    if period.previous is not None:
        return period.previous
    start = period.start - period.length
    return Period(start, period.start, "previous period", period.timezone)


def _names(config: Config, *seen: Iterable[str]) -> tuple[str, ...]:
    """Services in config order, then any others the store holds for the period."""
    names = [s.name for s in config.services]
    extra = sorted({n for group in seen for n in group} - set(names))
    return (*names, *extra)


async def explain_breaches(
    store: Store, config: Config, start: datetime, end: datetime, now: datetime
) -> tuple[list[Breach], int]:
    """The BREACH_LIST most overdue breaches of incidents resolved in [start, end), explained by
    the SLA clocks, and how many clocks were recorded as missed in all.

    A month of a large store holds thousands of breaches; only the worst are listed, so
    only those have their timelines read. A clock's wall time from its due time to its
    stop bounds how late it was in counted time (holds and closed hours only take time
    away), so incidents are explained in order of that bound until the listed ones are
    later than any bound left."""
    q = store.review
    bounds: dict[int, float] = {}
    total = 0
    for incident_id, clocks_missed in await q.breach_bounds(start, end):
        total += len(clocks_missed)
        bounds[incident_id] = max(clocks_missed)
    order = sorted(bounds, key=lambda i: (-bounds[i], i))
    found: list[Breach] = []
    for first in range(0, len(order), EXPLAIN_BATCH):
        batch = order[first : first + EXPLAIN_BATCH]
        timelines = await q.events(batch)
        for incident in await q.incidents(batch):
            if incident.priority not in config.sla.priorities:
                continue
            history = history_of(incident, timelines.get(incident.id, []))
            respond, resolve = clocks(
                config, incident.priority, history, incident.resolved_at or now
            )
            counted_in = config.sla.priorities[incident.priority].calendar
            found += rules.breaches(incident, history, respond, resolve, counted_in)
        found.sort(key=lambda b: (-b.late_by.total_seconds(), b.incident_id, b.clock))
        rest = first + EXPLAIN_BATCH
        if (
            rest < len(order)
            and len(found) >= BREACH_LIST
            and found[BREACH_LIST - 1].late_by.total_seconds() > bounds[order[rest]]
        ):
            break
    return found[:BREACH_LIST], total


async def build_review(
    store: Store, config: Config, period: Period, now: datetime
) -> ServiceReview:
    """Every figure of the review of `period`, as known at `now` (a period reaching past
    `now` counts on-call time, outages and availability up to `now`)."""
    q = store.review
    period = so_far(period, now)  # part of a month against as much of the one before
    previous = _previous(period)
    start, end = period.start, period.end
    until = min(end, now)
    opened = await q.opened(start, end)
    opened_before = await q.opened(previous.start, previous.end)
    outcomes = await q.outcomes(start, end)
    durations = await q.durations(start, end)
    services = _names(config, (s for s, _, _ in opened), (r.service for r in outcomes))

    def group(rows: Iterable[OutcomeRow], key: str) -> dict[str, list[OutcomeRow]]:
        grouped: dict[str, list[OutcomeRow]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, key)].append(row)
        return grouped

    by_service = group(outcomes, "service")
    by_priority = group(outcomes, "priority")

    # 2. service levels
    target = config.service_review.sla_target / 100
    breaches, breaches_total = await explain_breaches(store, config, start, end, now)
    levels = ServiceLevels(
        target=target,
        overall=rules.attainment("all", outcomes, target),
        by_service=tuple(
            rules.attainment(s, by_service.get(s, []), rules.targets(config, s)[0])
            for s in services
        ),
        by_priority=tuple(
            rules.attainment(
                p,
                by_priority.get(p, []),
                target,
                getattr(config.sla.priorities.get(p), "respond", None),  # type: ignore[call-overload]
                getattr(config.sla.priorities.get(p), "resolve", None),  # type: ignore[call-overload]
            )
            for p in rules.PRIORITIES
        ),
        breaches=tuple(breaches),
        breaches_total=breaches_total,
        open_breached=await q.open_breached(until),
    )

    # 3. incidents
    def count(rows: list[tuple[str, str, int]], index: int) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for row in rows:
            totals[str(row[index])] += int(row[2])
        return totals

    majors = await q.major(start, end)
    reviews = await store.reviews.for_incidents(i.key for i in majors)
    incidents = Incidents(
        total=sum(n for _, _, n in opened),
        previous_total=sum(n for _, _, n in opened_before),
        by_service=rules.volumes(services, count(opened, 0), count(opened_before, 0)),
        by_priority=rules.volumes(rules.PRIORITIES, count(opened, 1), count(opened_before, 1)),
        times=rules.priority_times(durations),
        recurring=tuple(Recurring(*row) for row in await q.recurring(start, end)),
        major=tuple(
            MajorIncident(
                incident_id=i.id,
                key=i.key,
                title=i.title,
                service=i.service,
                state=i.state,
                created_at=i.created_at,
                resolved_at=i.resolved_at,
                duration=None if i.resolved_at is None else i.resolved_at - i.created_at,
                review_state=review.state if (review := reviews.get(i.key)) else None,
                review_summary=review.summary if review else "",
                review_accepted_at=review.accepted_at if review else None,
            )
            for i in majors
        ),
        resolved=sum(r.resolved for r in outcomes),
        open_at_end=await q.open_at(until),
        per_day=tuple(await q.opened_between(rules.day_bounds(period, until))),
    )

    # 4. customers
    per_service = [
        rules.satisfaction(s, by_service.get(s, []), rules.targets(config, s)[2]) for s in services
    ]
    everyone = rules.satisfaction("all", outcomes, config.service_review.csat_target)
    customers = (*per_service, everyone)

    # 1. RAG, from the figures above
    mttr = rules.service_mttr(durations)
    rag = tuple(
        rules.service_rag(
            config,
            s,
            next(a.achieved for a in levels.by_service if a.name == s),
            mttr[s].median if s in mttr else None,
            next(c.average for c in customers if c.service == s),
        )
        for s in services
    )

    # 5. the team
    calendar = business_hours(config)
    overrides = await store.overrides.not_ended(start - lookback(config.schedules))
    shifts = [
        shift
        for schedule in config.schedules
        for shift in (final_rota(schedule, overrides, start, until) if until > start else [])
    ]
    handled: dict[str, int] = defaultdict(int)
    for row in outcomes:
        if row.assignee:
            handled[row.assignee] += row.resolved
    team = resources.team(
        config, shifts, calendar, handled, await q.pages(start, end), await q.paging_used()
    )

    # 6. changes
    changes = resources.changes(
        await q.changes(start, end), await q.changes_count(previous.start, previous.end)
    )

    # 7. vendors
    zone = team_zone(config)
    today = now.astimezone(ZoneInfo(zone)).date()
    opened_by_service = count(opened, 0)
    vendor_rows = await vendor_reviews(store, config, start, until, end, today, opened_by_service)
    annual: dict[str, float] = defaultdict(float)
    for reviewed in vendor_rows:
        if reviewed.spend is not None:
            annual[reviewed.spend.currency] += reviewed.spend.annual
    vendors = Vendors(
        vendors=tuple(vendor_rows),
        annual_spend=tuple(sorted(annual.items())),
        renewals_due=sum(r.renewal is not None for r in vendor_rows),
    )

    # 8. outage cost
    outage = resources.outage_costs(
        config,
        await q.outages(start, until, config.service_review.outage_priorities),
        start,
        until,
    )

    # 9. improvement
    awaiting = await store.reviews.awaiting(config.reviews.required_for)
    owed = await store.reviews.for_incidents(i.key for i in awaiting)
    overdue = sum(
        review_status(i, owed.get(i.key), config, now).state == "overdue" for i in awaiting
    )
    improvement = resources.improvement(
        await store.actions.find(states=None, limit=ACTION_LIMIT),
        await store.problems.find(None, limit=ACTION_LIMIT),
        overdue,
        start,
        end,
        now,
        zone,
    )
    return ServiceReview(
        period=replace(period, previous=previous),
        generated_at=now,
        services=services,
        rag=rag,
        service_levels=levels,
        incidents=incidents,
        customers=customers,
        team=team,
        changes=changes,
        vendors=vendors,
        outage_cost=outage,
        improvement=improvement,
    )
