"""Plain rows the service review reads (store/review_queries.py), kept apart from the SQL
so the domain rules can take them without importing a database driver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsdesk.store.records import ChangeRequest
from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class OutcomeRow(FrozenValue):
    """Incidents resolved in the period sharing service, priority, assignee and CSAT
    score: how many, and their stored SLA outcomes (set by the SLA rules as they stop)."""

    service: str
    priority: str
    assignee: str | None
    csat: int | None
    resolved: int
    respond_judged: int
    respond_met: int
    resolve_judged: int
    resolve_met: int
    judged: int  # with an SLA outcome recorded (what `incident metrics` counts)
    met: int  # every clock met (resolve met, respond met or not measured)


@dataclass(frozen=True, eq=False, repr=False)
class ChangeRow(FrozenValue):
    """A change planned to start in the period, whether its timeline ever says failed or
    rolled back (a closed change keeps that), and the incidents linked to it."""

    change: ChangeRequest
    failed: bool
    rolled_back: bool
    incidents: tuple[int, ...]


@dataclass(frozen=True, eq=False, repr=False)
class PageRow(FrozenValue):
    """A page to one person (one row per page, whichever methods carried it)."""

    login: str
    at: datetime
