"""What the problem, review and Problems screens share: keys that say why they do not
apply (greyed in the footer, the reason on `?` and when pressed), one worker that runs a
write and reports it, and the forms (a problem's fields, a review's fields, a new action
item). Every label is a `Text` and every value is cleaned where it enters (ops), so
nothing typed or stored is parsed as markup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label

from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.screens.forms import ValidatedForm
from opsdesk.screens.screen import ExplainingScreen
from opsdesk.store import StoreError
from opsdesk.store.problem_records import ACTION_TYPES, Problem, Review

# -- keys that say why not ----------------------------------------------------------------


class ExplainedKeys(ExplainingScreen):
    """A screen whose keys in `EXPLAINED` are greyed (not hidden) when they do not apply,
    with the reason `why_not()` gives: on `?`, and as a warning when the key is pressed."""

    EXPLAINED: ClassVar[frozenset[str]] = frozenset()

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str:
        """Why `action` does not apply now ("" when it does)."""
        return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in self.EXPLAINED:
            return True
        return None if self.why_not(action, parameters) else True

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        return self.why_not(action, parameters) if action in self.EXPLAINED else ""

    @work(group="problem-write", exit_on_error=False)
    async def run_write(
        self, call: Callable[[], Awaitable[Any]], done: Callable[[Any], str]
    ) -> None:
        """Run one write; say what it did, or why it was refused (literally)."""
        try:
            result = await call()
        except (OpsdeskError, StoreError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False, timeout=10)
            return
        self.notify(one_line(done(result), limit=200), markup=False)


# -- forms --------------------------------------------------------------------------------


class FieldsForm(ValidatedForm[dict[str, Any]]):
    """One-line fields, each with its name beside it (fits 80x24, scrolls when smaller).
    `check()` turns what changed into the keyword arguments of an ops call, or says the
    first problem; a field left as it was is not sent."""

    DEFAULT_CSS = """
    FieldsForm .field { height: 1; margin-bottom: 0; }
    FieldsForm .field Label {
        width: 16; padding-right: 1; text-align: right; color: $text-muted;
    }
    FieldsForm .field Input { width: 1fr; background: $boost; }
    FieldsForm .field Input:focus { background: $primary-muted; }
    """
    FIELDS: ClassVar[tuple[tuple[str, str, str, int], ...]] = ()
    """(id, label, hint, max length)"""
    HEADING = ""

    def __init__(self, heading: str, values: dict[str, str] | None = None) -> None:
        super().__init__()
        self._heading = heading
        self._initial = dict(values or {})

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog"):
            yield Label(Text(one_line(self._heading, limit=70), style="bold"))
            for name, label, hint, limit in self.FIELDS:
                with Horizontal(classes="field"):
                    yield Label(Text(label), classes="field-name")
                    yield Input(
                        value=one_line(self._initial.get(name, ""), limit=limit),
                        compact=True, placeholder=hint, max_length=limit, id=name,
                    )  # fmt: skip
            yield Label(Text(""), id="problem")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    def on_mount(self) -> None:
        if self.FIELDS:
            self.query_one(f"#{self.FIELDS[0][0]}", Input).focus()

    def changed(self) -> dict[str, str]:
        """The fields whose text differs from what the form opened with."""
        return {
            name: self._value(name)
            for name, *_ in self.FIELDS
            if self._value(name) != one_line(self._initial.get(name, "")).strip()
        }

    def has_unsaved_input(self) -> bool:
        return bool(self.changed())

    def read(self) -> dict[str, Any] | str:
        changed = self.changed()
        if not changed:
            return "nothing changed"
        return self.check(changed)

    def check(self, changed: dict[str, str]) -> dict[str, Any] | str:
        return dict(changed)


class ProblemForm(FieldsForm):
    """A problem's title, services, root cause, workaround and fix (a change key)."""

    FIELDS = (
        ("title", "Title", "what keeps going wrong", 300),
        ("services", "Services", "comma-separated", 2000),
        ("root_cause", "Root cause", "why it happens (once known)", 20000),
        ("workaround", "Workaround", "what to do until it is fixed", 20000),
        ("fix_change", "Fix (change)", "CHG-n that fixes it; empty: none", 20),
    )

    def __init__(self, problem: Problem) -> None:
        values = {
            "title": problem.title, "services": ", ".join(problem.services),
            "root_cause": problem.root_cause, "workaround": problem.workaround,
            "fix_change": problem.fix_change or "",
        }  # fmt: skip
        super().__init__(f"Edit {problem.key}", values)

    def check(self, changed: dict[str, str]) -> dict[str, Any] | str:
        out: dict[str, Any] = {}
        for name, value in changed.items():
            if name == "title" and not value:
                return "a title is needed"
            if name == "services":
                services = [s.strip() for s in value.split(",") if s.strip()]
                if not services:
                    return "at least one service is needed"
                out["services"] = services
            elif name == "fix_change":
                if value:
                    out["fix_change"] = value.upper()
                else:
                    out["clear_fix"] = True
            else:
                out[name] = value
        return out


