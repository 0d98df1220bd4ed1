"""The audit log's records: its entries and what `opsdesk audit --verify` finds. Kept
apart from records.py (imported from there on first use) so a command that only reads
incidents does not build them at start (README "Performance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class AuditEntry(FrozenValue):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, eq=False, repr=False)
class AuditBreak(FrozenValue):
    """The first audit entry whose stored hash does not match the chain: it was changed or
    inserted outside opsdesk, or (`missing`) the entries before it were deleted."""

    id: int
    at: str  # as stored: ISO-8601 UTC text, unless that was rewritten too
    entity_key: str
    missing: tuple[int, int] | None = None  # (first, last) ids absent just before it


@dataclass(frozen=True, eq=False, repr=False)
class AuditCheck(FrozenValue):
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
