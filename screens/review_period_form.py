"""The Review screen's period form: a month (`2026-11`) or a range of days (`2026-11-03`
to `2026-11-16`), read in the team's time zone by the same rules as `opsdesk report
review --month/--from/--to`. It returns the choice; the screen builds the review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from opsdesk.console.domain.review_period import (
    MONTH,
    PeriodError,
    day_range,
    month_period,
    parse_day,
)
from opsdesk.screens.forms import ValidatedForm


@dataclass(frozen=True)
class PeriodChoice:
    """What a review covers: a calendar month (`first` is its 1st) or days `first` to
    `last` inclusive, in the team's zone."""

    kind: Literal["month", "days"]
    first: date
    last: date


class PeriodForm(ValidatedForm[PeriodChoice]):
    """From and to; a month in From with To empty means that whole month."""

    def __init__(self, current: PeriodChoice, zone: str) -> None:
        super().__init__()
        self._current = current
        self._zone = zone

    def compose(self) -> ComposeResult:
        now = self._current
        first = f"{now.first:%Y-%m}" if now.kind == "month" else now.first.isoformat()
        last = "" if now.kind == "month" else now.last.isoformat()
        with Vertical(classes="dialog"):
            yield Label(Text(f"Review period (days in {self._zone})", style="bold"))
            with Horizontal(classes="pair"):
                yield Input(value=first, placeholder="from: 2026-11-03 or 2026-11", id="from")
                yield Input(value=last, placeholder="to: 2026-11-16", id="to")
            yield Label(Text(""), id="problem")
            yield Label(
                Text("a month (2026-11) alone, or from and to days · Enter or ctrl+s shows it "
                     "· Esc cancels", style="dim")
            )  # fmt: skip

    def entered(self, field: Input) -> None:
        """Enter in From goes to To; Enter in To shows the period."""
        if field.id == "to":
            self.action_save()
        else:
            self.focus_next()

    def has_unsaved_input(self) -> bool:
        return False  # two short fields: Esc simply closes

    def read(self) -> PeriodChoice | str:
        return read_period(self._value("from"), self._value("to"), self._zone)


def read_period(first: str, last: str, zone: str) -> PeriodChoice | str:
    """The choice the two fields make, or what is wrong with them (one line). The period
    rules themselves (a real month, from before to, at most a year) are the CLI's."""
    try:
        if MONTH.fullmatch(first) and not last:
            month_period(first, zone)  # raises for a month that does not exist
            start = date.fromisoformat(f"{first}-01")
            return PeriodChoice("month", start, start)
        if not first or not last:
            return "give a month (2026-11), or both days (from 2026-11-03 to 2026-11-16)"
        start, end = parse_day("from", first), parse_day("to", last)
        day_range(start, end, zone)  # raises for an empty or too long range
    except PeriodError as exc:
        return str(exc).replace("--month ", "").replace("--", "")
    return PeriodChoice("days", start, end)