class ReviewForm(FieldsForm):
    """What people write in a review: summary, impact, root cause, contributing factors,
    what went well, where we got lucky."""

    FIELDS = (
        ("summary", "Summary", "what happened, in two sentences", 20000),
        ("customers", "Customers", "who was affected, how many", 2000),
        ("duration_minutes", "Duration (min)", "empty: the measured time", 7),
        ("sla_breached", "SLA breached", "yes, no; empty: as measured", 3),
        ("root_cause", "Root cause", "why it happened", 20000),
        ("contributing_factors", "Contributing", "what made it worse or likelier", 20000),
        ("went_well", "Went well", "what worked", 20000),
        ("lucky", "Got lucky", "where it could have been worse", 20000),
    )

    def __init__(self, incident_key: str, review: Review | None) -> None:
        values: dict[str, str] = {}
        if review is not None:
            values = {
                "summary": review.summary, "customers": review.customers,
                "root_cause": review.root_cause,
                "contributing_factors": review.contributing_factors,
                "went_well": review.went_well, "lucky": review.lucky,
                "duration_minutes": ""
                if review.duration_minutes is None else str(review.duration_minutes),
                "sla_breached": ""
                if review.sla_breached is None else ("yes" if review.sla_breached else "no"),
            }  # fmt: skip
        super().__init__(f"Review of {incident_key}", values)

    def check(self, changed: dict[str, str]) -> dict[str, Any] | str:
        out: dict[str, Any] = {}
        for name, value in changed.items():
            if name == "duration_minutes":
                if not value.isdigit():
                    return "the duration is a whole number of minutes (0 or more)"
                out[name] = int(value)
            elif name == "sla_breached":
                answer = value.casefold()
                if answer not in ("yes", "no"):
                    return "SLA breached is yes or no"
                out[name] = answer == "yes"
            else:
                out[name] = value
        return out


@dataclass(frozen=True)
class ActionInput:
    title: str
    type: str
    owner: str
    due: date | None


class ActionForm(FieldsForm):
    """A new action item: what, which type, who owns it, by when."""

    FIELDS = (
        ("title", "Action", "what to do so it does not happen again", 300),
        ("type", "Type", ", ".join(ACTION_TYPES), 20),
        ("owner", "Owner", "login", 100),
        ("due", "Due", "YYYY-MM-DD (optional)", 10),
    )

    def __init__(self, heading: str, owner: str, logins: list[str]) -> None:
        super().__init__(heading, {"type": "prevent", "owner": owner})
        self._logins = logins

    def read(self) -> dict[str, Any] | str:
        title, kind = self._value("title"), self._value("type").lower()
        owner, due_text = self._value("owner"), self._value("due")
        if not title:
            return "an action needs a title"
        if kind not in ACTION_TYPES:
            return f"type is one of {', '.join(ACTION_TYPES)}"
        if self._logins and owner not in self._logins:
            return f"unknown login {one_line(owner, limit=40)!r}"
        due = None
        if due_text:
            try:
                due = date.fromisoformat(due_text)
            except ValueError:
                return "the due date looks like 2026-12-01"
        return {"action": ActionInput(title, kind, owner, due)}
