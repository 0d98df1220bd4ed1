"""One problem in full: fields, root cause, workaround, fix, linked incidents, timeline
and action items; keys to move it through its lifecycle, edit, note, assign, close (the
role config names) and add or finish action items. Keys that do not apply are greyed
with the reason. Everything stored is drawn literally."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.model import Config
from opsdesk.console.domain.problem_rules import (
    NEEDS,
    action_overdue,
    allowed_moves,
    review_calendar,
    state_name,
)
from opsdesk.console.domain.text import one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.problems import ProblemOps, ProblemView
from opsdesk.console.ops.reviews import ReviewOps
from opsdesk.screens.cells import block, cell, priority
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.forms import Ask, Choose
from opsdesk.screens.keys import bindings
from opsdesk.screens.problem_forms import ActionForm, ExplainedKeys, ProblemForm
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import StoreError
from opsdesk.store.problem_records import ActionItem

PROBLEM_TABLES = ("problems", "problem_incidents", "problem_events", "action_items")
STATE_STYLE = {
    "new": "bold", "under_investigation": "yellow", "root_cause_known": "cyan",
    "known_error": "bold magenta", "resolved": "green", "closed": "dim",
}  # fmt: skip


def review_zone(config: Config) -> str:
    """The zone whose dates count for action items' due days."""
    calendar = review_calendar(config)
    return calendar.timezone if calendar else "UTC"


def state_cell(state: str) -> Text:
    return Text(state_name(state), style=STATE_STYLE.get(state, ""))


def actions_text(items: list[ActionItem], now: datetime, zone: str = "UTC") -> Text:
    """Action items, one a line; overdue ones in reverse video with a word (not colour)."""
    out = Text("Action items\n", style="bold")
    if not items:
        out.append("(none yet: t adds one)\n", style="dim")
    for item in items:
        late = action_overdue(item, now, zone)
        out.append(f"  {item.key} ", style="bold")
        out.append_text(cell(item.state, limit=10))
        out.append(" ")
        if late:
            out.append(" OVERDUE ", style="bold reverse red")
            out.append(" ")
        out.append_text(cell(f"{item.title} ({item.type}, {item.owner})", limit=300))
        if item.due is not None:
            out.append(f" due {item.due:%Y-%m-%d}", style="dim")
        out.append("\n")
    return out


