"""Modal forms for incident actions. Every prompt and label is a `Text`, so names and
values from config or the store are never parsed as markup. Each form returns its
values, or None when cancelled; it never writes anything itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from opsdesk.console.domain.text import one_line
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.keys import bindings

T = TypeVar("T")


class ValidatedForm(ModalScreen[T | None]):
    """A form that checks itself before it returns: `read()` gives the value or the first
    problem, which is shown in the #problem label. Enter moves to the next field, ctrl+s
    (or the first button) saves, Esc (or the other button) cancels."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("form")

    def read(self) -> T | str:
        raise NotImplementedError

    def _value(self, name: str) -> str:
        return self.query_one(f"#{name}", Input).value.strip()

    def action_save(self) -> None:
        result = self.read()
        if isinstance(result, str):
            problem = Text(one_line(result, limit=300), style="bold red")
            self.query_one("#problem", Label).update(problem)
            return
        self.dismiss(result)

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("create", "save"):
            self.action_save()
        else:
            self.action_cancel()

    def has_unsaved_input(self) -> bool:
        return any(box.value.strip() for box in self.query(Input))

    def action_cancel(self) -> None:
        discard(self)


def discard(form: ModalScreen[Any]) -> None:
    """Esc on a form: close it at once when nothing was typed, else ask first."""
    unsaved = getattr(form, "has_unsaved_input", lambda: False)
    if not unsaved():
        form.dismiss(None)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            form.dismiss(None)

    form.app.push_screen(Confirm("Discard what you typed?"), answered)


