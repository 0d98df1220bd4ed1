"""Modal screens: help, the `:` command line, confirmation, and the banner form."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, Label, Static

from opsdesk.console.domain.metrics import QueueMetrics, short, table_rows
from opsdesk.console.domain.text import clean, one_line
from opsdesk.screens.keys import bindings
from opsdesk.store.records import HandoffNote


def binding_rows(screen: Screen[object]) -> list[tuple[str, str, str]]:
    """(key, what it does, binding id) for every binding active on `screen`, opsdesk's own
    (which have ids and can be rebound) first, then the widgets' built-in keys."""
    rows = []
    seen = set()
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if binding.system or not binding.description or not active.enabled:
            continue
        label = screen.app.get_key_display(binding)
        marker = (label, binding.description)
        if marker in seen:
            continue
        seen.add(marker)
        rows.append((label or key, binding.description, binding.id or ""))
    rows.sort(key=lambda row: row[2] == "")
    return rows


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen underneath, with its id for `[keys]` in config."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("help")

    def __init__(self, rows: list[tuple[str, str, str]], extra: list[str]) -> None:
        super().__init__()
        self._rows = rows
        self._extra = extra

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(Text("Keys on this screen", style="bold"))
            table: DataTable[str] = DataTable(id="help-table", cursor_type="row")
            table.add_columns(Text("Key"), Text("Does"), Text("Binding id (for [keys] in config)"))
            for row in self._rows:
                table.add_row(*(Text(one_line(part, limit=60)) for part in row))  # type: ignore[arg-type]
            yield table
            yield Static(Text("\n".join(self._extra)), id="help-extra")
            yield Label(Text("Esc closes", style="dim"))

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


class MetricsScreen(ModalScreen[None]):
    """MTTA and MTTR (mean, median, p90), attainment and CSAT over 7 and 30 days."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("metrics")

    def __init__(self, metrics: QueueMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def compose(self) -> ComposeResult:
        backlog = self._metrics.backlog
        with Vertical(id="help-box"):
            yield Label(Text("Queue metrics", style="bold"))
            yield Label(
                Text(
                    f"open {backlog.open:,} · breached now {backlog.breached:,} · "
                    f"oldest open {short(backlog.oldest_age)}"
                )
            )
            table: DataTable[Text] = DataTable(id="help-table", cursor_type="row")
            table.add_columns(Text("Measure"), Text("Last 7 days"), Text("Last 30 days"))
            for row in table_rows(self._metrics):
                table.add_row(*(Text(part) for part in row))
            yield table
            yield Label(
                Text(
                    "MTTA: created → acknowledged. MTTR: created → resolved. Esc closes",
                    style="dim",
                )
            )

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


COMMANDS = [
    "queue", "oncall", "vendors", "changes", "inc ", "help", "banner", "theme light",
    "theme dark", "quit", "metrics", "mine", "breached", "unassigned", "urgent", "all",
]  # fmt: skip


class CommandLine(ModalScreen[str | None]):
    """k9s-style `:` prompt at the bottom: `:queue`, `:oncall`, `:inc INC-12`, `:q`."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("command_line")

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="queue | oncall | vendors | changes | inc INC-12 | help | quit",
            suggester=SuggestFromList(COMMANDS, case_sensitive=False),
            id="command-input",
        )

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Yes/no question; `y` or Enter on "Yes" confirms, `n` or Esc declines."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self._question, limit=200)))
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class BannerForm(ModalScreen[str | None]):
    """Edit the team banner. Returns the new text ("" clears it) or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("banner_form")

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Team banner (shown on every console; empty clears it)", style="bold"))
            yield Input(value=self._current, max_length=200, id="banner-input")
            yield Label(Text("Enter saves · Esc cancels", style="dim"))

    def has_unsaved_input(self) -> bool:
        return self.query_one("#banner-input", Input).value != self._current

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class HandoffNotesScreen(ModalScreen[bool]):
    """Handoff notes left for you; closing it marks them read."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("handoff_notes")

    def __init__(self, notes: list[HandoffNote]) -> None:
        super().__init__()
        self._notes = notes

    def compose(self) -> ComposeResult:
        body = Text()
        for note in self._notes:
            body.append(
                f"{one_line(note.schedule, limit=40)} · from {one_line(note.author, limit=24)} · ",
                style="bold",
            )
            body.append(f"{note.created_at:%Y-%m-%d %H:%M}Z\n", style="dim")
            body.append(clean(note.text, limit=4000))
            body.append("\n\n")
        with Vertical(id="help-box"):
            yield Label(Text(f"Handoff notes for you ({len(self._notes)})", style="bold"))
            with VerticalScroll():
                yield Static(body, id="handoff-body")
            yield Label(Text("Enter or Esc marks them read", style="dim"))

    def action_done(self) -> None:
        self.dismiss(True)