class ProblemDetailScreen(ExplainedKeys, LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("problem_detail")
    PARTS = ("problem-body", "problem-actions")
    WATCHES = (*PROBLEM_TABLES, "incidents", "changes")
    EXPLAINED = frozenset({"move", "edit", "note", "assign", "close", "add_action", "action_done"})

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.view: ProblemView | None = None

    def header_title(self) -> str:
        return f"Problem {self.key}"

    @property
    def problems(self) -> ProblemOps:
        return ProblemOps(self.ops.store, self.ops.config, self.ops.actor)

    @property
    def reviews(self) -> ReviewOps:
        return ReviewOps(self.ops.store, self.ops.config, self.ops.actor)

    @work(exclusive=True, group="problem", exit_on_error=False)
    async def load(self) -> None:
        try:
            view = await self.problems.view(self.key)
        except (StoreError, OpsdeskError) as exc:
            self.query_one("#problem-body", Static).update(
                Text(one_line(str(exc), limit=400), style="bold red")
            )
            return
        self.view = view
        self.query_one("#problem-body", Static).update(render(view))
        self.query_one("#problem-actions", Static).update(
            actions_text(view.actions, self.ops.now(), review_zone(self.ops.config))
        )
        self.refresh_bindings()

    # What applies ------------------------------------------------------------------------

    def open_actions(self) -> list[ActionItem]:
        return [] if self.view is None else [a for a in self.view.actions if a.state == "open"]

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str:
        if self.view is None:
            return "the problem is still loading"
        read_only = self.read_only_reason()
        if read_only:
            return read_only
        problem = self.view.problem
        if action == "close":
            if "closed" not in allowed_moves(problem.state):
                return f"a {state_name(problem.state)} problem cannot be closed"
            if not self.problems.may_close():
                role = self.ops.config.problems.close_role
                return f"closing a problem needs the {role} role ([problems] close_role)"
            return ""
        if problem.state == "closed":
            return f"{problem.key} is closed"
        if action == "move" and not self._moves():
            return f"a {state_name(problem.state)} problem has nowhere to move but closed"
        if action == "action_done" and not self.open_actions():
            return "no open action items"
        return ""

    def _moves(self) -> list[str]:
        if self.view is None:
            return []
        return [s for s in allowed_moves(self.view.problem.state) if s != "closed"]

    # Actions -----------------------------------------------------------------------------

    def action_move(self) -> None:
        if self.view is None:
            return
        problem, now = self.view.problem, self.ops.now
        choices = []
        for state in self._moves():
            label = state_name(state)
            need = NEEDS.get(state)
            if need and not getattr(problem, need[0]).strip():
                label += f" (needs {need[1]}: e edits)"
            choices.append((state, label))

        def move(state: str | None) -> None:
            if state:
                self.run_write(
                    lambda: self.problems.move(self.key, state, now(), version=problem.version),
                    lambda p: f"{p.key}: {state_name(p.state)}",
                )

        self.app.push_screen(Choose(f"Move {self.key} to", choices), move)

    def action_close(self) -> None:
        if self.view is None:
            return
        version, now = self.view.problem.version, self.ops.now

        def close(yes: bool | None) -> None:
            if yes:
                self.run_write(
                    lambda: self.problems.close(self.key, now(), version=version),
                    lambda p: f"{p.key}: closed",
                )

        self.app.push_screen(Confirm(f"Close {self.key}?"), close)

    def action_edit(self) -> None:
        if self.view is None:
            return
        problem, now = self.view.problem, self.ops.now

        def save(given: dict[str, Any] | None) -> None:
            if given:
                self.run_write(
                    lambda: self.problems.update(self.key, now(), version=problem.version, **given),
                    lambda p: f"{p.key} saved",
                )

        self.app.push_screen(ProblemForm(problem), save)

    def action_note(self) -> None:
        now = self.ops.now

        def note(text: str | None) -> None:
            if text:
                self.run_write(
                    lambda: self.problems.note(self.key, text, now()),
                    lambda _: f"note added to {self.key}",
                )

        self.app.push_screen(Ask(f"Note on {self.key}", "what you found or did"), note)

    def action_assign(self) -> None:
        if self.view is None:
            return
        version, now = self.view.problem.version, self.ops.now
        people = [(p.login, f"{p.login} {p.name or ''}".strip()) for p in self.ops.config.people]

        def assign(login: str | None) -> None:
            if login:
                self.run_write(
                    lambda: self.problems.assign(self.key, login, now(), version=version),
                    lambda p: f"{p.key} owned by {p.owner}",
                )

        self.app.push_screen(Choose(f"Owner of {self.key}", people), assign)

    def action_add_action(self) -> None:
        add_action_item(self, problem=self.key)

    def action_action_done(self) -> None:
        finish_action_item(self, self.open_actions())


def add_action_item(
    screen: ExplainedKeys, *, problem: str | None = None, incident: str | None = None
) -> None:
    """The action form, then the new item on the problem or review it comes from."""
    ops = ReviewOps(screen.ops.store, screen.ops.config, screen.ops.actor)
    logins = [p.login for p in screen.ops.config.people]
    form = ActionForm(f"New action for {problem or incident}", screen.ops.actor.login, logins)

    def add(given: dict[str, Any] | None) -> None:
        if given:
            item = given["action"]
            screen.run_write(
                lambda: ops.add_action(
                    item.title,
                    item.type,
                    item.owner,
                    screen.ops.now(),
                    problem=problem,
                    incident=incident,
                    due=item.due,
                ),
                lambda a: f"{a.key} added",
            )

    screen.app.push_screen(form, add)


def finish_action_item(screen: ExplainedKeys, items: list[ActionItem]) -> None:
    """Pick one of `items` (at once when there is one), confirm, mark it done."""
    ops = ReviewOps(screen.ops.store, screen.ops.config, screen.ops.actor)

    def confirm(key: str | None) -> None:
        item = next((i for i in items if i.key == key), None)
        if item is None:
            return

        def done(yes: bool | None) -> None:
            if yes:
                screen.run_write(
                    lambda: ops.update_action(
                        item.key, screen.ops.now(), version=item.version, state="done"
                    ),
                    lambda a: f"{a.key}: done",
                )

        title = one_line(item.title, limit=50)
        screen.app.push_screen(Confirm(f"Mark {item.key} done: {title}?"), done)

    if len(items) == 1:
        confirm(items[0].key)
        return
    choices = [(i.key, f"{i.key} {one_line(i.title, limit=60)}") for i in items]
    screen.app.push_screen(Choose("Which action item is done?", choices), confirm)


def render(view: ProblemView) -> Text:
    p = view.problem
    out = Text()
    out.append(f"{p.key}  ", style="bold")
    out.append_text(state_cell(p.state))
    out.append("  ")
    out.append_text(cell(p.title, limit=300))
    out.append("\n")
    for name, value in (
        ("services", ", ".join(p.services) or "—"),
        ("owner", p.owner or "nobody"),
        ("opened", f"{p.created_at:%Y-%m-%d %H:%M}Z by {p.created_by}"),
        ("resolved", p.resolved_at and f"{p.resolved_at:%Y-%m-%d %H:%M}Z"),
        ("closed", p.closed_at and f"{p.closed_at:%Y-%m-%d %H:%M}Z"),
        ("version", p.version),
    ):
        if value not in (None, ""):
            out.append(f"{name:>9}: ", style="dim")
            out.append_text(cell(value, limit=200))
            out.append("\n")
    for label, value in (
        ("Description", p.description),
        ("Root cause", p.root_cause),
        ("Workaround", p.workaround),
    ):
        if value or label != "Description":
            out.append(f"\n{label}\n", style="bold")
            out.append_text(block(value, limit=4000) if value else Text("(not known yet)", "dim"))
            out.append("\n")
    out.append("\nFix ", style="bold")
    if view.fix is None:
        out.append("(no change linked: e links one)\n", style="dim")
    else:
        fix = f"{view.fix.key} {view.fix.title} ({words(view.fix.state)})"
        out.append_text(cell(fix, limit=200))
        out.append("\n")
    out.append(f"\nIncidents ({len(view.incidents)})\n", style="bold")
    for incident in view.incidents:
        out.append(f"  {incident.key} ")
        out.append_text(priority(incident.priority))
        out.append(" ")
        line = f"{words(incident.state)} {incident.service}: {incident.title}"
        out.append_text(cell(line, limit=200))
        out.append("\n")
    out.append("\nTimeline\n", style="bold")
    for event in view.events:
        out.append(f"  {event.at:%m-%d %H:%M} ", style="dim")
        what = state_name(event.state) if event.state else event.kind
        out.append_text(cell(f"{event.actor}: {what}", limit=80))
        if event.detail:
            out.append(" — ")
            out.append_text(cell(event.detail, limit=300))
        out.append("\n")
    return out
