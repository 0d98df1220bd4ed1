"""Change requests, their approvals and timeline. Kept apart from records.py (imported
from there on first use) so a command that never touches changes does not build them
at start (README "Performance")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class ChangeRequest(FrozenValue):
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


@dataclass(frozen=True, eq=False, repr=False)
class NewChange(FrozenValue):
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


@dataclass(frozen=True, eq=False, repr=False)
class ChangeApproval(FrozenValue):
    actor: str
    roles: frozenset[str]
    decision: str
    comment: str
    at: datetime


@dataclass(frozen=True, eq=False, repr=False)
class ChangeEvent(FrozenValue):
    at: datetime
    actor: str
    kind: str
    state: str | None
    detail: str = ""
