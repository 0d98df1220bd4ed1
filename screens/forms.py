"""Modal forms for incident actions. Every prompt and label is a `Text`, so names and
values from config or the store are never parsed as markup. Each form returns its
values, or None when cancelled; it never writes anything itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from opsdesk.console.text import one_line


class Choose(ModalScreen[str | None]):
    """Pick one value from a list (a person, a hold reason, a resolution code, a score)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel")
    ]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self._title, limit=70), style="bold"))
            yield OptionList(
                *(
                    Option(Text(one_line(label, limit=70)), id=value)
                    for value, label in self._choices
                ),
                id="choices",
            )
            yield Label(Text("Enter picks · Esc cancels", style="dim"))

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Ask(ModalScreen[str | None]):
    """One line of text (a note, a resolution note); Enter submits, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel")
    ]

    def __init__(self, title: str, placeholder: str = "", max_length: int = 2000) -> None:
        super().__init__()
        self._title = title
        self._placeholder = placeholder
        self._max_length = max_length

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self._title, limit=70), style="bold"))
            yield Input(placeholder=self._placeholder, max_length=self._max_length, id="answer")
            yield Label(Text("", style="bold red"), id="problem")
            yield Label(Text("Enter saves · Esc cancels", style="dim"))

    def has_unsaved_input(self) -> bool:
        return bool(self.query_one("#answer", Input).value.strip())

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#problem", Label).update(Text("this cannot be empty", style="bold red"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class NewIncidentInput:
    title: str
    service: str
    impact: int
    urgency: int
    description: str


class NewIncidentForm(ModalScreen[NewIncidentInput | None]):
    """Title, service, impact, urgency and description, validated before it returns."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Create", id="form.save", priority=True),
    ]

    def __init__(self, services: list[str]) -> None:
        super().__init__()
        self._services = services

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("New incident", style="bold"))
            yield Input(placeholder="title (what is broken, for whom)", max_length=300, id="title")
            yield Input(placeholder="service", id="service")
            with Horizontal(classes="pair"):
                yield Input(placeholder="impact 1-3", restrict="[1-3]", max_length=1, id="impact")
                yield Input(placeholder="urgency 1-3", restrict="[1-3]", max_length=1, id="urgency")
            yield Input(placeholder="description (optional)", max_length=20000, id="description")
            yield Label(Text(""), id="problem")
            with Horizontal(classes="buttons"):
                yield Button("Create (ctrl+s)", id="create", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value.strip()

    def has_unsaved_input(self) -> bool:
        return any(self._value(n) for n in ("title", "service", "description"))

    def _problem(self) -> str | None:
        if not self._value("title"):
            return "a title is needed"
        service = self._value("service")
        if not service:
            return "a service is needed"
        if self._services and service not in self._services:
            return f"unknown service; known: {', '.join(self._services)}"
        return None

    def action_save(self) -> None:
        problem = self._problem()
        if problem:
            self.query_one("#problem", Label).update(Text(problem, style="bold red"))
            return
        self.dismiss(
            NewIncidentInput(
                title=self._value("title"),
                service=self._value("service"),
                impact=int(self._value("impact") or 3),
                urgency=int(self._value("urgency") or 3),
                description=self._value("description"),
            )
        )

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)
