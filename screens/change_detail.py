"""One change in full: plan, risk answers, approvals so far and still needed, conflicts
with their reasons, linked incidents and the timeline. A workflow key of this change's
stage that does not apply to you (yet) is greyed in the footer; a key of another stage is
left out of it (ten greyed keys would push Help and Quit off an 80-column footer). Either
says why when pressed and on `?`: the reason the operation itself would refuse with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.domain.change_rules import (
    REVIEW_NEEDED,
    REVIEWABLE,
    VERBS,
    change_event_words,
    describe,
    rule_for,
)
from opsdesk.console.domain.text import clean, one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.changes import ChangeOps, ChangePlan, ChangeView
from opsdesk.screens.change_form import NewChangeForm
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.forms import Ask
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import ExplainingScreen, LiveDetailScreen
from opsdesk.store import StoreError

STEP_WORDS = {
    "start": "Start", "complete": "Complete", "fail": "Mark failed",
    "rollback": "Roll back", "close": "Close",
}  # fmt: skip


class ChangeDetailScreen(LiveDetailScreen, ExplainingScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("change_detail")
    PARTS = ("change",)

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.view: ChangeView | None = None

    def header_title(self) -> str:
        return f"Change {self.key}"

    @property
    def changes(self) -> ChangeOps:
        return ChangeOps(self.ops.store, self.ops.config, self.ops.actor)

    @work(exclusive=True, group="change", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.view = await self.changes.view(self.key, self.ops.now())
        except (StoreError, OpsdeskError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        self.query_one("#change", Static).update(render(self.view))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A workflow key that does not apply is greyed (None) when it belongs to the
        change's stage, else left out of the footer (False); both still say why."""
        if action not in ("step", "decide", "edit") or not self.explain_action(action, parameters):
            return True
        return None if self._of_this_stage(action, parameters) else False

    def _of_this_stage(self, action: str, parameters: tuple[object, ...]) -> bool:
        """Whether the key is one this change's state is about (approve while submitted,
        start once approved or while waiting for approvals), whoever may press it."""
        if self.view is None:
            return True
        change = self.view.change
        if action == "edit":
            return change.state in ("draft", "rejected")
        verb = str(parameters[0])
        if action == "decide":
            rule = rule_for(self.ops.config, change.type, change.risk)
            review = verb == "approve" and rule.review_after and change.state in REVIEWABLE
            return change.state == "submitted" or review
        return change.state in VERBS[verb][0] or (verb == "start" and change.state == "submitted")

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        if action not in ("step", "decide", "edit"):
            return ""
        if self.view is None:
            return f"{self.key} is still loading"
        if why := self.read_only_reason():
            return why
        verb = "edit" if action == "edit" else str(parameters[0])
        return self.changes.why_not(self.view, verb)

    def action_step(self, verb: str) -> None:
        """Confirm a step first; closing a change that needs a review asks for it, and
        submitting a change with conflicts shows them and records the acknowledgement."""
        change, now = self.view.change if self.view else None, self.ops.now
        if (
            verb == "close"
            and change
            and (change.state in REVIEW_NEEDED or change.type == "emergency")
        ):

            def close(text: str | None) -> None:
                if text:
                    self._run(lambda ops: ops.transition(self.key, "close", now(), review=text))

            prompt = Ask(f"Post-implementation review of {self.key}", "what happened, lessons")
            self.app.push_screen(prompt, close)
            return
        if verb == "submit":
            conflicts = self.view.conflicts if self.view else []
            reasons = one_line("; ".join(c.reason for c in conflicts), limit=300)
            question = (
                f"{self.key} has conflicts: {reasons}. Submit anyway?"
                if conflicts
                else f"Submit {self.key}?"
            )

            def submit(yes: bool | None) -> None:
                if yes:
                    acked = bool(conflicts)
                    self._run(lambda ops: ops.submit(self.key, now(), ack_conflicts=acked))

            self.app.push_screen(Confirm(question), submit)
            return

        def step(yes: bool | None) -> None:
            if yes:
                self._run(lambda ops: ops.transition(self.key, verb, now()))

        self.app.push_screen(Confirm(f"{STEP_WORDS[verb]} {self.key}?"), step)

    def action_edit(self) -> None:
        if self.view is None:
            return
        config, change = self.ops.config, self.view.change
        questions = [(q.id, q.text) for q in config.changes.risk_questions]
        form = NewChangeForm([s.name for s in config.services], questions, editing=change)

        def save(given: ChangePlan | None) -> None:
            if given is not None:
                self._run(
                    lambda ops: ops.edit(self.key, given, self.ops.now(), version=change.version)
                )

        self.app.push_screen(form, save)

    def action_decide(self, decision: str) -> None:
        prompt = "Comment (why)" if decision == "reject" else "Comment (optional)"

        def decide(text: str | None) -> None:
            if text is not None:
                self._run(lambda ops: ops.decide(self.key, decision, text, self.ops.now()))

        ask = Ask(f"{decision.capitalize()} {self.key}: {prompt}", required=decision == "reject")
        self.app.push_screen(ask, decide)

    @work(group="change-action", exit_on_error=False)
    async def _run(self, call: Callable[[ChangeOps], Awaitable[Any]]) -> None:
        try:
            result = await call(self.changes)
        except (OpsdeskError, StoreError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False, timeout=10)
            return
        state = getattr(result, "state", "")
        self.notify(one_line(f"{self.key}: {state.replace('_', ' ')}", limit=80), markup=False)


