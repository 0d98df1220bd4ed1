"""Incident detail: every field and the timeline of audited events, drawn literally."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from opsdesk.screens.cells import age, block, priority
from opsdesk.screens.widgets import StatusHeader
from opsdesk.store import StoreError

if TYPE_CHECKING:
    from opsdesk.console.app import OpsdeskApp


class IncidentScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="incident.back"),
        Binding("y", "copy", "Copy key", id="incident.copy"),
    ]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    @property
    def ops(self) -> OpsdeskApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        with VerticalScroll(id="detail"):
            yield Static(id="fields")
            yield Static(id="description")
            yield Static(id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "data_generation", lambda _: self.load(), init=False)
        self.update_header()
        self.load()

    def update_header(self) -> None:
        self.ops.paint_header(self, self.key)

    @work(exclusive=True, group="incident", exit_on_error=False)
    async def load(self) -> None:
        store, now = self.ops.store, self.ops.now()
        try:
            incident = await store.incidents.get(self.key)
            events = await store.audit.entries(entity_key=incident.key, limit=500)
        except StoreError as exc:
            self.query_one("#fields", Static).update(Text(str(exc), style="bold red"))
            return
        fields = Text()
        fields.append(f"{incident.key}  ", style="bold")
        fields.append_text(priority(incident.priority))
        fields.append("  ")
        fields.append_text(block(incident.title, limit=500))
        fields.append("\n")
        for name, value in (
            ("state", incident.state.replace("_", " ")),
            ("on hold for", incident.hold_reason),
            ("service", incident.service),
            ("impact / urgency", f"{incident.impact} / {incident.urgency}"),
            ("assignee", incident.assignee or "unassigned"),
            ("reporter", incident.reporter),
            ("source", incident.source),
            (
                "created",
                f"{incident.created_at:%Y-%m-%d %H:%M}Z ({age(incident.created_at, now)} ago)",
            ),
            (
                "acknowledged",
                incident.acknowledged_at and f"{incident.acknowledged_at:%Y-%m-%d %H:%M}Z",
            ),
            ("resolved", incident.resolved_at and f"{incident.resolved_at:%Y-%m-%d %H:%M}Z"),
            ("resolution", incident.resolution_code),
            ("CSAT", incident.csat),
            ("version", incident.version),
        ):
            if value not in (None, ""):
                fields.append(f"{name:>17}: ", style="dim")
                fields.append_text(block(str(value), limit=300))
                fields.append("\n")
        self.query_one("#fields", Static).update(fields)
        description = Text("Description\n", style="bold")
        description.append_text(block(incident.description or "(none)"))
        self.query_one("#description", Static).update(description)
        timeline = Text("Timeline\n", style="bold")
        for event in events:
            timeline.append(f"{event.at:%Y-%m-%d %H:%M}Z  ", style="dim")
            timeline.append_text(block(f"{event.actor}  {event.action}", limit=200))
            timeline.append("\n")
        if not events:
            timeline.append("no audited events (older demo incidents carry none)\n", style="dim")
        self.query_one("#timeline", Static).update(timeline)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.key)
        self.notify(f"copied {self.key}", markup=False)
