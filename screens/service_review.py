"""Review (`6`, `:review`): the monthly service review on one screen, the same figures
`opsdesk report review` prints, computed by the same `build_review` in a worker.

Nine sections, one at a time (`s`/`S` step through them, as on the Problems screen),
each a few lines of figures with Unicode bars and sparklines that read at 80x24, and,
where the section lists records, a table under it: Enter on a breach or a major incident
opens the incident, on a vendor its detail, on a failed change the change, on a problem
the problem. It opens on the month under review (`month_to_review`: the month just ended
until the 16th); `t` this month, `l` last month, `[`/`]` the period before/after, `p` any
month or range of days; `w` writes the HTML report and says where.

Not to be confused with screens/review_detail.py, one incident's post-incident review.
Every name and title from the store is drawn literally (`Text`, never markup).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import date, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Static

from opsdesk.console.domain.review_period import (
    PeriodError,
    day_range,
    month_period,
    month_to_review,
    team_zone,
)
from opsdesk.console.domain.service_review import Period, ServiceReview
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.screens.keys import bindings
from opsdesk.screens.review_period_form import PeriodChoice, PeriodForm
from opsdesk.screens.review_sections import SECTIONS, Listed, Section
from opsdesk.screens.screen import ExplainingScreen
from opsdesk.screens.widgets import BannerLine, StatusHeader
from opsdesk.store import StoreError

log = logging.getLogger(__name__)

WATCHES = ("incidents", "incident_events", "changes", "change_links", "status_history",
           "problems", "problem_incidents", "reviews", "action_items", "notifications",
           "overrides")  # fmt: skip
"""What the review is made of; a status poll that only refreshed a source's last answer
(`source_status`) does not rebuild it."""


class ServiceReviewScreen(ExplainingScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("service_review")
    TITLE = "Review"
    AUTO_FOCUS = "#review-rows"
    LIVE_REFRESH: ClassVar[float] = 15.0
    """Seconds at least between the rebuilds that changes in the store cause while the
    screen is shown: a month of a million incidents takes about 3 s to build, and a busy
    store changes every second, so changes are gathered into one rebuild instead of
    cancelling each other (and a shared host's CPU) forever."""

    def __init__(self) -> None:
        super().__init__()
        self.section = 0
        self.choice: PeriodChoice | None = None
        self.period: Period | None = None
        self.review: ServiceReview | None = None
        self.loaded_generation = -1
        self.listed: list[Listed] = []
        self._building = 0  # builds running (a cancelled one ends on its own)
        self._stale = False  # the store changed during a build or a wait
        self._last_built = -math.inf  # monotonic time the last build ended
        self._live_timer: Timer | None = None
        self._banner_generation = -1
        self._shown_section = -1

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield BannerLine(id="banner")
        yield Static(id="review-period")
        with VerticalScroll(id="review-body"):
            yield Static(id="review-text")
        table: DataTable[Text] = DataTable(id="review-rows", cursor_type="row")
        yield table
        yield Footer(compact=True)

    @property
    def zone(self) -> str:
        return team_zone(self.ops.config)

    @property
    def current(self) -> Section:
        return SECTIONS[self.section]

    # Loading -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.watch(self.app, "data_generation", self._store_changed, init=False)
        self.update_header()
        today = self.ops.now().astimezone(ZoneInfo(self.zone)).date()
        self.choice = self._month_of(month_to_review(today))  # `t`: this month
        self.reload()
        self.show_banner()

    def on_screen_resume(self) -> None:
        self.update_header()
        if self.store_moved(self.loaded_generation):
            self.reload()
        if self.ops.changed_since(self._banner_generation, ("banner",)):
            self.show_banner()

    @work(exclusive=True, group="review-banner", exit_on_error=False)
    async def show_banner(self) -> None:
        """The team banner, as every screen shows it (it alone does not rebuild the
        review)."""
        generation = self.ops.data_generation
        try:
            banner = await self.ops.store.banner.get()
        except StoreError:
            return
        self.query_one(BannerLine).show_banner(banner.text, banner.set_by)
        self._banner_generation = generation

    def _store_changed(self, _generation: int) -> None:
        """A change in the store: rebuild, but never more often than LIVE_REFRESH and
        never cancelling a build under way (the change is taken up after it)."""
        if not self.is_current:
            return
        if self.ops.changed_since(self._banner_generation, ("banner",)):
            self.show_banner()
        if not self.store_moved(self.loaded_generation):
            return
        if self._building or self._live_timer is not None:
            self._stale = True
            return
        wait = self._last_built + self.LIVE_REFRESH - time.monotonic()
        if wait > 0:
            self._live_timer = self.set_timer(wait, self._live_due, name="review-live")
        else:
            self.reload()

    def _live_due(self) -> None:
        self._live_timer = None
        self._stale = False
        if self.is_current and self.store_moved(self.loaded_generation):
            self.reload()  # a worker: a timer callback must not raise

    def store_moved(self, loaded_generation: int) -> bool:
        return self.ops.changed_since(loaded_generation, WATCHES)

    def update_header(self) -> None:
        self.ops.paint_header(self, self.TITLE)

    @staticmethod
    def _month_of(day: date) -> PeriodChoice:
        first = day.replace(day=1)
        return PeriodChoice("month", first, first)

    def _period(self, choice: PeriodChoice) -> Period:
        if choice.kind == "month":
            return month_period(f"{choice.first:%Y-%m}", self.zone)
        return day_range(choice.first, choice.last, self.zone)

    @work(exclusive=True, group="review", exit_on_error=False)
    async def reload(self) -> None:
        """Build the review of the chosen period (the store answers grouped counts; a
        month of a million-incident store takes a second or two, off the event loop's
        way in this worker) and draw the current section."""
        assert self.choice is not None
        from opsdesk.console.ops.service_review import build_review  # off start-up

        generation = self.ops.data_generation
        try:
            period = self._period(self.choice)
        except PeriodError as exc:  # e.g. stepped back before 1970
            self._failed(str(exc).replace("--month ", ""))
            return
        self.period = period
        self._show_period(loading=True)
        self._building += 1
        try:
            review = await build_review(self.ops.store, self.ops.config, period, self.ops.now())
        except (StoreError, OpsdeskError) as exc:
            self._failed(str(exc))
            return
        except Exception as exc:  # a bug must show, not leave an empty screen behind
            log.exception("building the service review failed")
            self._failed(f"the review could not be built: {type(exc).__name__}: {exc}")
            return
        finally:
            self._building -= 1
            self._last_built = time.monotonic()
        if period != self.period:
            return  # another period was asked for meanwhile
        self.review = review
        self.loaded_generation = generation
        self.show()
        if self._stale and not self._building:
            self._stale = False
            self._store_changed(self.ops.data_generation)

    def _failed(self, why: str) -> None:
        """Say why there are no figures, on the screen and in a toast, instead of leaving
        the last period's figures under this period's name."""
        self.review = None
        self.listed = []
        self.query_one("#review-text", Static).update(Text(one_line(why, limit=300), "red"))
        self.query_one("#review-rows", DataTable).display = False
        self.set_class(True, "no-rows")
        self._show_period()
        self.notify(one_line(why, limit=200), severity="error", markup=False, timeout=20)
        self.refresh_bindings()

    # Drawing -------------------------------------------------------------------------------

    def _show_period(self, loading: bool = False) -> None:
        line = Text()
        if self.period is not None:
            line.append(one_line(self.period.label, limit=40), style="bold")
            shown = self.review
            # Once loaded, what it was really compared with (part of a month: as much of
            # the month before, "October 2026 to 10-25 07:00").
            same = shown is not None and shown.period.start == self.period.start
            previous = shown.period.previous if same and shown else self.period.previous
            if previous is not None:
                line.append(f" vs {one_line(previous.label, limit=40)}")
            line.append(f"  {one_line(self.period.timezone, limit=30)}", style="dim")
            if shown is not None and shown.generated_at < self.period.end:
                line.append("  not over yet", style="yellow")  # its figures count up to now
        if loading:
            line.append("  loading…", style="italic")
        line.append("\n")
        line.append(f"{self.section + 1}/{len(SECTIONS)} ", style="dim")
        line.append(f" {self.current.title} ", style="bold reverse")
        following = SECTIONS[(self.section + 1) % len(SECTIONS)].title
        line.append(f"  s: {following}", style="dim")
        if self.current.hint and self.listed:
            line.append(f" · {self.current.hint}", style="dim")
        self.query_one("#review-period", Static).update(line)

    def show(self) -> None:
        """Draw the current section of the loaded review."""
        review = self.review
        if review is None:
            return
        text, listed = self.current.draw(review)
        self.listed = listed
        self.query_one("#review-text", Static).update(text)
        table = self.query_one("#review-rows", DataTable)
        again = self._shown_section == self.section  # a rebuild: keep the cursor and focus
        keep = table.cursor_row if again else 0
        self._shown_section = self.section
        table.clear(columns=True)
        table.display = bool(listed)
        self.set_class(not listed, "no-rows")
        if listed:
            table.add_columns(*(Text(c) for c in self.current.columns))
            for index, row in enumerate(listed):
                table.add_row(*row.cells, key=str(index))
            table.move_cursor(row=min(keep, len(listed) - 1))
        if not again:
            if listed:
                table.focus()
            else:
                self.query_one("#review-body", VerticalScroll).focus()
        self._show_period()
        self.refresh_bindings()

    # Keys ----------------------------------------------------------------------------------

    def action_section(self, step: int) -> None:
        self.section = (self.section + step) % len(SECTIONS)
        self.query_one("#review-body", VerticalScroll).scroll_home(animate=False)
        self.show()
        self._show_period()

    def action_period(self, which: str) -> None:
        today = self.ops.now().astimezone(ZoneInfo(self.zone)).date()
        month = self._month_of(today)
        if which == "last":
            month = self._month_of(month.first - timedelta(days=1))
        self._choose(month)

    def action_shift(self, step: int) -> None:
        choice = self.choice
        if choice is None:
            return
        if choice.kind == "month":
            first = choice.first
            if step < 0:
                self._choose(self._month_of(first - timedelta(days=1)))
            else:
                self._choose(self._month_of(first + timedelta(days=32)))
            return
        days = (choice.last - choice.first).days + 1
        move = timedelta(days=days * step)
        self._choose(PeriodChoice("days", choice.first + move, choice.last + move))

    def action_choose_period(self) -> None:
        assert self.choice is not None

        def chosen(choice: PeriodChoice | None) -> None:
            if choice is not None:
                self._choose(choice)

        self.app.push_screen(PeriodForm(self.choice, self.zone), chosen)

    def _choose(self, choice: PeriodChoice) -> None:
        self.choice = choice
        self.reload()

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        if action == "write_html" and self.review is None:
            return "the review is still loading"
        return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "write_html" and self.review is None:
            return None
        return True

    @work(group="review-html", exit_on_error=False)
    async def action_write_html(self) -> None:
        """Write the HTML report of the period shown (rendering and writing happen on a
        thread) and say where, with the full path."""
        from opsdesk.console.ops.review_html import reports_folder, write_review_html

        review = self.review
        if review is None:
            return
        folder = reports_folder()
        try:
            path = await asyncio.to_thread(write_review_html, review, folder)
        except OSError as exc:
            self.notify(one_line(f"could not write the report in {folder}: {exc}"),
                        severity="error", markup=False, timeout=20)  # fmt: skip
            return
        self.notify(f"HTML report written: {path}", title="Review", markup=False, timeout=20)

    @on(DataTable.RowSelected, "#review-rows")
    def _open(self, event: DataTable.RowSelected) -> None:
        index = int(str(event.row_key.value))
        if not 0 <= index < len(self.listed):
            return
        row = self.listed[index]
        if row.kind == "incident":
            self.ops.open_incident(row.key)
        elif row.kind == "change":
            self.ops.open_change(row.key)
        elif row.kind == "problem":
            self.ops.open_problem(row.key)
        elif row.kind == "vendor":
            self.ops.open_vendor(row.key)
