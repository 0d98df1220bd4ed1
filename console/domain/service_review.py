"""The monthly service review: every figure the IT service manager reports, as one model.

A review covers one `Period` (instants [start, end) in the team's time zone, with the
previous period it is compared against) and holds the nine sections of an ITIL service
review, in the order the report shows them:

1. `rag`          red/amber/green per service against its targets (`[review]` in config);
2. `service_levels` SLA attainment per service and priority, agreed against achieved, and
                  every breach with why (which clock, how late, hold time that paused it);
3. `incidents`    volume by service and priority with the trend against the previous
                  period, MTTA/MTTR (median, p90) per priority, recurring and major ones;
4. `customers`    CSAT average, distribution and response rate per service;
5. `team`         on-call and off-hours hours per person, incidents handled, pages out of
                  hours, and how evenly the load fell;
6. `changes`      counts by type and outcome, success rate, emergency ratio, links;
7. `vendors`      availability against contract, dependent incidents, spend annualised
                  against budget, renewals and notice deadlines in the next 90 days;
8. `outage_cost`  downtime minutes per service times the configured cost per hour;
9. `improvement`  open and overdue action items and problems.

Everything here is plain frozen data: the console's Review screen, the CLI's text,
Markdown and JSON and the HTML report render this one model, so a figure is computed once
(console/ops/service_review.py gathers the records, the functions of this package decide).
Durations are `timedelta`, shares are fractions in [0, 1] (None: nothing to measure),
instants are aware UTC datetimes. Names are stable: fields are added, never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Rag = Literal["green", "amber", "red", "none"]  # none: nothing measured in the period
Clock = Literal["respond", "resolve"]


@dataclass(frozen=True)
class Period:
    """What a review covers: [start, end) as UTC instants, named in the team's zone.
    `previous` is the period it is compared with: the month before for a calendar month,
    otherwise the same length just before `start`."""

    start: datetime
    end: datetime
    label: str  # "November 2026", or "2026-11-03 to 2026-11-16"
    timezone: str  # the team's zone the dates were read in
    previous: Period | None = None

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


# 1. RAG summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One figure judged against its target: `status` says how it fared."""

    name: str  # "SLA attainment", "MTTR median", "CSAT"
    value: float | None  # share, seconds or score (None: nothing to measure)
    target: float
    status: Rag
    higher_is_better: bool = True


@dataclass(frozen=True)
class ServiceRag:
    """A service's overall status: the worst of its measures (red beats amber beats green;
    `none` only when nothing was measured at all)."""

    service: str
    status: Rag
    measures: tuple[Measure, ...]
    reasons: tuple[str, ...]  # one line per measure off target, for people


# 2. Service levels ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attainment:
    """SLA attainment for one service or priority: of the clocks judged in the period
    (respond clocks of incidents answered in it, resolve clocks of those resolved in it),
    how many met their target; `agreed` is the attainment target, `achieved` the share."""

    name: str  # a service or a priority
    respond_judged: int
    respond_met: int
    resolve_judged: int
    resolve_met: int
    agreed: float  # the attainment target (a share)
    achieved: float | None  # met / judged, per incident (None: nothing judged)
    respond_target: timedelta | None = None  # per priority: the agreed times
    resolve_target: timedelta | None = None
    judged: int = 0  # incidents resolved with an SLA outcome (as `incident metrics` counts)
    met: int = 0  # of those, with every clock met: achieved = met / judged


@dataclass(frozen=True)
class Breach:
    """One clock that missed its target: how late (counted time over target, in the
    clock's calendar), and the hold time that paused the resolve clock meanwhile."""

    incident_id: int
    key: str  # INC-n
    title: str  # untrusted: render literally
    service: str
    priority: str
    clock: Clock
    target: timedelta
    elapsed: timedelta  # counted time (business hours when the policy has a calendar)
    late_by: timedelta
    held: timedelta  # real time on hold, not counted by the resolve clock
    calendar: str  # "24x7" or the `[sla.calendars]` name
    due: datetime | None  # when the clock ran out
    resolved_at: datetime | None  # None: still open at the end of the period
    reason: str  # one line: "resolve 2h10m late (held 3h00m: vendor)"


@dataclass(frozen=True)
class ServiceLevels:
    target: float  # the overall attainment target
    overall: Attainment
    by_service: tuple[Attainment, ...]
    by_priority: tuple[Attainment, ...]
    breaches: tuple[Breach, ...]  # by lateness, worst first
    breaches_total: int  # may exceed len(breaches) when the list is capped
    open_breached: int = 0  # opened before the end, unresolved at it, already past a due time


