"""Figures of the service review for any period, one section at a time, for the commands
that ask for just one: `incident metrics --from/--to --service`, `change stats` and
`vendors availability`. The same queries and rules as the review itself
(console/ops/service_review.py), so a figure here and in the review never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from opsdesk.console.config.model import Config
from opsdesk.console.domain import review_resources as resources
from opsdesk.console.domain import review_rules as rules
from opsdesk.console.domain.service_review import (
    Attainment,
    Changes,
    PriorityTimes,
    Satisfaction,
    VendorReview,
    Volume,
)
from opsdesk.store import Store
from opsdesk.store.review_records import ChangeRow


@dataclass(frozen=True)
class IncidentFigures:
    """Incident figures over [start, end), for one service or all (`service` None)."""

    start: datetime
    end: datetime
    service: str | None
    opened: tuple[Volume, ...]  # per priority (previous: the same length just before)
    resolved: int
    times: tuple[PriorityTimes, ...]  # P1..P4, then "all"
    attainment: Attainment  # of incidents resolved in the period
    by_priority: tuple[Attainment, ...]
    satisfaction: Satisfaction


async def incident_figures(
    store: Store,
    config: Config,
    start: datetime,
    end: datetime,
    service: str | None,
    before: datetime | None = None,
    before_end: datetime | None = None,
) -> IncidentFigures:
    """`before`: where the period compared with starts (it ends at `before_end`, by
    default `start`); by default the same length just before, as the review compares a
    `--from`/`--to` of instants."""
    q = store.review
    before = start - (end - start) if before is None else before
    mine = (lambda name: name == service) if service else (lambda name: True)
    opened = [r for r in await q.opened(start, end) if mine(r[0])]
    previous = [r for r in await q.opened(before, before_end or start) if mine(r[0])]
    outcomes = [r for r in await q.outcomes(start, end) if mine(r.service)]
    durations = [r for r in await q.durations(start, end) if mine(r[1])]

    def per_priority(rows: list[tuple[str, str, int]]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for _service, priority, count in rows:
            totals[priority] = totals.get(priority, 0) + count
        return totals

    now_counts, before_counts = per_priority(opened), per_priority(previous)
    everything = Volume("all", sum(now_counts.values()), sum(before_counts.values()))
    volumes = (*rules.volumes(rules.PRIORITIES, now_counts, before_counts), everything)
    targets = rules.targets(config, service) if service else None
    agreed = targets[0] if targets else config.service_review.sla_target / 100
    csat = targets[2] if targets else config.service_review.csat_target
    return IncidentFigures(
        start=start,
        end=end,
        service=service,
        opened=volumes,
        resolved=sum(r.resolved for r in outcomes),
        times=rules.priority_times(durations),
        attainment=rules.attainment(service or "all", outcomes, agreed),
        by_priority=tuple(
            rules.attainment(p, [r for r in outcomes if r.priority == p], agreed)
            for p in rules.PRIORITIES
        ),
        satisfaction=rules.satisfaction(service or "all", outcomes, csat),
    )


async def change_figures(
    store: Store,
    start: datetime,
    end: datetime,
    service: str | None,
    before: datetime | None = None,
    before_end: datetime | None = None,
) -> Changes:
    """Changes planned to start in [start, end) (touching `service`, when given), against
    [before, before_end) (by default the same length just before, up to `start`)."""
    q = store.review

    def mine(rows: list[ChangeRow]) -> list[ChangeRow]:
        return [r for r in rows if service is None or service in r.change.services]

    before = start - (end - start) if before is None else before
    earlier = mine(await q.changes(before, before_end or start))
    return resources.changes(mine(await q.changes(start, end)), len(earlier))


async def vendor_reviews(
    store: Store,
    config: Config,
    start: datetime,
    until: datetime,
    end: datetime,
    today: date,
    opened_by_service: dict[str, int],
) -> tuple[VendorReview, ...]:
    """Each configured vendor over [start, until) (`until`: the period's end or now):
    availability from its status sources against the contract, the services depending on
    it and their incidents, spend over [start, end), and a renewal coming up."""
    rows = []
    for vendor in config.vendors:
        histories = [
            await store.statuses.history(source.name, start)
            for source in config.sources
            if source.vendor == vendor.name
        ]
        share, down = resources.vendor_availability(histories, start, until)
        contract = vendor.contract
        contracted = (
            None
            if contract is None or contract.availability is None
            else round(contract.availability / 100, 10)
        )
        dependent = tuple(s.name for s in config.services if vendor.name in s.vendors)
        rows.append(
            VendorReview(
                vendor=vendor.name,
                availability=share,
                contracted=contracted,
                met=None if share is None or contracted is None else share >= contracted,
                downtime=down,
                services=dependent,
                incidents=sum(opened_by_service.get(s, 0) for s in dependent),
                spend=None if contract is None else resources.spend(contract, start, end),
                renewal=None if contract is None else resources.renewal(contract, today),
            )
        )
    return tuple(rows)
