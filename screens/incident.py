"""Incident detail: every field and the timeline of audited events, drawn literally."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.lifecycle import event_words
from opsdesk.console.domain.problem_rules import KnownErrorMatch, state_name
from opsdesk.console.domain.sla import Clock
from opsdesk.console.domain.text import one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.incidents import IncidentView, history_of
from opsdesk.console.ops.problems import ProblemOps
from opsdesk.screens.cells import age, block, cell, priority, until
from opsdesk.screens.incident_actions import IncidentActions, Target
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import Incident, StoreError
from opsdesk.store.problem_records import Problem
from opsdesk.store.records import IncidentEvent, Notification


def _minutes(span: timedelta) -> timedelta:
    return timedelta(minutes=int(span.total_seconds() // 60))


def clocks_text(respond: Clock, resolve: Clock, now: datetime) -> Text:
    """Both SLA clocks, each saying what it is doing and why, with a word for its status."""
    out = Text("SLA\n", style="bold")
    for clock in (respond, resolve):
        out.append(f"{clock.name:>8}  ", style="dim")
        if clock.breached:
            out.append(" BREACHED ", style="bold reverse red")
        elif clock.at_risk:
            out.append(" AT RISK ", style="bold reverse yellow")
        elif clock.state == "stopped":
            out.append(" met ", style="bold green")
        out.append(f" {one_line(clock.reason, limit=200)}")
        used = f"{format_duration(_minutes(clock.elapsed))} of {format_duration(clock.target)}"
        out.append(f" · {used}", style="dim")
        if clock.due is not None and clock.state != "stopped":
            out.append(f" · due {clock.due:%a %H:%M}Z ({until(clock.due, now)})")
        out.append("\n")
    return out


def timeline_text(incident: Incident, events: list[IncidentEvent]) -> Text:
    """Every event with time and actor; imported incidents show their rebuilt states."""
    out = Text("Timeline\n", style="bold")
    if not events:
        out.append("(imported without a timeline; states from its timestamps)\n", style="dim")
        events = [IncidentEvent(c.at, "—", "state", c.state) for c in history_of(incident, [])]
    for event in events:
        out.append(f"{event.at:%Y-%m-%d %H:%M}Z  ", style="dim")
        line = f"{event.actor}  {event_words(event.state, event.kind, event.detail)}"
        out.append_text(block(line, limit=2000))
        out.append("\n")
    return out


PAGE_STYLES = {"delivered": "green", "failed": "bold red", "pending": "yellow",
               "sending": "yellow", "cancelled": "dim"}  # fmt: skip


def pages_text(pages: list[Notification]) -> Text:
    """The notification log: who was paged how and when, delivered or failed (why), and
    which page's link acknowledged it."""
    out = Text("Pages\n", style="bold")
    if not pages:
        out.append("(nobody was paged for it)\n", style="dim")
        return out
    for n in pages:
        when = n.sent_at or n.not_before
        out.append(f"{when:%Y-%m-%d %H:%M}Z  ", style="dim")
        out.append_text(block(f"{n.login} by {n.method} ({n.reason})", limit=200))
        out.append("  ")
        retrying = n.state == "pending" and n.attempts > 0
        out.append("retrying" if retrying else n.state, style=PAGE_STYLES.get(n.state, ""))
        if retrying:
            out.append(f" at {n.not_before:%H:%M}Z, try {n.attempts} failed", style="dim")
        elif n.attempts > 1:
            out.append(f" after {n.attempts} tries", style="dim")
        detail = n.error if n.state in ("failed", "pending") else None
        if n.acknowledged_via:
            detail = f"acknowledged via {n.acknowledged_via}"
        if detail:
            out.append(": ")
            out.append_text(block(detail, limit=300))
        out.append("\n")
    return out


