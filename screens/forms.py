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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Enter is the form's only in a field; on a button or a list it is theirs.
        return isinstance(self.focused, Input) if action == "next_field" else True

    def action_next_field(self) -> None:
        """Enter in a field, handled as the key arrives (a priority binding, not the
        field's Submitted message, which comes after the keys already queued): over a
        slow link "title, Enter, service" arrive together, and the service must reach
        the next field, not the end of the title."""
        if isinstance(self.focused, Input):
            self.entered(self.focused)

    def entered(self, field: Input) -> None:
        """What Enter in `field` does: the next field (a form may save on its last)."""
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


def labelled_css(form: str) -> str:
    """CSS for one-line fields with their names beside them (as the change form has), so
    a filled field keeps its name and a prefilled one says what it is."""
    return f"""
    {form} .field {{ height: 1; margin-bottom: 0; }}
    {form} .field Label {{
        width: 14; padding-right: 1; text-align: right; color: $text-muted;
    }}
    {form} .field Input {{ width: 1fr; background: $boost; }}
    {form} .field Input:focus {{ background: $primary-muted; }}
    """


def labelled(name: str, box: Input) -> Horizontal:
    """`box` with its name beside it, on one line."""
    return Horizontal(Label(Text(name), classes="field-name"), box, classes="field")


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
    """Title, service, impact, urgency and description, each named beside its field,
    validated before it returns."""

    DEFAULT_CSS = labelled_css("NewIncidentForm")

    def __init__(self, services: list[str]) -> None:
        super().__init__()
        self._services = services

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("New incident", style="bold"))
            yield labelled("Title", Input(
                compact=True, placeholder="what is broken, for whom", max_length=300, id="title"
            ))  # fmt: skip
            yield labelled("Service", Input(
                compact=True, placeholder="a few letters; Enter takes the first match",
                suggester=SuggestFromList(self._services, case_sensitive=False), id="service",
            ))  # fmt: skip
            yield Static(self._matches(""), id="service-matches")
            yield labelled("Impact", Input(
                compact=True, placeholder="1 many affected … 3 few (default 3)",
                restrict="[1-3]", max_length=1, id="impact",
            ))  # fmt: skip
            yield labelled("Urgency", Input(
                compact=True, placeholder="1 hurts now … 3 can wait (default 3)",
                restrict="[1-3]", max_length=1, id="urgency",
            ))  # fmt: skip
            yield labelled("Description", Input(
                compact=True, placeholder="optional", max_length=20000, id="description"
            ))  # fmt: skip
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

    def entered(self, field: Input) -> None:
        """Enter in Service takes the first matching service, then moves on."""
        if field.id == "service":
            found = self.matching(field.value)
            if field.value.strip() and field.value.strip() not in self._services and found:
                field.value = found[0]
        super().entered(field)

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
    """Cover a schedule: schedule, person, from, to (UTC, "2026-11-26 09:00"), reason,
    each named beside its field (the first four come filled in)."""

    DEFAULT_CSS = labelled_css("OverrideForm")

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
            first = self._schedules[0] if self._schedules else ""
            yield labelled("Schedule", Input(
                compact=True, value=first, placeholder=one_line(", ".join(self._schedules), 200),
                id="schedule",
            ))  # fmt: skip
            yield labelled("Person", Input(
                compact=True, value=self._me, placeholder="login", id="login"
            ))  # fmt: skip
            yield labelled("From (UTC)", Input(
                compact=True, value=f"{start:%Y-%m-%d %H:%M}", placeholder="2026-11-26 09:00",
                id="start",
            ))  # fmt: skip
            yield labelled("To (UTC)", Input(
                compact=True, value=f"{start + timedelta(hours=12):%Y-%m-%d %H:%M}",
                placeholder="2026-11-26 21:00", id="end",
            ))  # fmt: skip
            yield labelled("Reason", Input(
                compact=True, placeholder="optional", max_length=200, id="reason"
            ))  # fmt: skip
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
