"""How instants are written in the store: ISO-8601 UTC text with a Z, to the second."""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_db(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("store times must be timezone-aware")
    return instant.astimezone(UTC).strftime(FORMAT)


def from_db(text: str) -> datetime:
    return datetime.strptime(text, FORMAT).replace(tzinfo=UTC)


def maybe_from_db(text: str | None) -> datetime | None:
    return from_db(text) if text else None
