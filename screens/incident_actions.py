"""Acting on incidents from the console: the same operations, roles and audit as the CLI.

Mixed into the queue (acts on the marked rows, else the row under the cursor) and the
incident detail. One-key moves ask for confirmation; the rest go through a form. Each
write carries the version the screen showed, so if someone else changed the incident
meanwhile the write is refused with who and when, and the screen shows the fresh state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual import work

from opsdesk.console.config.keymap import KEYS
from opsdesk.console.domain.lifecycle import HOLD_REASONS, RESOLUTION_CODES, allowed_verbs
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.forms import Ask, Choose, NewIncidentForm, NewIncidentInput
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import ExplainingScreen
from opsdesk.store import StoreError

ACTION_BINDINGS = bindings("incident_actions")
ACTIONS = {key.action.split("(")[0] for key in KEYS["incident_actions"]}
VERB_WORDS = {
    "acknowledge": ("Acknowledge", "acknowledged"),
    "start": ("Start work on", "started"),
    "resume": ("Resume", "resumed"),
    "reopen": ("Reopen", "reopened"),
    "close": ("Close", "closed"),
}


ACTION_WORDS = {
    "take": "take", "resolve": "resolve", "hold": "hold", "escalate": "escalate",
    "assign": "assign", "note": "a note", "priority": "impact/urgency", "csat": "CSAT",
    "new_incident": "a new incident",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """An incident as the screen shows it: the version is what a write is checked against."""

    key: str
    version: int
    state: str


class IncidentActions(ExplainingScreen):
    """Screens that act on incidents implement `targets()`."""

    BINDINGS = ACTION_BINDINGS

    def targets(self) -> list[Target]:
        raise NotImplementedError

    def after_action(self) -> None:
        """Called once a batch of writes is done (the queue clears its marks)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """An action that does not apply now is greyed (None), not hidden: the footer
        keeps its place and the key says why when pressed."""
        return True if self._applies(action, parameters) else None

    def _applies(self, action: str, parameters: tuple[object, ...]) -> bool:
        if action not in ACTIONS:
            return True
        if self.ops.store.read_only:
            return False
        if action == "new_incident":
            return True
        targets = self.targets()
        if not targets:
            return False
        if action == "escalate":
            return any(t.state not in ("resolved", "closed") for t in targets)
        verb = {"resolve": "resolve", "hold": "hold"}.get(action)
        if action == "incident" and parameters:
            verb = str(parameters[0])
        if verb is None:
            return any(t.state != "closed" for t in targets) or action == "csat"
        return any(verb in allowed_verbs(t.state) for t in targets)

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        """Why an incident action does not apply now, in words ("" when it does)."""
        if self._applies(action, parameters):
            return ""
        if self.ops.store.read_only:
            return self.read_only_reason()
        what = ACTION_WORDS.get(action, action)
        if action == "incident" and parameters:
            what = str(parameters[0])
        targets = self.targets()
        if not targets:
            return f"{what} needs an incident: none is selected"
        states = sorted({t.state.replace("_", " ") for t in targets})
        if len(targets) == 1:
            article = "an" if states[0][0] in "aeiou" else "a"
            return f"{what} does not apply to {article} {states[0]} incident"
        return f"{what} does not apply to the marked incidents ({', '.join(states)})"

    # Running writes ------------------------------------------------------------------

    @work(group="incident-action", exit_on_error=False)
    async def _run(self, done: str, calls: list[tuple[str, Callable[[], Awaitable[Any]]]]) -> None:
        succeeded, failed = [], []
        for key, call in calls:
            try:
                await call()
                succeeded.append(key)
            except (OpsdeskError, StoreError) as exc:
                failed.append(str(exc))
        if succeeded:
            self.notify(f"{done}: {', '.join(succeeded)}", markup=False)
        for problem in failed:
            self.notify(one_line(problem, limit=300), severity="error", markup=False, timeout=10)
        self.after_action()

    def _each(self, targets: list[Target], make: Callable[[Target], Awaitable[Any]]) -> list[Any]:
        return [(t.key, lambda t=t: make(t)) for t in targets]

    def _keys(self, targets: list[Target]) -> str:
        shown = ", ".join(t.key for t in targets[:5])
        return shown + (f" and {len(targets) - 5} more" if len(targets) > 5 else "")

    # Actions ---------------------------------------------------------------------------

    def action_incident(self, verb: str) -> None:
        targets = [t for t in self.targets() if verb in allowed_verbs(t.state)] or self.targets()
        ops, now = self.ops.incidents, self.ops.now

        def go(yes: bool | None) -> None:
            if yes:
                calls = self._each(
                    targets, lambda t: ops.transition(t.key, verb, now(), version=t.version)
                )
                self._run(VERB_WORDS[verb][1], calls)

        self.app.push_screen(Confirm(f"{VERB_WORDS[verb][0]} {self._keys(targets)}?"), go)

    def action_take(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now

        def go(yes: bool | None) -> None:
            if yes:
                self._run(
                    "taken",
                    self._each(targets, lambda t: ops.take(t.key, now(), version=t.version)),
                )

        self.app.push_screen(Confirm(f"Take {self._keys(targets)} (assign to you)?"), go)

    def action_escalate(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now

        def go(yes: bool | None) -> None:
            if yes:
                calls = self._each(targets, lambda t: ops.escalate(t.key, now(), version=t.version))
                self._run("escalated", calls)

        self.app.push_screen(
            Confirm(
                f"Escalate {self._keys(targets)} to the next level of the escalation policy "
                "(and assign it to whoever that level pages now)?"
            ),
            go,
        )

    def action_assign(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now
        people = [(p.login, f"{p.login}  {p.name}  ({p.timezone})") for p in self.ops.config.people]

        def go(login: str | None) -> None:
            if login:
                calls = self._each(
                    targets, lambda t: ops.assign(t.key, login, now(), version=t.version)
                )
                self._run(f"assigned to {login}", calls)

        self.app.push_screen(Choose(f"Assign {self._keys(targets)} to", people), go)

    def action_note(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now

        def go(text: str | None) -> None:
            if text:
                self._run("note added", self._each(targets, lambda t: ops.note(t.key, text, now())))

        self.app.push_screen(
            Ask(f"Note on {self._keys(targets)}", "what happened, what you did"), go
        )

    def action_hold(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now
        reasons = [(r, r.replace("_", " ")) for r in HOLD_REASONS]

        def go(reason: str | None) -> None:
            if reason:
                calls = self._each(
                    targets,
                    lambda t: ops.transition(
                        t.key, "hold", now(), reason=reason, version=t.version
                    ),
                )
                self._run("on hold", calls)

        self.app.push_screen(Choose(f"Put {self._keys(targets)} on hold: why?", reasons), go)

    def action_resolve(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now
        codes = [(c, c.replace("_", " ")) for c in RESOLUTION_CODES]

        def with_code(code: str | None) -> None:
            if not code:
                return

            def with_note(note: str | None) -> None:
                if note:
                    calls = self._each(
                        targets,
                        lambda t: ops.transition(
                            t.key, "resolve", now(), code=code, note=note, version=t.version
                        ),
                    )
                    self._run("resolved", calls)

            self.app.push_screen(
                Ask(f"Resolve {self._keys(targets)} ({code}): what was done?"), with_note
            )

        self.app.push_screen(Choose(f"Resolve {self._keys(targets)}: resolution", codes), with_code)

    def action_priority(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now
        levels = [("1", "1 — high"), ("2", "2 — medium"), ("3", "3 — low")]

        def with_impact(impact: str | None) -> None:
            if not impact:
                return

            def with_urgency(urgency: str | None) -> None:
                if urgency:
                    calls = self._each(
                        targets,
                        lambda t: ops.set_priority(
                            t.key, int(impact), int(urgency), now(), version=t.version
                        ),
                    )
                    self._run("priority changed", calls)

            self.app.push_screen(Choose("Urgency (how soon it hurts)", levels), with_urgency)

        self.app.push_screen(
            Choose(f"Impact of {self._keys(targets)} (how many affected)", levels), with_impact
        )

    def action_csat(self) -> None:
        targets, ops, now = self.targets(), self.ops.incidents, self.ops.now
        scores = [(str(n), f"{n} {'★' * n}") for n in range(5, 0, -1)]

        def go(score: str | None) -> None:
            if score:
                calls = self._each(
                    targets, lambda t: ops.csat(t.key, int(score), now(), version=t.version)
                )
                self._run(f"CSAT {score} recorded", calls)

        self.app.push_screen(Choose(f"Customer satisfaction for {self._keys(targets)}", scores), go)

    def action_new_incident(self) -> None:
        ops, now = self.ops.incidents, self.ops.now

        def go(form: NewIncidentInput | None) -> None:
            if form is None:
                return

            async def create() -> object:
                return await ops.create(
                    form.title,
                    form.service,
                    now(),
                    impact=form.impact,
                    urgency=form.urgency,
                    description=form.description,
                )

            self._run("created", [(form.title, create)])

        self.app.push_screen(NewIncidentForm([s.name for s in self.ops.config.services]), go)
