"""Problems: the learning loop on one screen, in four sections (s switches): problems by
state with their incident counts, candidates to accept (with the rule that proposed
them), reviews due (overdue first, highlighted) and open action items (overdue
highlighted). Enter opens a problem or a review; `a` accepts a candidate, `d` marks an
action item done. Everything stored is drawn literally."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType

from opsdesk.console.domain.problem_rules import PROBLEM_STATES, Candidate, candidates, quoted
from opsdesk.console.ops.problems import ProblemOps
from opsdesk.console.ops.reviews import ActionView, ReviewDue, ReviewOps
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import age, append_counts, cell, priority
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.keys import bindings
from opsdesk.screens.problem_detail import (
    PROBLEM_TABLES,
    ProblemDetailScreen,
    finish_action_item,
    state_cell,
)
from opsdesk.screens.problem_forms import ExplainedKeys
from opsdesk.screens.review_detail import ReviewDetailScreen
from opsdesk.screens.table import Row
from opsdesk.store import StoreError
from opsdesk.store.problem_records import ProblemSummary

LATE = "bold reverse red"


@dataclass(frozen=True)
class Section:
    name: str
    label: str
    columns: tuple[str, ...]
    flex: int
    empty: str
    hint: str


SECTIONS = (
    Section("problems", "Problems", ("Key", "State", "Inc", "Owner", "Title"), 4,
            "no problems recorded", "Enter opens · a problem's keys are on its screen"),
    Section("candidates", "Candidates", ("Id", "Inc", "Service", "Why proposed"), 3,
            "no recurring incidents to propose", "a accepts the candidate as a problem"),
    Section("reviews", "Reviews due", ("Incident", "Pri", "Review", "Resolved", "Title"), 4,
            "no reviews owed", "Enter opens the review (e edits, a accepts)"),
    Section("actions", "Actions", ("Key", "Due", "Owner", "Type", "Action"), 4,
            "no open action items", "d marks done · Enter opens its problem or review"),
)  # fmt: skip


@dataclass
class Loaded:
    problems: list[ProblemSummary] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    reviews: list[ReviewDue] = field(default_factory=list)
    actions: list[ActionView] = field(default_factory=list)


class ProblemsScreen(ExplainedKeys, StoreScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("problems")
    TITLE = "Problems"
    COLUMNS = SECTIONS[0].columns
    FLEX_COLUMN = SECTIONS[0].flex
    EMPTY = SECTIONS[0].empty
    WATCHES = (*PROBLEM_TABLES, "reviews", "incidents", "banner")
    EXPLAINED = frozenset({"accept_candidate", "action_done"})

    def __init__(self) -> None:
        super().__init__()
        self.section = 0
        self.loaded = Loaded()
        self.proposed: list[Candidate] = []
        self.proposed_from: tuple[tuple[int, int], ...] | None = None
        self.candidates_at: datetime | None = None
        """The (id, version) of the incidents the candidates were computed from (None:
        not yet): the rules run again only when those moved."""

    @property
    def current(self) -> Section:
        return SECTIONS[self.section]

    # Loading -----------------------------------------------------------------------------

    def _store_changed(self, _generation: int) -> None:
        if self.is_current and self.store_moved(self.loaded_generation):
            self.reload()

    def on_screen_resume(self) -> None:
        self.update_header()
        if self.store_moved(self.loaded_generation):
            self.reload()

    async def load(self) -> None:
        ops, now = self.ops, self.ops.now()
        problems = ProblemOps(ops.store, ops.config, ops.actor)  # candidates: below
        reviews = ReviewOps(ops.store, ops.config, ops.actor)
        order = {state: n for n, state in enumerate(PROBLEM_STATES)}
        found = await problems.find()
        found.sort(key=lambda s: (order.get(s.problem.state, 99), -s.problem.id))
        self.loaded = Loaded(
            found, self.proposed, await reviews.due(now), await reviews.actions(now)
        )
        self.rows = self._rows()
        if self.is_attached:
            self.set_summary(self._summary())
        self.candidates_at = now  # computed once the rows are drawn

    @work(group="candidates", exclusive=True, exit_on_error=False)
    async def refresh_candidates(self, now: datetime) -> None:
        """Candidates compare the titles of every recent incident in no problem: off the
        event loop (a thread), only when those incidents changed, and shown when ready,
        so the other sections never wait for them."""
        rules = self.ops.config.problems
        try:
            incidents = await self.ops.store.problems.unlinked_incidents(now - rules.window)
        except StoreError:
            return
        seen = tuple((i.id, i.version) for i in incidents)
        if seen == self.proposed_from:
            return
        found = await asyncio.to_thread(candidates, incidents, rules, now)
        self.proposed, self.proposed_from = found, seen
        self.loaded.candidates = found
        if not self.is_attached:
            return
        self.set_summary(self._summary())
        if self.current.name == "candidates":
            self.rows = self._rows()
            await self.show_rows()
        self.refresh_bindings()

    def _rows(self) -> list[Row]:
        now, name = self.ops.now(), self.current.name
        if name == "problems":
            return [
                Row(s.problem.key, (
                    cell(s.problem.key), state_cell(s.problem.state), cell(s.incidents),
                    cell(s.problem.owner or "—", limit=10), cell(s.problem.title, limit=200),
                ), _search(s.problem.key, s.problem.state, s.problem.owner, s.problem.title,
                           *s.problem.services), s)
                for s in self.loaded.problems
            ]  # fmt: skip
        if name == "candidates":
            return [
                Row(c.id, (
                    cell(c.id), cell(len(c.incidents)), cell(c.service, limit=12),
                    _why(c),
                ), _search(c.id, c.service, c.reason, c.title), c)
                for c in self.loaded.candidates
            ]  # fmt: skip
        if name == "reviews":
            return [
                Row(d.incident.key, (
                    cell(d.incident.key), priority(d.incident.priority), _review_cell(d),
                    cell(age(d.incident.resolved_at, now) + " ago" if d.incident.resolved_at
                         else "—"),
                    cell(d.incident.title, limit=200),
                ), _search(d.incident.key, d.status.state, d.incident.title,
                           d.incident.service), d)
                for d in self.loaded.reviews
            ]  # fmt: skip
        return [
            Row(a.item.key, (
                cell(a.item.key), _due_cell(a), cell(a.item.owner, limit=10),
                cell(a.item.type), cell(a.item.title, limit=200),
            ), _search(a.item.key, a.item.owner, a.item.type, a.item.title,
                       "overdue" if a.overdue else ""), a)
            for a in self.loaded.actions
        ]  # fmt: skip

    def _summary(self) -> Text:
        loaded = self.loaded
        late_reviews = sum(d.status.state == "overdue" for d in loaded.reviews)
        late_actions = sum(a.overdue for a in loaded.actions)
        open_problems = sum(s.problem.state != "closed" for s in loaded.problems)
        counts = {
            "problems": (open_problems, 0),
            "candidates": ("…" if self.proposed_from is None else len(loaded.candidates), 0),
            "reviews": (len(loaded.reviews), late_reviews),
            "actions": (len(loaded.actions), late_actions),
        }
        line = Text()
        for index, section in enumerate(SECTIONS):
            if index:
                line.append(" │ ")
            shown, late = counts[section.name]
            text = f"{section.label} {shown}"
            line.append(f" {text} " if index == self.section else text,
                        style="bold reverse" if index == self.section else "")  # fmt: skip
            if late:
                line.append(" ")
                line.append(f"{late} late", style=LATE)
        line.append("  (s)\n", style="dim")  # s moves between the sections named here
        if self.current.name == "problems":
            by_state: dict[str, int] = {}
            for s in loaded.problems:
                by_state[s.problem.state] = by_state.get(s.problem.state, 0) + 1
            # The words the rows and `problem list` use for each state (fits 80 columns).
            append_counts(line, by_state, PROBLEM_STATES[:-1])
        else:
            line.append(self.current.hint)
        return line

    async def show_rows(self, top: bool = False) -> None:
        table = self.table
        table.labels = [Text(name) for name in self.current.columns]
        table.flex = self.current.flex
        await super().show_rows(top)
        if self.candidates_at is not None:
            self.refresh_candidates(self.candidates_at)
            self.candidates_at = None

    def empty_text(self) -> str:
        if self.filter_text.strip() and self.rows:
            return super().empty_text()
        return self.current.empty

    # Keys --------------------------------------------------------------------------------

    def action_section(self, step: int) -> None:
        self.section = (self.section + step) % len(SECTIONS)
        self.rows = self._rows()
        self.set_summary(self._summary())
        self.refilter()
        self.refresh_bindings()

    def selected(self) -> Any:
        row = self.table.selected_row()
        return None if row is None else row.record

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str:
        read_only = self.read_only_reason()
        if action == "accept_candidate":
            if self.current.name != "candidates":
                return "accepting works on a candidate (s: the Candidates section)"
            if not isinstance(self.selected(), Candidate):
                return "no candidate is selected"
            return read_only
        if action == "action_done":
            if self.current.name != "actions":
                return "d works on an action item (s: the Actions section)"
            if not isinstance(self.selected(), ActionView):
                return "no action item is selected"
            return read_only
        return ""

    def action_accept_candidate(self) -> None:
        candidate = self.selected()
        if not isinstance(candidate, Candidate):
            return
        problems = ProblemOps(self.ops.store, self.ops.config, self.ops.actor)
        now = self.ops.now

        def accept(yes: bool | None) -> None:
            if yes:
                self.run_write(
                    lambda: problems.accept_candidate(candidate.id, now()),
                    lambda p: f"{p.key} created from {candidate.id}",
                )

        question = (
            f"Accept {candidate.id} as a problem? {candidate.reason}: "
            f"{', '.join(candidate.incidents[:8])}{' …' if len(candidate.incidents) > 8 else ''}"
        )
        self.app.push_screen(Confirm(question), accept)

    def action_action_done(self) -> None:
        view = self.selected()
        if isinstance(view, ActionView):
            finish_action_item(self, [view.item])

    def open_row(self, key: str) -> None:
        record = self.selected()
        if isinstance(record, ProblemSummary):
            self.app.push_screen(ProblemDetailScreen(record.problem.key))
        elif isinstance(record, ReviewDue):
            self.app.push_screen(ReviewDetailScreen(record.incident.key))
        elif isinstance(record, Candidate):
            self.action_accept_candidate()
        elif isinstance(record, ActionView):
            item = record.item
            if item.problem_key:
                self.app.push_screen(ProblemDetailScreen(item.problem_key))
            elif item.incident_key:
                self.app.push_screen(ReviewDetailScreen(item.incident_key))


def _search(*parts: object) -> str:
    return " ".join(str(p) for p in parts if p).casefold()


def _why(candidate: Candidate) -> Text:
    """The rule that proposed a candidate, without what the other columns say (how many,
    which service), then the title it suggests; the full reason is in the confirmation."""
    if candidate.fingerprint is not None:
        source, dedup_key = candidate.fingerprint
        why = f"one alert ({source}: {dedup_key})"
    else:
        why = f"titles share {quoted(candidate.shared_words)}"
    return cell(f"{why} · {candidate.title}", limit=300)


def _review_cell(due: ReviewDue) -> Text:
    if due.status.state == "overdue":
        return Text("OVERDUE", style=LATE)
    when = "" if due.status.due is None else f" {due.status.due:%m-%d}"
    return Text(f"due{when}", style="yellow")


def _due_cell(view: ActionView) -> Text:
    due = view.item.due
    text = "—" if due is None else f"{due:%m-%d}"
    if view.overdue:
        return Text(f"!{text}", style=LATE)
    return Text(text)
