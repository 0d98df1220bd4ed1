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
    """Eight one-line fields, each with its name beside it, so the whole form (with its
    problem line and buttons) fits an 80×24 terminal; it scrolls if the terminal is
    smaller. The cursor starts in the title."""

    DEFAULT_CSS = """
    NewChangeForm .field { height: 1; margin-bottom: 0; }
    NewChangeForm .field Label {
        width: 14; padding-right: 1; text-align: right; color: $text-muted;
    }
    NewChangeForm .field Input { width: 1fr; background: $boost; }
    NewChangeForm .field Input:focus { background: $primary-muted; }
    """
    FIELDS = (
        ("title", "Title", "what changes, where", 300),
        ("type", "Type", "standard, normal or emergency", 20),
        ("services", "Services", "comma-separated", 2000),
        ("start", "Start (UTC)", "e.g. 2026-11-26 10:00", 40),
        ("end", "End (UTC)", "e.g. 2026-11-26 11:00", 40),
        ("test_plan", "Test plan", "how you will know it worked", 20000),
        ("backout_plan", "Backout plan", "how to undo it", 20000),
    )

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
        self._initial: dict[str, str] | None = None

    def on_mount(self) -> None:
        change = self._editing
        if change is not None:
            values = {
                "title": change.title, "type": change.type, "services": ", ".join(change.services),
                "start": f"{change.planned_start:%Y-%m-%d %H:%M}",
                "end": f"{change.planned_end:%Y-%m-%d %H:%M}", "test_plan": change.test_plan,
                "backout_plan": change.backout_plan,
                "answers": ", ".join(q for q, yes in change.risk_answers.items() if yes),
            }  # fmt: skip
            for name, value in values.items():
                self.query_one(f"#{name}", Input).value = value
        self._initial = self._values()
        self.query_one("#title", Input).focus()

    def _values(self) -> dict[str, str]:
        return {box.id or "": box.value for box in self.query(Input)}

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            heading = f"Edit {self._editing.key}" if self._editing else "New change (a draft)"
            yield Label(Text(heading, style="bold"))
            for name, label, hint, limit in self.FIELDS:
                with Horizontal(classes="field"):
                    yield Label(Text(label), classes="field-name")
                    yield Input(compact=True, placeholder=hint, max_length=limit, id=name)
            ids = one_line(", ".join(q for q, _ in self._questions) or "none configured", 200)
            with Horizontal(classes="field"):
                yield Label(Text("Risk: yes to"), classes="field-name")
                yield Input(compact=True, placeholder=f"question ids ({ids})", id="answers")
            yield Label(Text(""), id="problem")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)" if self._editing else "Create (ctrl+s)",
                             id="create", variant="primary")  # fmt: skip
                yield Button("Cancel (Esc)", id="cancel")

    def has_unsaved_input(self) -> bool:
        """Anything typed or changed since the form opened."""
        initial = self._initial
        if initial is None:
            return False
        return any(value.strip() != initial.get(key, "").strip()
                   for key, value in self._values().items())  # fmt: skip

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
