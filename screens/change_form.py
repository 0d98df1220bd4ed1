"""The new-change form: validated before it returns (title, type, known services, a
window that ends after it starts, plans for normal and emergency changes, risk answers)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label

from opsdesk.console.domain.text import one_line
from opsdesk.console.ops.changes import ChangePlan
from opsdesk.screens.forms import ValidatedForm
from opsdesk.store.records import ChangeRequest

TYPES = ("standard", "normal", "emergency")


def parse_when(text: str) -> datetime | None:
    """ "2026-11-26 10:00" or ISO 8601; no offset means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class NewChangeForm(ValidatedForm[ChangePlan]):
    """Nine one-line fields so the whole form (with its problem line and buttons) fits
    an 80×24 terminal; it scrolls if the terminal is smaller."""

    DEFAULT_CSS = """
    NewChangeForm Input { margin-bottom: 1; }
    """

    def __init__(
        self,
        services: list[str],
        questions: list[tuple[str, str]],
        editing: ChangeRequest | None = None,
    ) -> None:
        super().__init__()
        self._services = services
        self._questions = questions
        self._editing = editing

    def on_mount(self) -> None:
        change = self._editing
        if change is None:
            return
        values = {
            "title": change.title, "type": change.type, "services": ", ".join(change.services),
            "start": f"{change.planned_start:%Y-%m-%d %H:%M}",
            "end": f"{change.planned_end:%Y-%m-%d %H:%M}", "test_plan": change.test_plan,
            "backout_plan": change.backout_plan,
            "answers": ", ".join(q for q, yes in change.risk_answers.items() if yes),
        }  # fmt: skip
        for name, value in values.items():
            self.query_one(f"#{name}", Input).value = value

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            heading = f"Edit {self._editing.key}" if self._editing else "New change (a draft)"
            yield Label(Text(heading, style="bold"))
            yield Input(compact=True, placeholder="title", max_length=300, id="title")
            yield Input(compact=True, placeholder="type: standard, normal or emergency", id="type")
            yield Input(compact=True, placeholder="services, comma-separated", id="services")
            yield Input(compact=True, placeholder="start, e.g. 2026-11-26 10:00 (UTC)", id="start")
            yield Input(compact=True, placeholder="end, e.g. 2026-11-26 11:00 (UTC)", id="end")
            yield Input(compact=True, placeholder="test plan", max_length=20000, id="test_plan")
            yield Input(
                compact=True, placeholder="backout plan", max_length=20000, id="backout_plan"
            )
            ids = one_line(", ".join(q for q, _ in self._questions) or "none configured", 200)
            yield Input(
                compact=True, placeholder=f"risk questions answered yes ({ids})", id="answers"
            )
            yield Label(Text(""), id="problem")
            with Horizontal(classes="buttons"):
                yield Button("Create (ctrl+s)", id="create", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def has_unsaved_input(self) -> bool:
        return any(self._value(n) for n in ("title", "services", "test_plan", "backout_plan"))

    def read(self) -> ChangePlan | str:
        """The form's content, or the first problem with it."""
        title, kind = self._value("title"), self._value("type").lower()
        if not title:
            return "a title is needed"
        if kind not in TYPES:
            return "type is standard, normal or emergency"
        services = [s.strip() for s in self._value("services").split(",") if s.strip()]
        if not services:
            return "at least one service is needed"
        unknown = [s for s in services if self._services and s not in self._services]
        if unknown:
            return f"unknown service {unknown[0]!r}; known: {', '.join(self._services)}"
        start, end = parse_when(self._value("start")), parse_when(self._value("end"))
        if start is None or end is None:
            return "start and end are times like 2026-11-26 10:00 (UTC unless an offset is given)"
        if end <= start:
            return "the end must be after the start"
        plans = self._value("test_plan"), self._value("backout_plan")
        if kind != "standard" and not all(plans):
            return f"a {kind} change needs a test plan and a backout plan"
        known = {q for q, _ in self._questions}
        yes = [a.strip() for a in self._value("answers").split(",") if a.strip()]
        wrong = [a for a in yes if a not in known]
        if wrong:
            return f"unknown risk question {wrong[0]!r}; known: {', '.join(sorted(known))}"
        return ChangePlan(title, kind, tuple(services), start, end, plans[0], plans[1],
                          dict.fromkeys(yes, True))  # fmt: skip
