"""The two ways an operation says no, shared by every use case (incidents, problems,
reviews, paging), so a caller catches one `Refused` whichever record it acted on."""

from __future__ import annotations

from opsdesk.console.errors import InputError, OpsdeskError


class Refused(OpsdeskError):
    """An operation that does not apply to the record as it is (wrong state, stale)."""


class Invalid(Refused, InputError):
    """What was asked cannot be right whatever the state: an unknown service, login, state
    or candidate, a value out of range (exit 2; still a Refused for callers that catch
    those)."""
