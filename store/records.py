"""Plain records the store returns. No behaviour beyond small derived properties."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

Role = Literal["admin", "lead", "cab", "engineer"]


@dataclass(frozen=True)
class Actor:
    """Who is acting, and the roles config grants them. Everyone is an engineer."""

    login: str
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({"engineer"}))

    def has(self, role: Role) -> bool:
        """Admins hold every role; leads hold engineer; `cab` is held only when granted."""
        if role == "engineer" or "admin" in self.roles:
            return True
        return role in self.roles


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditBreak:
    """The first audit entry whose stored hash does not match the chain: it was changed or
    inserted outside opsdesk, or (`missing`) the entries before it were deleted."""

    id: int
    at: str  # as stored: ISO-8601 UTC text, unless that was rewritten too
    entity_key: str
    missing: tuple[int, int] | None = None  # (first, last) ids absent just before it


@dataclass(frozen=True)
class AuditCheck:
    """What `opsdesk audit --verify` found: the hash chain walked from the first entry,
    and whether the triggers that refuse UPDATE and DELETE on the audit log are there."""

    entries: int
    guards_intact: bool
    broken: AuditBreak | None
    head_id: int | None  # the newest entry and its hash: worth recording elsewhere
    head_hash: str | None

    @property
    def intact(self) -> bool:
        return self.guards_intact and self.broken is None


@dataclass(frozen=True)
class Incident:
    id: int
    title: str
    description: str
    service: str
    impact: int
    urgency: int
    priority: str
    state: str
    hold_reason: str | None
    assignee: str | None
    reporter: str
    source: str
    dedup_key: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    resolution_code: str | None
    resolution_note: str | None
    csat: int | None
    version: int
    updated_at: datetime
    updated_by: str
    response_due: datetime | None = None
    resolve_due: datetime | None = None
    response_met: bool | None = None
    resolve_met: bool | None = None
    escalation_level: int = 1  # the escalation policy level reached (1 = first)
    escalation_at: datetime | None = None  # when that level paged (None: when it opened)
    escalation_round: int = 1  # which pass through the policy (it repeats while unanswered)

    @property
    def paged_at(self) -> datetime:
        """When the current escalation level paged."""
        return self.escalation_at or self.created_at

    @property
    def key(self) -> str:
        return f"INC-{self.id}"


@dataclass(frozen=True)
class NewIncident:
    title: str
    service: str
    impact: int
    urgency: int
    priority: str
    description: str = ""
    assignee: str | None = None
    source: str = "manual"
    dedup_key: str | None = None


@dataclass(frozen=True)
class IncidentEvent:
    """One line of an incident's timeline. `kind`: created, state, assigned, note, priority,
    csat; `state` is the state entered (for state events); `detail` says the rest."""

    at: datetime
    actor: str
    kind: str
    state: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class IncidentFilter:
    """What `opsdesk incident list` and the queue filter by; None means any.
    `breached_at` is the queue's "breached": open and past a due time at that instant;
    `breached_by` is every incident, open or not, whose respond or resolve clock breached
    before that instant (a clock keeps its due time once breached, so this is the same
    test without the state)."""

    states: tuple[str, ...] | None = None
    priorities: tuple[str, ...] | None = None
    assignee: str | None = None
    unassigned: bool = False
    breached_at: datetime | None = None
    search: str | None = None
    services: tuple[str, ...] | None = None
    opened_from: datetime | None = None  # created at or after
    opened_before: datetime | None = None  # created before
    breached_by: datetime | None = None  # any state, a clock that breached before this


INCIDENT_SORTS = ("urgency", "key", "priority", "state", "title", "service", "assignee", "age")
TRIAGE = "triage"
"""The queue's default order (store/incidents.py SORT_TERMS): what is burning first, P1
before P2, unacknowledged before the rest within a priority, then breached and nearest
due. `opsdesk incident list` uses it too, so the CLI and the console agree."""


@dataclass(frozen=True)
class IncidentOrder:
    """How a list of incidents is ordered: by one of INCIDENT_SORTS, either way round.
    "urgency" is the queue's default (breached first, then nearest SLA due)."""

    by: str = "urgency"
    descending: bool = False


