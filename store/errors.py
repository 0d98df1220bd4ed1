"""Store errors: each is one line a person can act on. Exit code 1 (runtime) unless noted."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every refusal or failure the store reports."""

    exit_code = 1


class StoreOpenError(StoreError):
    """The file cannot be used as a store: not ours, written by a newer version, unreadable."""


class StoreBusy(StoreError):
    """Another process held the write lock for longer than we are willing to wait."""


class ReadOnlyStore(StoreError):
    """The store was opened read-only (a wall display) or the file cannot be written."""


class PermissionDenied(StoreError):
    """The actor lacks the role an operation needs; the message names the role."""


class NotFound(StoreError):
    """An entity key does not exist."""


def changed_meanwhile(what: str, by: str, at: str, had: int, now: int) -> StaleWrite:
    """The refusal of a write made on an old version of a record (`what`: "INC-3", "the
    review of INC-3"), saying who changed it and when."""
    return StaleWrite(
        f"{what} was changed by {by} at {at} (you had version {had}, it is now {now}); "
        "look at it again and retry"
    )


class StaleWrite(StoreError):
    """Someone else changed the entity since it was read; the message says who and when."""


class InvalidOperation(StoreError):
    """The operation does not apply (wrong state, bad value)."""


GUARDS_MISSING = (
    "the audit log's guards are missing: the store was altered outside opsdesk; "
    "see docs/operations.md"
)


class AuditGuardsMissing(StoreError):
    """The triggers that make the audit log append-only are missing or altered: someone
    changed the store with other tools. Writes are refused; reads still work."""


class SearchInterrupted(StoreError):
    """A search stopped because a newer one replaced it (the next keystroke): nothing to
    tell anyone."""