def problem_text(own: Problem | None, match: KnownErrorMatch | None) -> Text:
    """The problem the incident belongs to, or the known error it looks like, with the
    workaround first: what to do now. Stored text is drawn literally."""
    problem = own or (match.problem if match else None)
    if problem is None:
        return Text("")
    out = Text()
    if own is not None:
        out.append("Problem ", style="bold")
    else:
        out.append(" KNOWN ERROR ", style="bold reverse magenta")
        out.append(" matches ")
    out.append(f"{problem.key} ", style="bold")
    out.append(f"({state_name(problem.state)}) ")
    out.append_text(cell(problem.title, limit=300))
    out.append("\n")
    if match is not None and own is None:
        out.append("why: ", style="dim")
        out.append_text(cell(match.reason, limit=300))
        out.append("\n")
    out.append("Workaround: ", style="bold")
    if problem.workaround.strip():
        out.append_text(block(problem.workaround, limit=4000))
    else:
        out.append("(none yet)", style="dim")
    out.append("\n")
    return out


class IncidentScreen(IncidentActions, LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("incident")

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.view: IncidentView | None = None

    def targets(self) -> list[Target]:
        if self.view is None:
            return []
        incident = self.view.incident
        return [Target(incident.key, incident.version, incident.state)]

    PARTS = ("fields", "known-error", "clocks", "description", "timeline", "pages")

    def header_title(self) -> str:
        return self.key

    @work(exclusive=True, group="incident", exit_on_error=False)
    async def load(self) -> None:
        now = self.ops.now()
        try:
            view = await self.ops.incidents.view(self.key, now)
        except StoreError as exc:
            self.query_one("#fields", Static).update(
                Text(one_line(str(exc), limit=400), style="bold red")
            )
            return
        self.view = view
        self.refresh_bindings()
        incident = view.incident
        fields = Text()
        fields.append(f"{incident.key}  ", style="bold")
        fields.append_text(priority(incident.priority))
        fields.append("  ")
        fields.append_text(block(incident.title, limit=500))
        fields.append("\n")
        for name, value in (
            ("state", incident.state.replace("_", " ")),
            ("on hold for", words(incident.hold_reason) if incident.hold_reason else None),
            ("service", incident.service),
            ("impact / urgency", f"{incident.impact} / {incident.urgency}"),
            ("assignee", incident.assignee or "unassigned"),
            ("reporter", incident.reporter),
            ("source", incident.source),
            (
                "created",
                f"{incident.created_at:%Y-%m-%d %H:%M}Z ({age(incident.created_at, now)} ago)",
            ),
            (
                "acknowledged",
                incident.acknowledged_at and f"{incident.acknowledged_at:%Y-%m-%d %H:%M}Z",
            ),
            ("resolved", incident.resolved_at and f"{incident.resolved_at:%Y-%m-%d %H:%M}Z"),
            ("resolution", words(incident.resolution_code) if incident.resolution_code else None),
            ("CSAT", incident.csat),
            ("version", incident.version),
        ):
            if value not in (None, ""):
                fields.append(f"{name:>17}: ", style="dim")
                fields.append_text(block(str(value), limit=300))
                fields.append("\n")
        self.query_one("#fields", Static).update(fields)
        description = Text("Description\n", style="bold")
        description.append_text(block(incident.description or "(none)"))
        self.query_one("#description", Static).update(description)
        self.query_one("#clocks", Static).update(clocks_text(view.respond, view.resolve, now))
        self.query_one("#timeline", Static).update(timeline_text(incident, view.events))
        self.query_one("#pages", Static).update(pages_text(view.pages))
        await self._show_problem(incident)

    async def _show_problem(self, incident: Incident) -> None:
        """The problem this incident is in, or a known error it matches (its workaround)."""
        problems = ProblemOps(self.ops.store, self.ops.config, self.ops.actor)
        try:
            own = await problems.for_incident(incident.key)
            match = None if own is not None else await problems.known_error_for(incident)
        except (StoreError, OpsdeskError):
            own, match = None, None
        part = self.query_one("#known-error", Static)
        text = problem_text(own, match)
        part.display = bool(text.plain)
        part.update(text)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.key)
        self.notify(f"copied {one_line(self.key, limit=60)}", markup=False)