def render(view: ChangeView) -> Text:
    c = view.change
    out = Text()
    out.append(f"{c.key} ", style="bold")
    out.append(f"{one_line(c.title, limit=200)}\n")
    out.append(one_line(f"{c.type} · risk {c.risk} · {c.state.replace('_', ' ')} · ", 80))
    out.append(f"{one_line(', '.join(c.services), limit=200)}\n")
    out.append(f"window {c.planned_start:%Y-%m-%d %H:%M} – {c.planned_end:%Y-%m-%d %H:%M} UTC")
    people = f" · implementer {c.implementer} · requested by {c.requester}"
    out.append(f"{one_line(people, limit=120)}\n")
    if c.risk_answers:
        answered = ", ".join(f"{q}: {'yes' if a else 'no'}" for q, a in c.risk_answers.items())
        out.append(f"risk answers: {one_line(answered, limit=300)}\n")
    if c.risk_justification:
        out.append(f"risk set by hand: {one_line(c.risk_justification, limit=300)}\n")
    for label, value in (("plan", c.description), ("test plan", c.test_plan),
                         ("backout plan", c.backout_plan), ("review", c.review)):  # fmt: skip
        if value:
            out.append(f"\n{label}\n", style="bold")
            out.append(clean(value, limit=4000) + "\n")
    out.append("\napprovals", style="bold")
    if c.state in ("draft", "submitted"):
        out.append(f" still needed: {describe(view.needed)}")
    if view.needed.review_after:
        reviewed = any(a.decision == "review" for a in view.approvals)
        out.append(" (CAB review afterwards: " + ("done)" if reviewed else "pending)"))
    out.append("\n")
    for approval in view.approvals:
        by = one_line(f"{approval.decision} by {approval.actor}", limit=60)
        out.append(f"  {approval.at:%m-%d %H:%M} {by}")
        roles = one_line("/".join(sorted(approval.roles)), limit=40)
        out.append(f" ({roles}) {one_line(approval.comment, 200)}\n")
    out.append("\nconflicts", style="bold")
    out.append(f" ({len(view.conflicts)})\n")
    for conflict in view.conflicts:
        out.append(f"  {words(one_line(conflict.kind, limit=20))}: ", style="bold yellow")
        out.append(f"{one_line(conflict.reason, limit=300)}\n")
    if c.conflicts_ack:
        out.append(f"  acknowledged on submit: {len(c.conflicts_ack)}\n", style="dim")
    if view.linked:
        out.append("\nlinked incidents ", style="bold")
        out.append(one_line(", ".join(view.linked), limit=300) + "\n")
    out.append("\ntimeline\n", style="bold")
    for event in view.events:
        what = change_event_words(event.kind, event.state)
        out.append(f"  {event.at:%m-%d %H:%M} {one_line(f'{event.actor}: {what}', limit=80)}")
        if event.detail:
            out.append(f" — {one_line(event.detail, limit=200)}")
        out.append("\n")
    return out