class Choose(ModalScreen[str | None]):
    """Pick one value from a list (a person, a hold reason, a resolution code, a score):
    type to narrow the list, up/down to move, Enter picks."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("choose")
    AUTO_FOCUS = "#choose-filter"

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self._title, limit=70), style="bold"))
            yield Input(placeholder="type to filter", compact=True, id="choose-filter")
            yield OptionList(*self._options(""), id="choices")
            yield Label(Text("type to filter · ↑↓ · Enter picks · Esc cancels", style="dim"))

    def _options(self, needle: str) -> list[Option]:
        wanted = needle.strip().casefold()
        return [
            Option(Text(one_line(label, limit=70)), id=value)
            for value, label in self._choices
            if wanted in label.casefold() or wanted in value.casefold()
        ]

    @on(Input.Changed, "#choose-filter")
    def _narrow(self, event: Input.Changed) -> None:
        choices = self.query_one("#choices", OptionList)
        choices.clear_options()
        options = self._options(event.value)
        choices.add_options(options)
        choices.highlighted = 0 if options else None

    def action_move(self, step: int) -> None:
        choices = self.query_one("#choices", OptionList)
        if step < 0:
            choices.action_cursor_up()
        else:
            choices.action_cursor_down()

    @on(Input.Submitted, "#choose-filter")
    def _take_highlighted(self) -> None:
        choices = self.query_one("#choices", OptionList)
        if choices.highlighted is not None and choices.option_count:
            self.dismiss(choices.get_option_at_index(choices.highlighted).id)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Ask(ModalScreen[str | None]):
    """One line of text (a note, a resolution note); Enter submits, Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("ask")

    def __init__(
        self, title: str, placeholder: str = "", max_length: int = 2000, *, required: bool = True
    ) -> None:
        super().__init__()
        self._title = title
        self._required = required
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
        if self._required and not event.value.strip():
            self.query_one("#problem", Label).update(Text("this cannot be empty", style="bold red"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        discard(self)


@dataclass(frozen=True)
class NewIncidentInput:
    title: str
    service: str
    impact: int
    urgency: int
    description: str


class NewIncidentForm(ValidatedForm[NewIncidentInput]):
    """Title, service, impact, urgency and description, validated before it returns."""

    def __init__(self, services: list[str]) -> None:
        super().__init__()
        self._services = services

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("New incident", style="bold"))
            yield Input(placeholder="title (what is broken, for whom)", max_length=300, id="title")
            yield Input(
                placeholder="service (type a few letters, Enter takes the first match)",
                suggester=SuggestFromList(self._services, case_sensitive=False),
                id="service",
            )
            yield Static(self._matches(""), id="service-matches")
            with Horizontal(classes="pair"):
                yield Input(placeholder="impact 1-3", restrict="[1-3]", max_length=1, id="impact")
                yield Input(placeholder="urgency 1-3", restrict="[1-3]", max_length=1, id="urgency")
            yield Input(placeholder="description (optional)", max_length=20000, id="description")
            yield Label(Text(""), id="problem")
            with Horizontal(classes="buttons"):
                yield Button("Create (ctrl+s)", id="create", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def matching(self, typed: str) -> list[str]:
        """Configured services for what was typed: those starting with it, then those
        containing it."""
        wanted = typed.strip().casefold()
        first = [s for s in self._services if s.casefold().startswith(wanted)]
        return first + [s for s in self._services if wanted in s.casefold() and s not in first]

    def _matches(self, typed: str) -> Text:
        found = self.matching(typed)
        if not self._services:
            return Text("")
        line = Text("services: ", style="dim")
        line.append(one_line(", ".join(found), limit=66) if found else "none match", style="dim")
        return line

    @on(Input.Changed, "#service")
    def _service_typed(self, event: Input.Changed) -> None:
        self.query_one("#service-matches", Static).update(self._matches(event.value))

    @on(Input.Submitted, "#service")
    def _service_picked(self, event: Input.Submitted) -> None:
        found = self.matching(event.value)
        if event.value.strip() and event.value.strip() not in self._services and found:
            event.input.value = found[0]

    def has_unsaved_input(self) -> bool:
        return any(self._value(n) for n in ("title", "service", "description"))

    def read(self) -> NewIncidentInput | str:
        if not self._value("title"):
            return "a title is needed"
        service = self._value("service")
        if not service:
            return "a service is needed"
        if self._services and service not in self._services:
            return f"unknown service; known: {', '.join(self._services)}"
        return NewIncidentInput(
            title=self._value("title"),
            service=service,
            impact=int(self._value("impact") or 3),
            urgency=int(self._value("urgency") or 3),
            description=self._value("description"),
        )


@dataclass(frozen=True)
class OverrideInput:
    schedule: str
    login: str
    start: datetime
    end: datetime
    reason: str


class OverrideForm(ValidatedForm[OverrideInput]):
    """Cover a schedule: schedule, person, from, to (UTC, "2026-11-26 09:00"), reason."""

    def __init__(self, schedules: list[str], logins: list[str], me: str, now: datetime) -> None:
        super().__init__()
        self._schedules = schedules
        self._logins = logins
        self._me = me
        self._now = now

    def compose(self) -> ComposeResult:
        start = self._now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        with Vertical(classes="dialog"):
            yield Label(Text("Override: who covers a schedule, when (UTC)", style="bold"))
            yield Input(
                value=self._schedules[0] if self._schedules else "",
                placeholder="schedule",
                id="schedule",
            )
            yield Input(value=self._me, placeholder="person (login)", id="login")
            with Horizontal(classes="pair"):
                yield Input(value=f"{start:%Y-%m-%d %H:%M}", placeholder="from", id="start")
                yield Input(
                    value=f"{start + timedelta(hours=12):%Y-%m-%d %H:%M}",
                    placeholder="to",
                    id="end",
                )
            yield Input(placeholder="reason (optional)", max_length=200, id="reason")
            yield Label(Text(""), id="problem")
            yield Label(Text("ctrl+s saves · Esc cancels · Tab next field", style="dim"))

    def has_unsaved_input(self) -> bool:
        return bool(self._value("reason"))

    def read(self) -> OverrideInput | str:
        schedule, login = self._value("schedule"), self._value("login")
        if schedule not in self._schedules:
            return f"unknown schedule; known: {', '.join(self._schedules)}"
        if self._logins and login not in self._logins:
            return f"unknown person {login!r}"
        try:
            start = datetime.fromisoformat(self._value("start")).replace(tzinfo=UTC)
            end = datetime.fromisoformat(self._value("end")).replace(tzinfo=UTC)
        except ValueError:
            return 'times look like "2026-11-26 09:00" (UTC)'
        if end <= start:
            return "the override must end after it starts"
        return OverrideInput(schedule, login, start, end, self._value("reason"))
