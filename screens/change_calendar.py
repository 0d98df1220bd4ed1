"""The change calendar: the next 14 (or 30) days by service, with changes and freeze
windows, readable at 80 columns. A digit is how many changes touch the service that day,
░ is a freeze, a digit on a freeze is a change inside it (in reverse video)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.model import Config, FreezeWindow
from opsdesk.console.domain.text import one_line, words
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import StoreError
from opsdesk.store.records import ChangeRequest

LABEL = 10
SHOWN_STATES = ("draft", "submitted", "approved", "scheduled", "in_progress", "completed")


def day_span(day: date) -> tuple[datetime, datetime]:
    """A UTC day: the calendar is in UTC, like every planned window."""
    begin = datetime.combine(day, time(0), tzinfo=UTC)
    return begin, begin + timedelta(days=1)


def calendar_text(config: Config, changes: list[ChangeRequest], first: date, days: int) -> Text:
    width = 4 if days <= 14 else 2
    services = [s.name for s in config.services] or sorted(
        {name for c in changes for name in c.services}
    )
    out = Text()
    out.append(" " * (LABEL + 1))
    for n in range(days):
        day = first + timedelta(days=n)
        label = f"{day:%a}"[:2] + f"{day:%d}" if width == 4 else f"{day:%d}"
        out.append(label, style="underline" if n == 0 else ("dim" if day.weekday() >= 5 else ""))
    out.append("\n")
    for service in services:
        out.append(f"{one_line(service, limit=LABEL):<{LABEL}} ")
        for n in range(days):
            begin, end = day_span(first + timedelta(days=n))
            count = sum(
                1 for c in changes
                if service in c.services and c.planned_start < end and c.planned_end > begin
            )  # fmt: skip
            frozen = any(_freezes(w, service, begin, end) for w in config.freeze_windows)
            if count and frozen:
                out.append(f"{min(count, 9):>{width}}", style="bold reverse red")
            elif count:
                out.append(f"{min(count, 9):>{width}}", style="bold")
            elif frozen:
                out.append("░" * width, style="blue")
            else:
                out.append(" " * (width - 1) + "·", style="dim")
        out.append("\n")
    return out


def _freezes(window: FreezeWindow, service: str, begin: datetime, end: datetime) -> bool:
    covers = window.services is None or service in window.services
    return covers and window.start < end and window.end > begin


class ChangeCalendarScreen(LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("change_calendar")
    PARTS = ("calendar",)

    def __init__(self) -> None:
        super().__init__()
        self.days = 14

    def header_title(self) -> str:
        return "Change calendar"

    def action_toggle_span(self) -> None:
        self.days = 30 if self.days == 14 else 14
        self.load()

    @work(exclusive=True, group="calendar", exit_on_error=False)
    async def load(self) -> None:
        now = self.ops.now().astimezone(UTC)
        first = now.date()
        start, _ = day_span(first)
        end = start + timedelta(days=self.days)
        try:
            found = await self.ops.store.changes.overlapping(start, end)
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        changes = [c for c in found if c.state in SHOWN_STATES]
        text = Text(f"Next {self.days} days by service (UTC). ", style="dim")
        text.append("digit", style="bold")
        text.append(" = changes that day; ", style="dim")
        text.append("░", style="blue")
        text.append(" = freeze; ", style="dim")
        text.append("1", style="bold reverse red")
        text.append(" = change inside a freeze. t: 14/30 days\n\n", style="dim")
        text.append_text(calendar_text(self.ops.config, changes, first, self.days))
        text.append("\n")
        for change in changes[:60]:
            text.append(f"{change.key:<9}", style="bold")
            text.append(f"{change.planned_start:%m-%d %H:%M} {words(change.state):<11} ")
            services = one_line(", ".join(change.services), limit=60)
            text.append(f"{one_line(change.title, limit=40)} ({services})\n")
        for window in self.ops.config.freeze_windows:
            if window.end > now and window.start < end:
                scope = ", ".join(window.services) if window.services else "all services"
                text.append(f"freeze {one_line(window.name, limit=30)}: ", style="blue")
                when = f"{window.start:%m-%d %H:%M} – {window.end:%m-%d %H:%M} UTC"
                text.append(f"{when} ({one_line(scope, limit=120)})\n")
        self.query_one("#calendar", Static).update(text)
