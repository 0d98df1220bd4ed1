"""Widgets shared by the four screens: the header and the banner line."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from opsdesk.console.domain.text import one_line


class StatusHeader(Static):
    """One line: product, screen, who you are, which store, read-only flag, clock."""

    def compose_line(
        self, screen: str, login: str, roles: str, store: str, read_only: bool, clock: str
    ) -> Text:
        line = Text()
        line.append(" opsdesk ", style="bold reverse")
        line.append(f" {one_line(screen, limit=60)} ", style="bold")
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
