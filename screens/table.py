"""The table every screen lists its rows in: it draws only the lines on screen.

A DataTable holds every row as widgets' data and re-measures them all; a million incidents
would take seconds and hundreds of megabytes. This table asks a `RowSource` for how many
rows there are and for windows of them, keeps a few pages in a small cache, and renders
the visible lines with the Line API. Small screens hand it their rows in a `ListSource`;
the queue hands it a source backed by windowed SQL.

Cells are `Text` made by `screens.cells`, already cleaned of control and escape sequences:
`Segment`s go to the terminal verbatim, so nothing else may be drawn here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from opsdesk.console.domain.text import one_line
from opsdesk.screens.keys import bindings
from opsdesk.store import SearchInterrupted, StoreError

PAGE = 100
CACHE_PAGES = 40
GAP = 1  # space between columns (each also ends in its own padding where needed)


@dataclass(frozen=True)
class Row:
    key: str
    cells: tuple[Text, ...]
    search: str
    record: Any = None


class RowSource(Protocol):
    """Where a table's rows come from: a count, and windows in display order."""

    async def count(self) -> int: ...

    async def window(self, offset: int, limit: int) -> list[Row]: ...


class ListSource:
    """Rows already in memory (the small screens), narrowed by the `/` filter text."""

    def __init__(self, rows: Sequence[Row], needle: str = "") -> None:
        folded = needle.casefold()
        self.rows = [r for r in rows if folded in r.search] if folded else list(rows)

    async def count(self) -> int:
        return len(self.rows)

    async def window(self, offset: int, limit: int) -> list[Row]:
        return self.rows[offset : offset + limit]


