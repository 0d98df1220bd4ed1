"""Plain records the store returns. No behaviour beyond small derived properties.

Building a frozen dataclass runs the compiler for each of its six methods (about half a
millisecond a record class); the records of the audit log, changes, the rota, status
sources, the outbox and the banner live in modules of their own and load when first
named here (`from opsdesk.store.records import Override` works as before), so `opsdesk
incident list` does not build them at start (README "Performance"; tests/test_import_cost.py)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from opsdesk.store.value import FrozenValue

if TYPE_CHECKING:
    from opsdesk.store.audit_records import AuditBreak as AuditBreak
    from opsdesk.store.audit_records import AuditCheck as AuditCheck
    from opsdesk.store.audit_records import AuditEntry as AuditEntry
    from opsdesk.store.banner_records import Banner as Banner
    from opsdesk.store.change_records import ChangeApproval as ChangeApproval
    from opsdesk.store.change_records import ChangeEvent as ChangeEvent
    from opsdesk.store.change_records import ChangeRequest as ChangeRequest
    from opsdesk.store.change_records import NewChange as NewChange
    from opsdesk.store.notification_records import NewNotification as NewNotification
    from opsdesk.store.notification_records import Notification as Notification
    from opsdesk.store.oncall_records import HandoffNote as HandoffNote
    from opsdesk.store.oncall_records import Override as Override
    from opsdesk.store.stats_records import Durations as Durations
    from opsdesk.store.stats_records import QueueStats as QueueStats
    from opsdesk.store.stats_records import StoreInfo as StoreInfo
    from opsdesk.store.status_records import LevelChange as LevelChange
    from opsdesk.store.status_records import Outcome as Outcome
    from opsdesk.store.status_records import SourceState as SourceState

Role = Literal["admin", "lead", "cab", "engineer"]

ELSEWHERE = {
    "Banner": "banner_records",
    "AuditEntry": "audit_records", "AuditBreak": "audit_records", "AuditCheck": "audit_records",
    "ChangeRequest": "change_records", "NewChange": "change_records",
    "ChangeApproval": "change_records", "ChangeEvent": "change_records",
    "Override": "oncall_records", "HandoffNote": "oncall_records",
    "SourceState": "status_records", "Outcome": "status_records", "LevelChange": "status_records",
    "NewNotification": "notification_records", "Notification": "notification_records",
    "Durations": "stats_records", "QueueStats": "stats_records", "StoreInfo": "stats_records",
}  # fmt: skip
"""Record classes defined in another module, by name: loaded by `__getattr__` below."""


def __getattr__(name: str) -> Any:
    """A record kept in its own module, imported when first asked for (PEP 562)."""
    module = ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"opsdesk.store.{module}"), name)
    globals()[name] = value
    return value


@dataclass(frozen=True, eq=False, repr=False)
class Actor(FrozenValue):
    """Who is acting, and the roles config grants them. Everyone is an engineer."""

    login: str
    roles: frozenset[Role] = field(default_factory=lambda: frozenset({"engineer"}))

    def has(self, role: Role) -> bool:
        """Admins hold every role; leads hold engineer; `cab` is held only when granted."""
        if role == "engineer" or "admin" in self.roles:
            return True
        return role in self.roles


@dataclass(frozen=True, eq=False, repr=False)
class Incident(FrozenValue):
    """An incident as stored: its fields, SLA due times and version (the optimistic lock)."""

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


@dataclass(frozen=True, eq=False, repr=False)
class NewIncident(FrozenValue):
    """What opening an incident needs; the store gives it its key, times and clocks."""

    title: str
    service: str
    impact: int
    urgency: int
    priority: str
    description: str = ""
    assignee: str | None = None
    source: str = "manual"
    dedup_key: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class IncidentEvent(FrozenValue):
    """One line of an incident's timeline. `kind`: created, state, assigned, note, priority,
    csat; `state` is the state entered (for state events); `detail` says the rest."""

    at: datetime
    actor: str
    kind: str
    state: str | None = None
    detail: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class IncidentFilter(FrozenValue):
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


@dataclass(frozen=True, eq=False, repr=False)
class IncidentOrder(FrozenValue):
    """How a list of incidents is ordered: by one of INCIDENT_SORTS, either way round.
    "urgency" is the queue's default (breached first, then nearest SLA due)."""

    by: str = "urgency"
    descending: bool = False
