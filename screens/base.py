"""What the four screens share: header, banner, summary, a filterable table, live reload.

A screen asks the store for its data in `load()` and fills `self.rows`; this base class
draws them, filters them as you type after `/`, and reloads when the live change feed
says the store changed (at once if the screen is visible, else when it is shown again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from opsdesk.console.text import one_line
from opsdesk.screens.screen import OpsScreen
from opsdesk.screens.widgets import BannerLine, OpsTable, StatusHeader
from opsdesk.store import StoreError


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Text, ...]
    search: str
    record: Any = None


class StoreScreen(OpsScreen):
    """Base of the Queue, On-call, Vendors and Changes screens."""

    TITLE: ClassVar[str] = ""
    COLUMNS: ClassVar[tuple[str, ...]] = ()
    FLEX_COLUMN: ClassVar[int] = 0
    """The column (usually a title) that shrinks to fit the terminal width."""
    AUTO_FOCUS = "#table"
    EMPTY: ClassVar[str] = "nothing here yet"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("escape", "back", "Back", show=False, id="back"),
        Binding("y", "copy", "Copy key", show=False, id="copy"),
    ]

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
        table = OpsTable(id="table")
        table.add_columns(*(Text(name) for name in self.COLUMNS))
        yield table
        yield Footer(compact=True)

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
    async def reload(self) -> None:
        generation = self.ops.data_generation
        try:
            await self.load()
            banner = await self.ops.store.banner.get()
        except StoreError as exc:
            self.notify(one_line(str(exc)), severity="error", markup=False)
            return
        self.query_one(BannerLine).show_banner(banner.text, banner.set_by)
        self.loaded_generation = generation
        self.redraw()

    async def load(self) -> None:
        """Fetch this screen's data into `self.rows` and update the summary."""
        raise NotImplementedError

    def set_summary(self, text: Text) -> None:
        self.query_one("#summary", Static).update(text)

    def redraw(self) -> None:
        """Show the rows that match the filter, keeping the cursor on the same key."""
        table = self.query_one(OpsTable)
        keep = table.selected_key()
        needle = self.filter_text.casefold()
        shown = [r for r in self.rows if needle in r.search] if needle else self.rows
        table.clear()
        flex_width = self._flex_width(shown)
        for row in shown:
            cells = self.cells_for(row)
            if len(cells[self.FLEX_COLUMN]) > flex_width:
                cells[self.FLEX_COLUMN] = cells[self.FLEX_COLUMN].copy()
                cells[self.FLEX_COLUMN].truncate(flex_width, overflow="ellipsis")
            table.add_row(*cells, key=row.key)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))
        status = self.query_one("#filter-status", Static)
        status.display = bool(self.filter_text)
        if self.filter_text:
            label = Text("filter: ", style="bold")
            label.append(one_line(self.filter_text, limit=60))
            label.append(f"  ({len(shown)} of {len(self.rows)})   Esc clears")
            status.update(label)
        if not shown:
            table.add_row(
                *(
                    Text(self.EMPTY if i == self.FLEX_COLUMN else "")
                    for i in range(len(self.COLUMNS))
                )
            )

    def cells_for(self, row: Row) -> list[Text]:
        """The cells drawn for `row` (the queue marks selected rows here)."""
        return list(row.cells)

    def _flex_width(self, rows: list[Row]) -> int:
        """Room left for the flexible column once the others have their natural width."""
        others = 0
        for index, name in enumerate(self.COLUMNS):
            if index != self.FLEX_COLUMN:
                others += max([len(name), *(len(r.cells[index]) for r in rows)]) + 2
        return max(self.size.width - others - 4, 10)

    def on_resize(self) -> None:
        if self.rows:
            self.redraw()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_text
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.redraw()

    @on(Input.Submitted, "#filter")
    def _filter_kept(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one(OpsTable).focus()

    def has_unsaved_input(self) -> bool:
        return False

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if self.filter_text or box.display:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.redraw()
            self.query_one(OpsTable).focus()

    def action_copy(self) -> None:
        key = self.query_one(OpsTable).selected_key()
        if key:
            self.app.copy_to_clipboard(key)
            self.notify(f"copied {key}", markup=False)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_row(str(event.row_key.value))

    def open_row(self, key: str) -> None:
        """Enter on a row; screens with a detail view override this."""