class OpsTable(ScrollView, can_focus=True):
    """A virtual table with a row cursor, marks (space, on screens that allow them), vim/k9s
    motion keys, and a header that can be clicked to sort."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("table")
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ops-table--header",
        "ops-table--cursor",
        "ops-table--even-row",
        "ops-table--pending",
        "ops-table--empty",
    }
    DEFAULT_CSS = """
    OpsTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        & > .ops-table--header { text-style: bold; background: $panel; }
        & > .ops-table--even-row { background: $surface-lighten-1 50%; }
        & > .ops-table--pending { color: $text-muted; }
        & > .ops-table--empty { color: $text-muted; }
        & > .ops-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .ops-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        &:ansi > .ops-table--header { background: ansi_bright_blue; color: ansi_default; }
    }
    """

    class Highlighted(Message):
        """The cursor moved to another row (or the row under it changed)."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    class Selected(Message):
        """Enter (or a click on the cursor row) on a row."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class HeaderSelected(Message):
        """A click on a column heading."""

        def __init__(self, column: int) -> None:
            super().__init__()
            self.column = column

    def __init__(
        self, columns: Sequence[str], flex: int = 0, empty: str = "nothing here", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.labels = [Text(name) for name in columns]
        self.flex = flex
        self.empty = empty
        self.total = 0
        self.cursor = 0
        self.marked: set[str] = set()
        self.widths = [len(name) for name in columns]
        self._source: RowSource = ListSource([])
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._pending: set[int] = set()
        self._generation = 0
        self._last_key: str | None = None

    # --- what screens call -------------------------------------------------------------

    async def show(self, source: RowSource, keep: str | None = None, top: bool = False) -> None:
        """Show `source`, with the cursor on row `keep` if it is near where the cursor was,
        else at the same position (or on the first row, with `top`: a new filter or order).
        Everything is fetched before anything changes, so a reload never flashes an empty
        table or moves the view."""
        total = await source.count()
        cursor = 0 if top else min(self.cursor, max(total - 1, 0))
        first = max(cursor // PAGE - 1, 0) * PAGE
        # A kept row may have moved a little up or down; a first or fresh view has none.
        pages = 1 if top or not self._pages else 3
        rows = await source.window(first, pages * PAGE) if total else []
        if keep is not None:
            found = next((i for i, row in enumerate(rows) if row.key == keep), None)
            if found is not None:
                cursor = first + found
        self._source = source
        self._generation += 1
        self._pending.clear()
        self._pages = OrderedDict(
            (first // PAGE + n, rows[n * PAGE : (n + 1) * PAGE])
            for n in range(pages)
            if rows[n * PAGE : (n + 1) * PAGE]
        )
        self.total = total
        self.widths = self._measure(rows)
        self.virtual_size = Size(0, total + 1)
        self._move(cursor)
        self.refresh()

    @property
    def source(self) -> RowSource:
        """Where the rows shown come from (the filter and order they were fetched with)."""
        return self._source

    @property
    def generation(self) -> int:
        """How many times `show()` has swapped in new rows (a test can wait on it)."""
        return self._generation

    def set_labels(self, labels: Sequence[Text]) -> None:
        """Replace the column headings (the sort arrow lives there)."""
        self.labels = list(labels)
        self.refresh_line(0)

    def row_at(self, index: int) -> Row | None:
        """The row at `index` if it is in the cache (it is, for every visible row once
        drawn, and for every row of a small screen)."""
        page = self._pages.get(index // PAGE)
        if page is None or index % PAGE >= len(page):
            return None
        return page[index % PAGE]

    def loaded_rows(self) -> list[Row]:
        """The cached rows in display order (all of them on the small screens)."""
        return [row for _, page in sorted(self._pages.items()) for row in page]

    def selected_key(self) -> str | None:
        """The key (such as INC-12) of the row under the cursor, if there is one."""
        row = self.row_at(self.cursor) if self.total else None
        return None if row is None else row.key

    def selected_row(self) -> Row | None:
        return self.row_at(self.cursor) if self.total else None

    def move_to_key(self, key: str) -> bool:
        """Put the cursor on `key` if that row is loaded; say whether it was."""
        for page_number, page in self._pages.items():
            for index, row in enumerate(page):
                if row.key == key:
                    self._move(page_number * PAGE + index)
                    return True
        return False

    def toggle_mark(self, key: str) -> None:
        self.marked.symmetric_difference_update({key})
        self.refresh()

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self.refresh()

    # --- keys and mouse ----------------------------------------------------------------

    @property
    def page_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self.scroll_to(y=self.scroll_y - self.page_height, animate=False, immediate=True)
        self._move(self.cursor - self.page_height)

    def action_page_down(self) -> None:
        self.scroll_to(y=self.scroll_y + self.page_height, animate=False, immediate=True)
        self._move(self.cursor + self.page_height)

    def action_scroll_top(self) -> None:
        self._move(0)

    def action_scroll_bottom(self) -> None:
        self._move(self.total - 1)

    def action_select(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.Selected(key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column is not None:
                self.post_message(self.HeaderSelected(column))
            return
        index = int(self.scroll_y) + offset.y - 1
        if 0 <= index < self.total:
            if index == self.cursor:
                self.action_select()
            else:
                self._move(index)

    def _move(self, index: int) -> None:
        """Put the cursor on `index` (clamped), scroll it into view, and say so."""
        self.cursor = min(max(index, 0), max(self.total - 1, 0))
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + self.page_height:
            self.scroll_to(y=self.cursor - self.page_height + 1, animate=False, immediate=True)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        key = self.selected_key()
        if key != self._last_key:
            self._last_key = key
            self.post_message(self.Highlighted(key))

    # --- drawing -----------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(0, self.total + 1)
        self._move(self.cursor)

    def _measure(self, rows: Sequence[Row]) -> list[int]:
        """Each column as wide as its widest heading or loaded cell."""
        widths = [label.cell_len + 1 for label in self.labels]  # room for a sort arrow
        for row in rows:
            for index, value in enumerate(row.cells[: len(widths)]):
                widths[index] = max(widths[index], value.cell_len + (index == 0))
        return widths

    def _layout(self) -> list[int]:
        """Column widths that fit the widget: the flexible column (a title) takes what
        the others leave, and is cut with an ellipsis."""
        widths = list(self.widths)
        others = sum(w for i, w in enumerate(widths) if i != self.flex)
        room = self.scrollable_content_region.width - others - GAP * (len(widths) - 1) - 2
        widths[self.flex] = max(room, 8)
        return widths

    def _column_at(self, x: int) -> int | None:
        left = 1
        for index, width in enumerate(self._layout()):
            if left <= x < left + width + GAP:
                return index
            left += width + GAP
        return None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("ops-table--header")
            return self._strip(self.labels, base + header, width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            if index == 0:
                return self._empty_line(base + self.get_component_rich_style("ops-table--empty"))
            return Strip.blank(width, base)
        style = base
        if index % 2:
            style += self.get_component_rich_style("ops-table--even-row")
        row = self.row_at(index)
        if row is None:
            self._request(index // PAGE)
            pending = style + self.get_component_rich_style("ops-table--pending")
            return self._strip([Text("…")], pending, width)
        cells = list(row.cells)
        if row.key in self.marked:
            cells[0] = Text(f"●{one_line(row.key, limit=60)}", style="bold reverse")
        strip = self._strip(cells, style, width)
        if index == self.cursor:
            cursor = self.get_component_rich_style("ops-table--cursor")
            strip = Strip(Segment.apply_style(iter(strip), post_style=cursor), width)
        return strip

    def _empty_line(self, style: Style) -> Strip:
        """What an empty table says, centred across the whole table (not in a column)."""
        width = self.scrollable_content_region.width
        message = Text(one_line(self.empty))
        message.truncate(max(width - 2, 1), overflow="ellipsis")
        line = Text(" " * max((width - message.cell_len) // 2, 1))
        line.append_text(message)
        return self._render_text(line, style, width)

    def _strip(self, cells: Sequence[Text], style: Style, width: int) -> Strip:
        line = Text(" ")
        for index, (value, room) in enumerate(zip(cells, self._layout(), strict=False)):
            if index:
                line.append(" " * GAP)
            fitted = value.copy()
            fitted.truncate(room, overflow="ellipsis", pad=True)
            line.append_text(fitted)
        return self._render_text(line, style, width)

    def _render_text(self, line: Text, style: Style, width: int) -> Strip:
        segments = [
            Segment(text, style + seg_style if seg_style else style, control)
            for text, seg_style, control in line.render(self.app.console, end="")
        ]
        return Strip(segments).adjust_cell_length(width, style)

    # --- fetching ----------------------------------------------------------------------

    def _request(self, page: int) -> None:
        if page not in self._pending:
            self._pending.add(page)
            self.run_worker(self._fetch(page, self._generation), exit_on_error=False)

    async def _fetch(self, page: int, generation: int) -> None:
        try:
            rows = await self._source.window(page * PAGE, PAGE)
        except SearchInterrupted:
            return  # the filter changed under it; the new source fetches its own pages
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        finally:
            self._pending.discard(page)
        if generation != self._generation:
            return
        self._pages[page] = rows
        keep = {self.cursor // PAGE, page}
        while len(self._pages) > CACHE_PAGES:
            oldest = next(p for p in self._pages if p not in keep)
            del self._pages[oldest]
        self.refresh()
        self._announce()