# 3. Incidents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    """Incidents opened in the period for one service or priority, against the previous."""

    name: str
    count: int
    previous: int

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None: nothing before)."""
        return None if not self.previous else (self.count - self.previous) / self.previous


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of durations, and how many there were."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    mean: timedelta | None = None


@dataclass(frozen=True)
class PriorityTimes:
    """MTTA (created to acknowledged, incidents created in the period) and MTTR (created
    to resolved, incidents resolved in the period), in real time."""

    priority: str
    mtta: Spread
    mttr: Spread


@dataclass(frozen=True)
class Recurring:
    """Incidents of one service with the same title, opened in the period."""

    service: str
    title: str  # untrusted
    count: int
    last_id: int


@dataclass(frozen=True)
class MajorIncident:
    """A P1 opened in the period, with its post-incident review (if any)."""

    incident_id: int
    key: str
    title: str  # untrusted
    service: str
    state: str
    created_at: datetime
    resolved_at: datetime | None
    duration: timedelta | None  # created to resolved
    review_state: str | None  # None: no review written
    review_summary: str  # untrusted; "" when none
    review_accepted_at: datetime | None


@dataclass(frozen=True)
class Incidents:
    total: int
    previous_total: int
    by_service: tuple[Volume, ...]
    by_priority: tuple[Volume, ...]
    times: tuple[PriorityTimes, ...]  # P1..P4, then "all"
    recurring: tuple[Recurring, ...]  # most frequent first, at most ten
    major: tuple[MajorIncident, ...]
    resolved: int
    open_at_end: int  # opened before the end and not resolved by it
    # Incidents opened on each local day of the period, in the team's zone (a day on
    # which clocks change is 23 or 25 hours long); they add up to `total`. A period not
    # over yet stops at today (so far): days still to come are not zeros.
    per_day: tuple[int, ...] = ()


# 4. Customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Satisfaction:
    """CSAT (1 to 5) on incidents resolved in the period, for one service (or "all")."""

    service: str
    average: float | None
    responses: int
    resolved: int
    response_rate: float | None  # responses / resolved
    distribution: tuple[int, int, int, int, int]  # how many scored 1, 2, 3, 4, 5
    target: float


# 5. The team ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonLoad:
    """One person's share of the period: hours on call (from the rotations, overrides
    included), the part outside business hours, incidents they resolved, pages received."""

    login: str
    name: str
    oncall_hours: float
    off_hours: float
    incidents_handled: int
    pages: int
    pages_out_of_hours: int
    share: float | None  # of all on-call hours


@dataclass(frozen=True)
class Team:
    people: tuple[PersonLoad, ...]
    total_oncall_hours: float
    balance: float | None  # most-loaded hours over the mean (1.0 = even; None: no one on call)
    pages_total: int
    pages_out_of_hours: int
    paging_log: bool  # False: the store holds no pages for the period (paging not in use)


# 6. Changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeOutcome:
    """A change that failed or was rolled back, for the list under the figures."""

    change_id: int
    key: str
    title: str  # untrusted
    type: str
    state: str
    outcome: Literal["failed", "rolled_back"]
    services: tuple[str, ...]
    planned_start: datetime
    incidents: tuple[int, ...]  # linked incident ids


@dataclass(frozen=True)
class Changes:
    """Changes planned to start in the period."""

    total: int
    previous_total: int
    by_type: tuple[tuple[str, int], ...]  # (standard|normal|emergency, count)
    finished: int  # completed, failed, rolled back (or closed after one of those)
    succeeded: int
    failed: int
    rolled_back: int
    success_rate: float | None  # succeeded / finished
    emergency_ratio: float | None  # emergency / total
    linked_to_incidents: int
    unsuccessful: tuple[ChangeOutcome, ...]


# 7. Vendors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """A contract's cost as written and annualised (monthly x 12), the period's share of a
    year, and the optional yearly budget."""

    cost: float
    period: str  # monthly | yearly
    currency: str
    annual: float
    in_period: float  # annual x period length / 365 days
    budget: float | None
    over_budget: float | None  # annual - budget when positive, else 0 (None: no budget)


@dataclass(frozen=True)
class Renewal:
    """A contract renewing soon: the notice deadline is renewal minus notice."""

    renewal: date
    notice_deadline: date
    days_to_renewal: int
    days_to_notice: int  # negative: the deadline has passed


@dataclass(frozen=True)
class VendorReview:
    vendor: str
    availability: float | None  # over the period, from its status sources (None: unknown)
    contracted: float | None  # from `[vendors.contract] availability`
    met: bool | None
    downtime: timedelta  # time in partial or major outage
    services: tuple[str, ...]  # services that depend on it
    incidents: int  # opened in the period on those services
    spend: Spend | None
    renewal: Renewal | None  # set when renewal or notice falls in the next 90 days


@dataclass(frozen=True)
class Vendors:
    vendors: tuple[VendorReview, ...]
    annual_spend: tuple[tuple[str, float], ...]  # per currency
    renewals_due: int


# 8. What outages cost ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutageCost:
    """Downtime of a service: the union of its outage incidents (`[review]
    outage_priorities`) clipped to the period, times the service's cost per hour."""

    service: str
    downtime_minutes: float
    incidents: int
    cost_per_hour: float | None
    cost: float | None
    currency: str


@dataclass(frozen=True)
class OutageCosts:
    services: tuple[OutageCost, ...]
    total_minutes: float
    total_cost: float | None
    currency: str


# 9. Improvement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSummary:
    action_id: int
    key: str
    title: str  # untrusted
    owner: str
    due: date | None
    overdue: bool


@dataclass(frozen=True)
class ProblemSummary:
    problem_id: int
    key: str
    title: str  # untrusted
    state: str
    services: tuple[str, ...]
    incidents: int
    age_days: int


@dataclass(frozen=True)
class Improvement:
    actions_open: int
    actions_overdue: int
    actions_done_in_period: int
    actions: tuple[ActionSummary, ...]  # open ones, overdue first
    problems_open: int
    problems_opened_in_period: int
    problems_resolved_in_period: int
    problems: tuple[ProblemSummary, ...]  # open ones, most incidents first
    reviews_overdue: int


# The review -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceReview:
    period: Period
    generated_at: datetime
    services: tuple[str, ...]  # the services reviewed (config order, then any from the store)
    rag: tuple[ServiceRag, ...]
    service_levels: ServiceLevels
    incidents: Incidents
    customers: tuple[Satisfaction, ...]  # per service, then "all"
    team: Team
    changes: Changes
    vendors: Vendors
    outage_cost: OutageCosts
    improvement: Improvement
