"""On-call overrides and handoff notes. Kept apart from records.py (imported from there
on first use) so a command that never reads the rota does not build them at start
(README "Performance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class Override(FrozenValue):
    id: int
    schedule: str
    login: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str


@dataclass(frozen=True, eq=False, repr=False)
class HandoffNote(FrozenValue):
    id: int
    schedule: str
    author: str
    for_login: str
    text: str
    created_at: datetime
    seen_at: datetime | None
