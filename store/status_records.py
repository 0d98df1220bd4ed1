"""What polling the status sources stores and reads back. Kept apart from records.py
(imported from there on first use) so a command that never polls does not build them
at start (README "Performance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class SourceState(FrozenValue):
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


@dataclass(frozen=True, eq=False, repr=False)
class Outcome(FrozenValue):
    """One poll's result: a report (level set), an error, or neither (not modified)."""

    source: str
    at: datetime
    next_due: datetime
    level: str | None = None
    summary: str = ""
    report: dict[str, Any] | None = None
    validators: dict[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class LevelChange(FrozenValue):
    source: str
    at: datetime
    level: str
    summary: str
