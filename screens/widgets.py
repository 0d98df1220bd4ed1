"""Widgets shared by the four screens: the header, the banner line, the data table."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Static

from opsdesk.console.text import one_line


class StatusHeader(Static):
    """One line: product, screen, who you are, which store, read-only flag, clock."""

    def compose_line(
        self, screen: str, login: str, roles: str, store: str, read_only: bool, clock: str
    ) -> Text:
        line = Text()
        line.append(" opsdesk ", style="bold reverse")
        line.append(f" {screen} ", style="bold")
        line.append("│ ")
        line.append(one_line(login, limit=24), style="bold")
        line.append(f" ({roles}) │ ")
        line.append(one_line(store, limit=40))
        if read_only:
            line.append(" │ ")
            line.append("READ-ONLY", style="bold reverse")
        if clock:
            line.append(f" │ {clock}")
        return line

    def show(self, **parts: object) -> None:
        self.update(self.compose_line(**parts))  # type: ignore[arg-type]


class BannerLine(Static):
    """The team banner, when a lead has set one; hidden otherwise."""

    def show_banner(self, text: str, set_by: str | None) -> None:
        self.display = bool(text)
        if text:
            line = Text("▶ ", style="bold")
            line.append(one_line(text, limit=200))
            line.append(f"  — {one_line(set_by or '?', limit=24)}", style="italic")
            self.update(line)


class OpsTable(DataTable[Text]):
    """A DataTable with the vim/k9s motion keys users already have in their fingers."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]

    def selected_key(self) -> str | None:
        """The row key under the cursor (an entity key such as INC-12), if any."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)