@dataclass(frozen=True)
class Durations:
    """Durations as a histogram of one-minute buckets, ascending: (count, sum of seconds)
    per bucket. A month of a large queue is a few thousand buckets instead of hundreds of
    thousands of values; the mean stays exact, and a percentile is exact to the bucket's
    own mean (exact when the durations in it are equal)."""

    buckets: tuple[tuple[int, float], ...] = ()

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        grouped: dict[int, list[float]] = {}
        for value in seconds:
            grouped.setdefault(int(value // 60), []).append(value)
        return cls(tuple((len(v), sum(v)) for _, v in sorted(grouped.items())))


@dataclass(frozen=True)
class QueueStats:
    """Raw inputs for the queue's metrics strip, over one window ending at `until`."""

    since: datetime
    until: datetime
    ack: Durations
    resolve: Durations
    resolved: int
    resolved_met: int
    csat_sum: int
    csat_count: int


@dataclass(frozen=True)
class Banner:
    """A one-line notice every console shows in its header (e.g. "major incident: bridge ...")."""

    text: str
    set_by: str | None
    set_at: datetime | None
    version: int


@dataclass(frozen=True)
class StoreInfo:
    path: str
    schema_version: int
    latest_schema: int
    demo: bool
    read_only: bool
    created_at: str | None
    counts: dict[str, int]


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    title: str
    type: str
    risk: str
    services: tuple[str, ...]
    planned_start: datetime
    planned_end: datetime
    implementer: str | None
    requester: str
    state: str
    version: int
    description: str = ""
    test_plan: str = ""
    backout_plan: str = ""
    risk_justification: str = ""
    risk_answers: dict[str, bool] = field(default_factory=dict)
    conflicts_ack: tuple[str, ...] | None = None
    review: str = ""
    updated_by: str = ""
    updated_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"CHG-{self.id}"

    @property
    def duration(self) -> timedelta:
        return self.planned_end - self.planned_start


@dataclass(frozen=True)
class NewChange:
    title: str
    type: str
    risk: str
    services: tuple[str, ...]
    planned_start: datetime
    planned_end: datetime
    implementer: str | None = None
    description: str = ""
    test_plan: str = ""
    backout_plan: str = ""
    risk_justification: str = ""
    risk_answers: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeApproval:
    actor: str
    roles: frozenset[str]
    decision: str
    comment: str
    at: datetime


@dataclass(frozen=True)
class ChangeEvent:
    at: datetime
    actor: str
    kind: str
    state: str | None
    detail: str = ""


@dataclass(frozen=True)
class Override:
    id: int
    schedule: str
    login: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str


@dataclass(frozen=True)
class HandoffNote:
    id: int
    schedule: str
    author: str
    for_login: str
    text: str
    created_at: datetime
    seen_at: datetime | None


@dataclass(frozen=True)
class SourceState:
    source: str
    level: str
    summary: str
    report: dict[str, Any] | None
    error: str | None
    checked_at: datetime | None
    last_ok_at: datetime | None
    level_since: datetime | None
    failures: int
    validators: dict[str, str]
    next_due: datetime | None


@dataclass(frozen=True)
class Outcome:
    """One poll's result: a report (level set), an error, or neither (not modified)."""

    source: str
    at: datetime
    next_due: datetime
    level: str | None = None
    summary: str = ""
    report: dict[str, Any] | None = None
    validators: dict[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True)
class LevelChange:
    source: str
    at: datetime
    level: str
    summary: str


@dataclass(frozen=True)
class NewNotification:
    """A page to queue: to one person by one method, not before `not_before`."""

    incident_key: str | None
    login: str
    method: str
    address: str
    urgency: Literal["high", "low"]
    reason: str  # why: "level 1 of 3", "paged by ana", "test"
    title: str
    body: str
    not_before: datetime


@dataclass(frozen=True)
class Notification:
    """A row of the outbox. `state`: pending, sending, delivered, failed, cancelled."""

    id: int
    incident_key: str | None
    login: str
    method: str
    address: str
    urgency: str
    reason: str
    title: str
    body: str
    created_at: datetime
    created_by: str
    not_before: datetime
    state: str
    attempts: int
    error: str | None
    receipt: str | None
    sent_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_via: str | None
