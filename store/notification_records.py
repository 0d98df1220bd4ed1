"""Pages in the outbox: one to queue and one as stored. Kept apart from records.py
(imported from there on first use) so a command that never pages does not build them
at start (README "Performance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class NewNotification(FrozenValue):
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


@dataclass(frozen=True, eq=False, repr=False)
class Notification(FrozenValue):
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
