"""The service review's figures about the team and what it runs on: on-call load and
pages (section 5), changes (6), vendors (7), what outages cost (8) and improvement work
(9). Pure functions of rows the store returns, the config and `now`, beside
review_rules.py (sections 1 to 4); they call the rules that exist for business hours
(`business_time`), vendor availability (`availability`) and overdue action items
(`problem_rules`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise

from opsdesk.console.config.model import BusinessCalendar, Config, Contract
from opsdesk.console.domain import business_time
from opsdesk.console.domain.availability import DOWN, availability
from opsdesk.console.domain.problem_rules import action_overdue
from opsdesk.console.domain.rotations import Shift
from opsdesk.console.domain.service_review import (
    ActionSummary,
    ChangeOutcome,
    Changes,
    Improvement,
    OutageCost,
    OutageCosts,
    PersonLoad,
    ProblemSummary,
    Renewal,
    Spend,
    Team,
)
from opsdesk.store.problem_records import ActionItem
from opsdesk.store.problem_records import ProblemSummary as StoredProblem
from opsdesk.store.records import LevelChange
from opsdesk.store.review_records import ChangeRow, PageRow

CHANGE_TYPES = ("standard", "normal", "emergency")
FINISHED = ("completed", "failed", "rolled_back", "closed")
RENEWAL_HORIZON = 90  # days ahead a renewal or notice deadline is flagged
YEAR = timedelta(days=365)


# The team ----------------------------------------------------------------------------------


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching spans joined, in order."""
    result: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def team(
    config: Config,
    shifts: Iterable[Shift],
    calendar: BusinessCalendar,
    handled: dict[str, int],
    pages: Sequence[PageRow],
    paging_used: bool,
) -> Team:
    """Each person's on-call hours (their shifts on every schedule, counted once where
    schedules overlap), the part outside business hours, incidents they resolved and
    pages they received (out of hours: outside the business-hours calendar)."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for shift in shifts:
        if shift.login is not None:
            spans[shift.login].append((shift.start, shift.end))
    hours: dict[str, tuple[float, float]] = {}
    for login, pieces in spans.items():
        on = off = 0.0
        for start, end in _merged(pieces):
            length = (end - start).total_seconds() / 3600
            on += length
            off += length - business_time.elapsed(calendar, start, end).total_seconds() / 3600
        hours[login] = (on, off)
    paged: dict[str, list[PageRow]] = defaultdict(list)
    for page in pages:
        paged[page.login].append(page)
    logins = [p.login for p in config.people]
    for extra in sorted({*hours, *handled, *paged} - set(logins)):
        logins.append(extra)
    total = sum(on for on, _ in hours.values())
    people = []
    for login in logins:
        on, off = hours.get(login, (0.0, 0.0))
        mine = paged.get(login, [])
        person = config.person(login)
        people.append(
            PersonLoad(
                login=login,
                name=person.name if person is not None and person.name else login,
                oncall_hours=round(on, 2),
                off_hours=round(off, 2),
                incidents_handled=handled.get(login, 0),
                pages=len(mine),
                pages_out_of_hours=sum(not business_time.is_working(calendar, p.at) for p in mine),
                share=on / total if total else None,
            )
        )
    loaded = [on for on, _ in hours.values() if on > 0]
    balance = max(loaded) / (sum(loaded) / len(loaded)) if loaded else None
    return Team(
        people=tuple(people),
        total_oncall_hours=round(total, 2),
        balance=balance,
        pages_total=len(pages),
        pages_out_of_hours=sum(p.pages_out_of_hours for p in people),
        paging_log=paging_used,
    )


# Changes -----------------------------------------------------------------------------------


def changes(rows: Sequence[ChangeRow], previous_total: int) -> Changes:
    """Changes planned to start in the period: how many of each type, how they ended. A
    change that failed or was rolled back counts so even once closed."""
    by_type: dict[str, int] = {t: 0 for t in CHANGE_TYPES}
    for row in rows:
        by_type[row.change.type] = by_type.get(row.change.type, 0) + 1
    finished = sum(row.change.state in FINISHED for row in rows)
    failed = sum(row.failed for row in rows)
    rolled_back = sum(row.rolled_back and not row.failed for row in rows)
    succeeded = finished - failed - rolled_back
    total = len(rows)
    unsuccessful = tuple(
        ChangeOutcome(
            change_id=row.change.id,
            key=row.change.key,
            title=row.change.title,
            type=row.change.type,
            state=row.change.state,
            outcome="failed" if row.failed else "rolled_back",
            services=row.change.services,
            planned_start=row.change.planned_start,
            incidents=row.incidents,
        )
        for row in rows
        if row.failed or row.rolled_back
    )
    return Changes(
        total=total,
        previous_total=previous_total,
        by_type=tuple(by_type.items()),
        finished=finished,
        succeeded=succeeded,
        failed=failed,
        rolled_back=rolled_back,
        success_rate=succeeded / finished if finished else None,
        emergency_ratio=by_type.get("emergency", 0) / total if total else None,
        linked_to_incidents=sum(bool(row.incidents) for row in rows),
        unsuccessful=unsuccessful,
    )


# Vendors -----------------------------------------------------------------------------------


def spend(contract: Contract, start: datetime, end: datetime) -> Spend:
    """The contract's cost annualised (a monthly cost times twelve) and the period's
    share of a year of it, against the optional yearly budget."""
    annual = contract.cost * 12 if contract.period == "monthly" else contract.cost
    over = None if contract.budget is None else max(annual - contract.budget, 0.0)
    return Spend(
        cost=contract.cost,
        period=contract.period,
        currency=contract.currency,
        annual=annual,
        in_period=annual * ((end - start) / YEAR),
        budget=contract.budget,
        over_budget=over,
    )


def renewal(contract: Contract, today: date) -> Renewal | None:
    """The renewal and its notice deadline (renewal minus notice), when either falls in
    the next 90 days or has passed without the renewal date being moved on."""
    deadline = contract.renewal - timedelta(days=contract.notice.days)
    to_renewal = (contract.renewal - today).days
    to_notice = (deadline - today).days
    if to_notice > RENEWAL_HORIZON:  # the deadline comes first: both are further off
        return None
    return Renewal(contract.renewal, deadline, to_renewal, to_notice)


def downtime(changes: Sequence[LevelChange], since: datetime, until: datetime) -> timedelta:
    """Time in [since, until) spent in an outage level (what `availability` counts as
    down), given level changes with the one in force at `since` first."""
    points = [
        (max(c.at, since), c.level) for c in sorted(changes, key=lambda c: c.at) if c.at < until
    ]
    down = timedelta(0)
    for (start, level), (end, _) in pairwise([*points, (until, "")]):
        if level in DOWN and end > start:
            down += end - start
    return down


def vendor_availability(
    histories: Sequence[Sequence[LevelChange]], since: datetime, until: datetime
) -> tuple[float | None, timedelta]:
    """The vendor's availability over [since, until): its worst source's (a vendor with
    several status sources is as available as the least available), and that downtime."""
    best: tuple[float | None, timedelta] = (None, timedelta(0))
    for history in histories:
        before = [c for c in history if c.at < until]
        share = availability(before, since, until)
        if share is None:
            continue
        if best[0] is None or share < best[0]:
            best = (share, downtime(before, since, until))
    return best


# What outages cost -------------------------------------------------------------------------


def outage_costs(
    config: Config,
    outages: Sequence[tuple[str, datetime, datetime | None]],
    start: datetime,
    end: datetime,
) -> OutageCosts:
    """Downtime per service: its outage incidents' spans clipped to [start, end) and
    joined where they overlap, times the service's cost per hour when configured.
    `end` is the period's end or now, whichever is first (an open outage runs to it)."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for service, opened, resolved in outages:
        begin, finish = max(opened, start), min(resolved or end, end)
        if finish > begin:
            spans[service].append((begin, finish))
            counts[service] += 1
    currency = config.service_review.currency
    names = [s.name for s in config.services]
    names += sorted(set(spans) - set(names))
    rows = []
    for name in names:
        minutes = sum((b - a).total_seconds() for a, b in _merged(spans.get(name, []))) / 60
        own = config.service(name)
        rate = own.cost_per_hour if own is not None else None
        if not minutes and rate is None:
            continue
        cost = None if rate is None else round(minutes / 60 * rate, 2)
        rows.append(OutageCost(name, round(minutes, 2), counts.get(name, 0), rate, cost, currency))
    costs = [r.cost for r in rows if r.cost is not None]
    return OutageCosts(
        services=tuple(rows),
        total_minutes=round(sum(r.downtime_minutes for r in rows), 2),
        total_cost=round(sum(costs), 2) if costs else None,
        currency=currency,
    )


