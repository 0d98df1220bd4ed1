"""Small readers every importer shares: items across pages, instants, zones, text.

Source payloads are untrusted: these never raise on a wrong type inside an item (they
return None or "", and the importer records a `Skipped`); only a page that is not the
shape its endpoint returns raises `BundleError`, naming the saved key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsdesk.console.domain.imports.model import BundleError, Json


@dataclass
class MemoryBundle:
    """A bundle held in memory: key -> pages (what the fetcher got, or a test's data)."""

    saved: dict[str, list[Json]] = field(default_factory=dict)

    def pages(self, key: str) -> list[Json]:
        if key not in self.saved:
            raise BundleError(f"{key}.json: missing (nothing was saved for {key})")
        return self.saved[key]

    def has(self, key: str) -> bool:
        return key in self.saved

    def keys(self) -> list[str]:
        return sorted(self.saved)


def items(pages: list[Json], items_key: str, key: str) -> list[Mapping[str, Json]]:
    """Every object of the list at `items_key` across `pages` (or the pages themselves
    when `items_key` is empty); objects that are not JSON objects are left out."""
    found: list[Mapping[str, Json]] = []
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, dict):
            raise BundleError(f"{key}.json: page {number} is not a JSON object")
        listed = page.get(items_key) if items_key else [page]
        if not isinstance(listed, list):
            raise BundleError(f"{key}.json: page {number} has no list at {items_key!r}")
        found.extend(item for item in listed if isinstance(item, dict))
    return found


def text(item: Mapping[str, Json], key: str) -> str:
    """A string field, or "" when it is missing or not a string (or a number: ids)."""
    value = item.get(key)
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | str):
        return str(value)
    return ""


def instant(value: Json) -> datetime | None:
    """An ISO 8601 instant with an offset (`Z` allowed); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def local_time(value: Json) -> datetime | None:
    """An ISO 8601 date-time read as local wall-clock (any offset dropped)."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def zone(name: Json) -> ZoneInfo | None:
    """The IANA zone called `name`, or None when there is none by that name."""
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def seconds(value: Json) -> timedelta | None:
    """A whole number of seconds as a duration (None if not a non-negative integer)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return timedelta(seconds=value)
