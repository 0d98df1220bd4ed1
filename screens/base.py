"""What the four screens share: header, banner, summary, a filterable table, live reload.

A screen asks the store for its data in `load()` and fills `self.rows`; this base class
draws them, filters them as you type after `/`, and reloads when the live change feed
says the store changed (at once if the screen is visible, else when it is shown again).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Input, Static

from opsdesk.console.domain.text import one_line
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import ExplainingScreen
from opsdesk.screens.table import ListSource, OpsTable, Row, RowSource
from opsdesk.screens.widgets import BannerLine, StatusHeader
from opsdesk.store import SearchInterrupted, StoreError

log = logging.getLogger(__name__)


class StoreScreen(ExplainingScreen):
    """Base of the Queue, On-call, Vendors and Changes screens (a key that does not
    apply is greyed and says why, from the screen's `explain_action`)."""

    TITLE: ClassVar[str] = ""
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    FLEX_COLUMN: ClassVar[int] = 0
    """The column (usually a title) that shrinks to fit the terminal width."""
    AUTO_FOCUS = "#table"
    EMPTY: ClassVar[str] = "nothing here yet"
    ROWS_FIRST: ClassVar[bool] = False
    """True when the rows come from the store by themselves (the queue): they are drawn
    before the summary is computed, since the rows are what people wait for."""
    BINDINGS: ClassVar[list[BindingType]] = bindings("list")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.filter_text = ""
        self.loaded_generation = -1

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield BannerLine(id="banner")
        yield Static(id="summary")
        yield Input(placeholder="filter (Enter keeps it, Esc clears it)", id="filter")
        yield Static(id="filter-status")
        yield OpsTable(self.COLUMNS, self.FLEX_COLUMN, self.EMPTY, id="table")
        yield Footer(compact=True)

    @property
    def table(self) -> OpsTable:
        return self.query_one(OpsTable)

    def on_mount(self) -> None:
        self.watch(self.app, "data_generation", self._store_changed, init=False)
        self.update_header()
        self.reload()

    def on_screen_resume(self) -> None:
        self.update_header()
        if self.loaded_generation != self.ops.data_generation:
            self.reload()

    def _store_changed(self, _generation: int) -> None:
        if self.is_current:
            self.reload()

    def update_header(self) -> None:
        self.ops.paint_header(self, self.TITLE)

    @work(exclusive=True, group="reload", exit_on_error=False)
    async def reload(self, top: bool = False) -> None:
        """Fetch everything again: after a change in the store (the cursor stays on its
        row), or after a new filter or order (`top`: the cursor goes to the first row)."""
        generation = self.ops.data_generation
        try:
            if self.ROWS_FIRST:
                await self.show_rows(top)
                await self.load()
            else:
                await self.load()
                await self.show_rows(top)
            banner = await self.ops.store.banner.get()
        except SearchInterrupted:
            return  # a newer keystroke's search replaced this one
        except StoreError as exc:
            self.notify(one_line(str(exc)), severity="error", markup=False)
            return
        except Exception as exc:  # a bug must show, not leave an empty screen behind
            log.exception("loading %s failed", self.TITLE)
            self.notify(
                one_line(f"{self.TITLE} could not load: {type(exc).__name__}: {exc}"),
                severity="error", markup=False, timeout=20,
            )  # fmt: skip
            return
        self.query_one(BannerLine).show_banner(banner.text, banner.set_by)
        self.loaded_generation = generation

    async def load(self) -> None:
        """Fetch this screen's data (into `self.rows` for small screens) and its summary."""
        raise NotImplementedError

    def source(self) -> RowSource:
        """The rows to show, filtered by what was typed after `/`."""
        return ListSource(self.rows, self.filter_text)

    def filter_count(self, shown: int) -> str:
        return f"{shown:,} of {len(self.rows):,}"

    async def show_rows(self, top: bool = False) -> None:
        """Show the rows that match the filter, keeping the cursor on the same key (or
        going to the first row, with `top`)."""
        table = self.table
        source = self.source()
        table.empty = self.empty_text()
        await table.show(source, keep=None if top else table.selected_key(), top=top)
        self.update_filter_status()

    def empty_text(self) -> str:
        """What the table says when it has no rows: what is empty, and why."""
        if self.filter_text.strip() and self.rows:
            return f"nothing matches '{one_line(self.filter_text, limit=40)}'"
        return self.EMPTY

    def filter_status(self) -> Text | None:
        """The line under the summary while a filter is typed (None: no line)."""
        if not self.filter_text:
            return None
        label = Text("filter: ", style="bold")
        label.append(one_line(self.filter_text, limit=60))
        label.append(f"  ({self.filter_count(self.table.total)})   Esc clears")
        return label

    def update_filter_status(self) -> None:
        status = self.query_one("#filter-status", Static)
        label = self.filter_status()
        status.display = label is not None
        if label is not None:
            status.update(label)

    @work(exclusive=True, group="rows", exit_on_error=False)
    async def refilter(self) -> None:
        try:
            await self.show_rows(top=True)
        except SearchInterrupted:
            return  # a newer keystroke's search replaced this one
        except StoreError as exc:
            self.notify(one_line(str(exc)), severity="error", markup=False)

    def set_summary(self, text: Text) -> None:
        self.query_one("#summary", Static).update(text)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    async def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        # The search for the previous text is stale: stop it, so this one need not wait
        # behind it (on a million incidents a two-letter search can take a while).
        await self.ops.store.interrupt_searches()
        self.refilter()

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()

    def has_unsaved_input(self) -> bool:
        return False

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if self.filter_text or box.display:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.refilter()
            self.table.focus()

    def action_copy(self) -> None:
        key = self.table.selected_key()
        if key:
            self.app.copy_to_clipboard(key)
            self.notify(f"copied {one_line(key, limit=60)}", markup=False)

    @on(OpsTable.Highlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    @on(OpsTable.Selected)
    def _row_selected(self, event: OpsTable.Selected) -> None:
        self.open_row(event.key)

    def open_row(self, key: str) -> None:
        """Enter on a row; screens with a detail view override this."""
