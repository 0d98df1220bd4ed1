"""Durations as people write them in config and on the command line: "15m", "4h", "1d", "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)([smhdw])")
_WHOLE = re.compile(r"(?:\d+[smhdw])+")


def parse_duration(text: str) -> timedelta:
    """Parse a duration such as "15m", "4h", "1d", "2w" or "1h30m".

    Raises ValueError (with the expected form in its message) for anything else,
    including bare numbers, since "15" could mean seconds or minutes.
    """
    compact = text.strip().lower()
    if not _WHOLE.fullmatch(compact):
        raise ValueError(f'expected a duration like "15m", "4h" or "1d", got {text!r}')
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Write a timedelta back in the shortest form `parse_duration` reads."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    units = ("w", "d", "h", "m", "s") if seconds % _UNITS["w"] == 0 else ("d", "h", "m", "s")
    for unit in units:
        size = _UNITS[unit]
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts)