# Improvement -------------------------------------------------------------------------------

OPEN_PROBLEM_STATES = ("new", "under_investigation", "root_cause_known", "known_error")


def improvement(
    actions: Sequence[ActionItem],
    problems: Sequence[StoredProblem],
    reviews_overdue: int,
    start: datetime,
    end: datetime,
    now: datetime,
    zone: str,
) -> Improvement:
    """Open action items (overdue first, then by due date) and open problems (most
    incidents first), with what was finished and opened in the period."""
    open_items = [a for a in actions if a.state == "open"]
    summaries = sorted(
        (
            ActionSummary(a.id, a.key, a.title, a.owner, a.due, action_overdue(a, now, zone))
            for a in open_items
        ),
        key=lambda a: (not a.overdue, a.due is None, a.due or date.max, a.action_id),
    )
    open_problems = [p for p in problems if p.problem.state in OPEN_PROBLEM_STATES]
    listed = sorted(
        (
            ProblemSummary(
                problem_id=p.problem.id,
                key=p.problem.key,
                title=p.problem.title,
                state=p.problem.state,
                services=p.problem.services,
                incidents=p.incidents,
                age_days=max((now - p.problem.created_at).days, 0),
            )
            for p in open_problems
        ),
        key=lambda p: (-p.incidents, p.problem_id),
    )
    return Improvement(
        actions_open=len(open_items),
        actions_overdue=sum(a.overdue for a in summaries),
        actions_done_in_period=sum(
            a.done_at is not None and start <= a.done_at < end for a in actions
        ),
        actions=tuple(summaries),
        problems_open=len(open_problems),
        problems_opened_in_period=sum(start <= p.problem.created_at < end for p in problems),
        problems_resolved_in_period=sum(
            p.problem.resolved_at is not None and start <= p.problem.resolved_at < end
            for p in problems
        ),
        problems=tuple(listed),
        reviews_overdue=reviews_overdue,
    )
