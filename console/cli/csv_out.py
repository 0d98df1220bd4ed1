"""`--csv`: lists as RFC 4180 CSV (the csv module: CRLF lines, fields quoted when they
hold a comma, quote or line break) for a spreadsheet.

Ticket titles and service names are untrusted: a cell that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return is read as a formula by Excel, LibreOffice and Google
Sheets (`=HYPERLINK(...)`, `=cmd|...`), so such a cell gets a leading `'`, which the
spreadsheet shows as text. Escape sequences and control characters are removed as for
every other output, so the CSV is also safe to print to a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.text import clean

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as CSV text: times ISO-8601 UTC, booleans true/false, None empty, lists
    joined with commas; text cleaned and defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        value = ",".join(cell(v) for v in value)
    if isinstance(value, int | float):
        return str(value)  # a number written by us, not text to defuse (-3 stays -3)
    text = str(value)
    if text.isascii() and text.isprintable():  # nothing to clean: the common case, fast
        return defuse(text)
    return defuse(clean(text))


def defuse(text: str) -> str:
    """`text` as a spreadsheet shows it literally: a leading `'` when it would otherwise be
    taken for a formula, also behind leading blanks and line breaks (which some imports
    trim)."""
    risky = text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return f"'{text}" if risky else text


def emit_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, header: bool = True) -> None:
    """Write a header line (unless a later chunk of a long list) and the rows to stdout
    as RFC 4180 CSV."""
    import csv  # only for --csv: every list command imports this module

    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    if header:
        writer.writerow(headers)
    for row in rows:
        writer.writerow([cell(v) for v in row])
