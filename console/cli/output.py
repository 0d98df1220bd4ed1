"""Printing for the CLI: JSON for scripts (ISO-8601 UTC times), clean text for people."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.text import clean, one_line


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


json_default = _default  # for lists written a chunk at a time (console/cli/listing.py)


def emit_json(data: Any) -> None:
    """Write `data` as JSON. Non-ASCII is escaped, so no byte of data can act on a terminal."""
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=True, indent=2) + "\n")


def emit_line(text: str) -> None:
    sys.stdout.write(clean(text) + "\n")


def emit_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain aligned table; every cell is cleaned to one line first."""
    cells = [[one_line(str(c), limit=80) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in [headers, *cells]:
        sys.stdout.write(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )


def warn(text: str) -> None:
    sys.stderr.write(f"opsdesk: {clean(text, keep_newlines=False)}\n")
