"""Turning values into table cells and labels that are always drawn literally.

Every string from the store or the network goes through `cell()`/`label()`: control and
escape sequences are removed and the result is a `Text`, which Textual never parses as
markup. Priority and states carry a word or glyph as well as a colour (NO_COLOR, and
people who do not see colour).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.text import Text

from opsdesk.console.domain.text import clean, one_line, words

PRIORITY_STYLE = {"P1": "bold white on red", "P2": "dark_orange", "P3": "yellow", "P4": "dim"}
PRIORITY_GLYPH = {"P1": "▲▲", "P2": "▲ ", "P3": "▬ ", "P4": "▼ "}


def cell(value: object, limit: int = 120, style: str = "") -> Text:
    """One line of untrusted text as a Text (never markup), capped at `limit` characters."""
    return Text(one_line("" if value is None else str(value), limit=limit), style=style)


def block(value: str, limit: int = 20000) -> Text:
    """Multi-line untrusted text (descriptions, notes), cleaned and capped."""
    return Text(clean(value, limit=limit))


def priority(value: str) -> Text:
    return Text(f"{PRIORITY_GLYPH.get(value, '? ')}{value}", style=PRIORITY_STYLE.get(value, ""))


def sla_cell(response_due: datetime | None, resolve_due: datetime | None, now: datetime) -> Text:
    """Time to the nearest SLA due: "15m", "12h", "2d"; a breach is a reverse-video "!39d"
    badge, readable without colour."""
    due = min((d for d in (response_due, resolve_due) if d is not None), default=None)
    if due is None:
        return Text("—")
    if due <= now:
        return Text(f"!{age(due, now)}", style="bold reverse red")
    seconds = int((due - now).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit == "d" else 1):
            return Text(f"{seconds // size}{unit}")
    return Text(f"{seconds}s", style="bold")


def append_counts(line: Text, counts: dict[str, int], order: tuple[str, ...]) -> None:
    """Append "state count" for each state in `order` (zero when absent) to a summary
    line, each state in the words text and the console share (`in progress`)."""
    for state in order:
        line.append(f"{words(state)} {counts.get(state, 0):,}  ")


def age(since: datetime, now: datetime) -> str:
    """A compact age: 45s, 12m, 5h, 3d, 7w."""
    seconds = max(int((now - since).total_seconds()), 0)
    for size, unit in ((7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit == "w" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def until(moment: datetime, now: datetime) -> str:
    delta = moment - now
    if delta < timedelta(0):
        return f"{age(moment, now)} ago"
    return f"in {age(now, moment)}"


LEVEL_CELL = {
    "operational": ("● ok", "green"),
    "maintenance": ("◆ maint", "blue"),
    "degraded": ("▲ degraded", "yellow"),
    "partial_outage": ("▲ partial", "bold dark_orange"),
    "major_outage": ("✖ MAJOR", "bold reverse red"),
    "unknown": ("? unknown", "dim"),
}


def level_cell(level: str, error: str | None) -> Text:
    """Level as glyph and word (never colour alone); a failing source says so."""
    word, style = LEVEL_CELL.get(level, LEVEL_CELL["unknown"])
    text = Text(word, style=style)
    if error:
        text.append("*", style="bold")
    return text
