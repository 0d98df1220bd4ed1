"""The team banner as stored. Kept apart from records.py (imported from there on first
use) so a command that never shows the banner does not build it at start (README
"Performance")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class Banner(FrozenValue):
    """A one-line notice every console shows in its header (e.g. "major incident: bridge ...")."""

    text: str
    set_by: str | None
    set_at: datetime | None
    version: int
