"""One incident's post-incident review: the facts read from the store (timeline, time to
acknowledge and resolve, who was paged, changes before it, vendor status), what people
wrote, where it stands (due, overdue, accepted) and its action items. `e` edits the
fields in a form, `a` accepts it (the role config names), `t` adds an action item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.text import one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.reviews import ReviewOps, ReviewView
from opsdesk.screens.cells import block, cell, priority
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.keys import bindings
from opsdesk.screens.problem_detail import (
    actions_text,
    add_action_item,
    finish_action_item,
    review_zone,
)
from opsdesk.screens.problem_forms import ExplainedKeys, ReviewForm
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import StoreError
from opsdesk.store.problem_records import ActionItem

STATUS_WORDS = {
    "not_required": ("not required", ""),
    "not_yet": ("owed once resolved", "yellow"),
    "due": ("DUE", "bold yellow"),
    "overdue": ("OVERDUE", "bold reverse red"),
    "accepted": ("accepted", "bold green"),
}
WRITTEN = (
    ("summary", "Summary"),
    ("customers", "Customers affected"),
    ("root_cause", "Root cause"),
    ("contributing_factors", "Contributing factors"),
    ("went_well", "What went well"),
    ("lucky", "Where we got lucky"),
)


def _took(value: timedelta | None) -> str:
    return "—" if value is None else format_duration(value)


class ReviewDetailScreen(ExplainedKeys, LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("review_detail")
    PARTS = ("review-status", "review-written", "review-actions", "review-facts")
    WATCHES = (
        "reviews", "action_items", "incidents", "incident_events", "notifications",
        "changes", "change_links", "status_history", "problems", "problem_incidents",
    )  # fmt: skip
    EXPLAINED = frozenset({"edit", "accept", "add_action", "action_done"})

    def __init__(self, incident_key: str) -> None:
        super().__init__()
        self.key = incident_key
        self.view: ReviewView | None = None

    def header_title(self) -> str:
        return f"Review of {self.key}"

    @property
    def reviews(self) -> ReviewOps:
        return ReviewOps(self.ops.store, self.ops.config, self.ops.actor)

    @work(exclusive=True, group="review", exit_on_error=False)
    async def load(self) -> None:
        now = self.ops.now()
        try:
            view = await self.reviews.view(self.key, now)
        except (StoreError, OpsdeskError) as exc:
            self.query_one("#review-status", Static).update(
                Text(one_line(str(exc), limit=400), style="bold red")
            )
            return
        self.view = view
        self.query_one("#review-status", Static).update(status_text(view))
        self.query_one("#review-written", Static).update(written_text(view))
        zone = review_zone(self.ops.config)
        self.query_one("#review-actions", Static).update(actions_text(view.actions, now, zone))
        self.query_one("#review-facts", Static).update(facts_text(view))
        self.refresh_bindings()

    def open_actions(self) -> list[ActionItem]:
        return [] if self.view is None else [a for a in self.view.actions if a.state == "open"]

    def why_not(self, action: str, parameters: tuple[object, ...]) -> str:
        if self.view is None:
            return "the review is still loading"
        read_only = self.read_only_reason()
        if read_only:
            return read_only
        review, incident = self.view.review, self.view.facts.incident
        accepted = review is not None and review.state == "accepted"
        if action == "edit" and accepted:
            return f"the review was accepted by {review.accepted_by if review else ''}; it is final"
        if action == "accept":
            if accepted:
                return "it is accepted already"
            if not self.reviews.may_accept():
                role = self.ops.config.reviews.accept_role
                return f"accepting a review needs the {role} role ([reviews] accept_role)"
            if review is None:
                return "there is no review yet: e writes one"
            if incident.state not in ("resolved", "closed"):
                return f"{incident.key} is not resolved yet"
            if not review.summary.strip():
                return "the review has no summary yet: e writes one"
        if action == "action_done" and not self.open_actions():
            return "no open action items"
        return ""

    def action_edit(self) -> None:
        if self.view is None:
            return
        review, now = self.view.review, self.ops.now
        version = None if review is None else review.version

        def save(given: dict[str, Any] | None) -> None:
            if given:
                self.run_write(
                    lambda: self.reviews.save(self.key, now(), version=version, **given),
                    lambda r: f"review of {r.incident_key} saved",
                )

        self.app.push_screen(ReviewForm(self.key, review), save)

    def action_accept(self) -> None:
        if self.view is None or self.view.review is None:
            return
        version, now = self.view.review.version, self.ops.now

        def accept(yes: bool | None) -> None:
            if yes:
                self.run_write(
                    lambda: self.reviews.accept(self.key, now(), version=version),
                    lambda r: f"review of {r.incident_key} accepted",
                )

        question = f"Accept the review of {self.key}? It becomes final."
        self.app.push_screen(Confirm(question), accept)

    def action_add_action(self) -> None:
        add_action_item(self, incident=self.key)

    def action_action_done(self) -> None:
        finish_action_item(self, self.open_actions())


def status_text(view: ReviewView) -> Text:
    incident, review, status = view.facts.incident, view.review, view.status
    out = Text()
    out.append(f"{incident.key}  ", style="bold")
    out.append_text(priority(incident.priority))
    out.append("  ")
    out.append_text(cell(incident.title, limit=300))
    out.append("\n")
    word, style = STATUS_WORDS.get(status.state, (status.state, ""))
    out.append("   review: ", style="dim")
    out.append(f" {word} " if style.startswith("bold") else word, style=style)
    if status.due is not None:
        out.append(f" due {status.due:%Y-%m-%d %H:%M}Z")
    if review is None:
        out.append(" · not started", style="dim")
    else:
        out.append_text(cell(f" · {words(review.state)}, version {review.version}", limit=60))
        if review.accepted_by:
            out.append_text(cell(f" by {review.accepted_by}", limit=40))
    out.append("\n")
    out.append("  service: ", style="dim")
    out.append_text(cell(f"{incident.service} · {incident.state.replace('_', ' ')}", limit=80))
    out.append("\n")
    return out


def written_text(view: ReviewView) -> Text:
    review, facts = view.review, view.facts
    out = Text()
    minutes = None if review is None else review.duration_minutes
    duration = f"{minutes}m" if minutes is not None else f"{_took(facts.time_to_resolve)} measured"
    said = None if review is None else review.sla_breached
    breached = facts.sla_breached if said is None else said
    out.append("\nImpact ", style="bold")
    out.append(f"duration {duration} · SLA breached ")
    out.append("—" if breached is None else ("YES" if breached else "no"),
               style="bold" if breached else "")  # fmt: skip
    out.append("\n")
    for name, label in WRITTEN:
        value = "" if review is None else str(getattr(review, name))
        out.append(f"\n{label}\n", style="bold")
        out.append_text(block(value, limit=4000) if value else Text("(not written yet)", "dim"))
        out.append("\n")
    return out


def facts_text(view: ReviewView) -> Text:
    """The prefilled facts, read from the store when shown."""
    facts = view.facts
    out = Text("\nFrom the store\n", style="bold")
    out.append(f"  acknowledged after {_took(facts.time_to_acknowledge)}, "
               f"resolved after {_took(facts.time_to_resolve)}\n")  # fmt: skip
    if facts.problem is not None:
        out.append("  problem ")
        out.append_text(cell(f"{facts.problem.key} {facts.problem.title}", limit=200))
        out.append("\n")
    out.append("\nPaged\n", style="bold")
    if not facts.pages:
        out.append("  nobody was paged\n", style="dim")
    for page in facts.pages:
        when = page.sent_at or page.created_at
        out.append(f"  {when:%m-%d %H:%M} ", style="dim")
        out.append_text(cell(f"{page.login} by {page.method} ({page.reason}) {page.state}", 200))
        out.append("\n")
    out.append("\nChanges before it\n", style="bold")
    if not facts.linked_changes and not facts.changes_before:
        out.append("  none linked, none on its service in the week before\n", style="dim")
    found = (("linked", facts.linked_changes), ("same service", facts.changes_before))
    for label, changes in found:
        for change in changes:
            out.append(f"  {label}: ", style="dim")
            out.append_text(cell(f"{change.key} {change.title} ({words(change.state)})", limit=200))
            out.append("\n")
    out.append("\nVendor status at the time\n", style="bold")
    if not facts.vendor_status:
        out.append("  no status source watches it\n", style="dim")
    for status in facts.vendor_status:
        said = status.level + (f": {status.summary}" if status.summary else "")
        out.append_text(cell(f"  {status.source}: {said} when it opened", limit=200))
        out.append("\n")
        for moved in status.changes:
            out.append(f"    {moved.at:%m-%d %H:%M} ", style="dim")
            said = moved.level + (f": {moved.summary}" if moved.summary else "")
            out.append_text(cell(said, limit=200))
            out.append("\n")
    out.append("\nIncident timeline\n", style="bold")
    for event in facts.events:
        out.append(f"  {event.at:%m-%d %H:%M} ", style="dim")
        what = event.state.replace("_", " ") if event.state else event.kind
        out.append_text(cell(f"{event.actor}: {what}", limit=80))
        if event.detail:
            out.append(" — ")
            out.append_text(cell(event.detail, limit=300))
        out.append("\n")
    return out
