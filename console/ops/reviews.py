"""Post-incident reviews and action items: what the CLI and the problems screen call.

A review's facts are read from the store each time it is shown (never copied, so never
stale): the incident's timeline, time to acknowledge and resolve, who was paged when, the
changes linked to it and those on its service in the week before, and what its vendors'
status sources said while it lasted. People add the rest (summary, impact, root cause,
contributing factors, what went well, where we got lucky) and action items. Reviews are
required before closing for the priorities `[reviews] required_for` names: the incident
close path asks `ReviewOps.close_refusal` (or `check_close`) first.

Text from people is cleaned here, where it enters; the Markdown document escapes it
again so it renders literally wherever it is pasted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from opsdesk.console.config.durations import format_duration
from opsdesk.console.config.model import Config
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain import markdown as md
from opsdesk.console.domain.problem_rules import (
    ReviewStatus,
    action_overdue,
    close_refusal,
    local_date,
    review_calendar,
    review_required,
    review_status,
)
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import changed_since_you_looked
from opsdesk.console.ops.refusals import Invalid, Refused
from opsdesk.store import Incident, Store
from opsdesk.store.actions import action_json
from opsdesk.store.changes import parse_change_key
from opsdesk.store.incidents import parse_key
from opsdesk.store.problem_records import (
    ACTION_STATES,
    ACTION_TYPES,
    ActionItem,
    NewActionItem,
    Problem,
    Review,
)
from opsdesk.store.problems import parse_problem_key
from opsdesk.store.records import (
    Actor,
    ChangeRequest,
    IncidentEvent,
    LevelChange,
    Notification,
)
from opsdesk.store.reviews import review_json
from opsdesk.store.timefmt import to_db

CHANGES_BEFORE = timedelta(days=7)
"""How far before an incident opened the review looks for changes on its service."""
TITLE_LIMIT = 300


@dataclass(frozen=True)
class VendorStatusAt:
    """What one status source said while the incident lasted: the level in force when it
    opened ("unknown" when nothing was observed before) and every change until it was
    resolved (or now)."""

    source: str
    vendor: str | None
    level: str
    summary: str
    changes: list[LevelChange]


@dataclass(frozen=True)
class ReviewFacts:
    """What the store knows about an incident, gathered for its review."""

    incident: Incident
    events: list[IncidentEvent]
    time_to_acknowledge: timedelta | None
    time_to_resolve: timedelta | None
    pages: list[Notification]
    linked_changes: list[ChangeRequest]
    changes_before: list[ChangeRequest]  # on its service, in CHANGES_BEFORE, not linked
    vendor_status: list[VendorStatusAt]
    problem: Problem | None
    sla_breached: bool | None  # measured: a clock that stopped late (None: none stopped)


@dataclass(frozen=True)
class ReviewView:
    """A review as `review show` and the review screen draw it: the facts, what people
    wrote (None: not started), where it stands, and its action items."""

    facts: ReviewFacts
    review: Review | None
    status: ReviewStatus
    actions: list[ActionItem] = field(default_factory=list)


@dataclass(frozen=True)
class ActionView:
    item: ActionItem
    overdue: bool


@dataclass(frozen=True)
class ReviewDue:
    """A resolved incident that owes a review: `status.state` is due or overdue."""

    incident: Incident
    status: ReviewStatus


class ReviewOps:
    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store, self.config, self.actor = store, config, actor

    # Facts ------------------------------------------------------------------------------

    async def prefill(self, incident_key: str, now: datetime) -> ReviewFacts:
        """Gather the facts of an incident's review from the store (see ReviewFacts)."""
        store = self.store
        incident = await store.incidents.get(incident_key)
        opened, ended = incident.created_at, incident.resolved_at or now
        linked_keys = await store.changes.for_incident(incident.id)
        linked = [await store.changes.get(key) for key in linked_keys]
        before = [
            change
            for change in await store.changes.overlapping(opened - CHANGES_BEFORE, opened)
            if incident.service in change.services and change.key not in linked_keys
        ]
        breached = None
        if incident.response_met is not None or incident.resolve_met is not None:
            breached = incident.response_met is False or incident.resolve_met is False
        return ReviewFacts(
            incident=incident,
            events=await store.incidents.events(incident.key),
            time_to_acknowledge=None
            if incident.acknowledged_at is None
            else incident.acknowledged_at - opened,
            time_to_resolve=None if incident.resolved_at is None else incident.resolved_at - opened,
            pages=await store.notifications.list(incident.key),
            linked_changes=linked,
            changes_before=before,
            vendor_status=await self._vendor_status(incident, opened, ended),
            problem=await store.problems.for_incident(incident.key),
            sla_breached=breached,
        )

    async def _vendor_status(
        self, incident: Incident, opened: datetime, ended: datetime
    ) -> list[VendorStatusAt]:
        service = self.config.service(incident.service)
        vendors = set(service.vendors) if service else set()
        found = []
        for source in self.config.sources:
            if source.vendor not in vendors and source.service != incident.service:
                continue
            history = await self.store.statuses.history(source.name, opened)
            level, summary = "unknown", ""
            if history and history[0].at < opened:
                level, summary = history[0].level, history[0].summary
                history = history[1:]
            during = [h for h in history if h.at <= ended]
            found.append(VendorStatusAt(source.name, source.vendor, level, summary, during))
        return found

    async def view(self, incident_key: str, now: datetime) -> ReviewView:
        facts = await self.prefill(incident_key, now)
        review = await self.store.reviews.get(facts.incident.key)
        return ReviewView(
            facts,
            review,
            review_status(facts.incident, review, self.config, now),
            await self.store.actions.find(incident_key=facts.incident.key, states=None),
        )

    # Writing ----------------------------------------------------------------------------

    async def save(
        self,
        incident_key: str,
        now: datetime,
        *,
        version: int | None = None,
        summary: str | None = None,
        customers: str | None = None,
        duration_minutes: int | None = None,
        sla_breached: bool | None = None,
        root_cause: str | None = None,
        contributing_factors: str | None = None,
        went_well: str | None = None,
        lucky: str | None = None,
    ) -> Review:
        """Write the fields given (None: leave as is) into the incident's review, starting
        it if nobody has. `version`: the one the writer saw (None: the one just read)."""
        fields: dict[str, Any] = {}
        texts = {
            "summary": summary,
            "customers": customers,
            "root_cause": root_cause,
            "contributing_factors": contributing_factors,
            "went_well": went_well,
            "lucky": lucky,
        }
        for name, value in texts.items():
            if value is not None:
                fields[name] = clean(value).strip()
        if duration_minutes is not None:
            if isinstance(duration_minutes, bool) or duration_minutes < 0:
                raise Invalid("the impact's duration is a number of minutes, 0 or more")
            fields["duration_minutes"] = duration_minutes
        if sla_breached is not None:
            fields["sla_breached"] = sla_breached
        incident = await self.store.incidents.get(incident_key)
        current = await self.store.reviews.get(incident.key)
        if version is None:
            version = None if current is None else current.version
        elif current is None:
            raise Refused(f"{incident.key} has no review yet; start one without a version")
        if current is not None and current.state == "accepted":
            raise Refused(
                f"the review of {incident.key} was accepted by {current.accepted_by}; it is final"
            )
        if current is not None and not fields:
            raise Invalid("nothing to change")
        return await self.store.reviews.save(self.actor, incident.key, version, fields, now)

    async def accept(
        self, incident_key: str, now: datetime, *, version: int | None = None
    ) -> Review:
        """Accept the review: needs the role `[reviews] accept_role` names, a resolved (or
        closed) incident and a summary. Accepted, it is final and the incident may close."""
        incident = await self.store.incidents.get(incident_key)
        review = await self.store.reviews.get(incident.key)
        if review is None:
            raise Refused(f"{incident.key} has no review yet; write one first")
        if incident.state not in ("resolved", "closed"):
            raise Refused(
                f"{incident.key} is {incident.state.replace('_', ' ')}; a review is accepted "
                "once it is resolved"
            )
        if not review.summary.strip():
            raise Refused(f"the review of {incident.key} has no summary yet")
        return await self.store.reviews.accept(
            self.actor,
            incident.key,
            review.version if version is None else version,
            self.config.reviews.accept_role,
            now,
        )

    def may_accept(self) -> bool:
        """Whether this person holds the role that accepts reviews (to offer the key)."""
        return self.actor.has(self.config.reviews.accept_role)

    # The close gate and what is due ----------------------------------------------------

    def review_required(self, incident: Incident) -> bool:
        return review_required(incident, self.config.reviews)

    async def close_refusal(self, incident: Incident) -> str | None:
        """Why `incident` may not close yet because of its review (None: it may). What the
        incident close path calls before closing."""
        if not self.review_required(incident):
            return None
        return close_refusal(
            incident, await self.store.reviews.get(incident.key), self.config.reviews
        )

    async def check_close(self, incident: Incident) -> None:
        """Refuse (Refused, exit 1) closing `incident` while it owes an accepted review."""
        reason = await self.close_refusal(incident)
        if reason is not None:
            raise Refused(reason)

    async def status(self, incident: Incident, now: datetime) -> ReviewStatus:
        """Where one incident's review stands (for a queue row or an incident view)."""
        return review_status(incident, await self.store.reviews.get(incident.key), self.config, now)

    async def due(self, now: datetime) -> list[ReviewDue]:
        """Resolved incidents that owe a review, overdue first, then by due time."""
        owed = await self.store.reviews.awaiting(self.config.reviews.required_for)
        reviews = await self.store.reviews.for_incidents(i.key for i in owed)
        found = [ReviewDue(i, review_status(i, reviews.get(i.key), self.config, now)) for i in owed]
        found = [d for d in found if d.status.state in ("due", "overdue")]
        far = datetime.max.replace(tzinfo=now.tzinfo)
        found.sort(key=lambda d: (d.status.state != "overdue", d.status.due or far, d.incident.id))
        return found

    # Action items -----------------------------------------------------------------------

    def _check_login(self, login: str) -> str:
        logins = [p.login for p in self.config.people]
        login = login.strip()
        if not login or (logins and login not in logins):
            raise Invalid(f"unknown login {login!r}{suggest(login, logins)}")
        return login

    def _check_type(self, kind: str) -> str:
        if kind not in ACTION_TYPES:
            raise Invalid(
                f"an action item's type is one of {', '.join(ACTION_TYPES)}, not {kind!r}"
            )
        return kind

    def _title(self, title: str) -> str:
        text = one_line(title, limit=TITLE_LIMIT).strip()
        if not text:
            raise Invalid("an action item needs a title")
        return text

    def _zone(self) -> str:
        calendar = review_calendar(self.config)
        return calendar.timezone if calendar else "UTC"

    async def add_action(
        self,
        title: str,
        type: str,
        owner: str,
        now: datetime,
        *,
        incident: str | None = None,
        problem: str | None = None,
        change: str | None = None,
        due: date | None = None,
        note: str = "",
    ) -> ActionItem:
        """A new open action item from an incident's review (`incident`) or a problem
        (`problem`; at least one), optionally carried out by `change`."""
        if incident is None and problem is None:
            raise Invalid("an action item comes from a review (--incident) or a problem")
        new = NewActionItem(
            title=self._title(title),
            type=self._check_type(type),
            owner=self._check_login(owner),
            due=due,
            incident_id=None if incident is None else parse_key(incident),
            problem_id=None if problem is None else parse_problem_key(problem),
            change_id=None if change is None else parse_change_key(change),
            note=clean(note),
        )
        return await self.store.actions.add(self.actor, new, now)

    async def update_action(
        self,
        key: str,
        now: datetime,
        *,
        version: int | None = None,
        title: str | None = None,
        type: str | None = None,
        owner: str | None = None,
        due: date | None = None,
        clear_due: bool = False,
        state: str | None = None,
        problem: str | None = None,
        change: str | None = None,
        note: str | None = None,
    ) -> ActionItem:
        """Change the fields given (None: leave as is); `state` done, cancelled or open
        (reopening). `version`: the one the writer saw (None: the one just read)."""
        item = await self.store.actions.get(key)
        if version is not None and version != item.version:
            raise Refused(
                changed_since_you_looked(item.key, item.updated_by, version, item.version)
            )
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = self._title(title)
        if type is not None:
            changes["type"] = self._check_type(type)
        if owner is not None:
            changes["owner"] = self._check_login(owner)
        if due is not None:
            changes["due"] = due
        elif clear_due:
            changes["due"] = None
        if state is not None:
            if state not in ACTION_STATES:
                raise Invalid(f"an action item's state is one of {', '.join(ACTION_STATES)}")
            if state == item.state:
                raise Refused(f"{item.key} is already {state}")
            changes["state"] = state
        if problem is not None:
            changes["problem_id"] = parse_problem_key(problem)
        if change is not None:
            changes["change_id"] = parse_change_key(change)
        if note is not None:
            changes["note"] = clean(note)
        if not changes:
            raise Invalid("nothing to change")
        return await self.store.actions.update(self.actor, item.key, item.version, changes, now)

    async def actions(
        self,
        now: datetime,
        *,
        owner: str | None = None,
        overdue: bool = False,
        states: tuple[str, ...] | None = ("open",),
        incident: str | None = None,
        problem: str | None = None,
    ) -> list[ActionView]:
        """The improvement register: action items (open ones by default), earliest due
        first, each flagged when overdue; `overdue` keeps only those."""
        zone = self._zone()
        items = await self.store.actions.find(
            owner=owner,
            states=("open",) if overdue else states,
            incident_key=incident,
            problem_key=problem,
            due_before=local_date(now, zone) if overdue else None,
        )
        return [ActionView(item, action_overdue(item, now, zone)) for item in items]

    # Documents --------------------------------------------------------------------------

    async def as_json(self, incident_key: str, now: datetime) -> dict[str, Any]:
        """The review and its facts as JSON for tools (`review show --json`)."""
        view = await self.view(incident_key, now)
        return review_document(view, self.config, now)

    async def markdown(self, incident_key: str, now: datetime) -> str:
        """The review as a Markdown document a team pastes into its wiki; every piece of
        stored text is escaped so it renders literally."""
        return review_markdown(await self.view(incident_key, now), now)


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else to_db(value)


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def review_document(view: ReviewView, config: Config, now: datetime) -> dict[str, Any]:
    """The JSON form of a review view (see ReviewOps.as_json)."""
    facts, incident = view.facts, view.facts.incident
    review = None if view.review is None else review_json(view.review)
    zone = review_calendar(config)
    tz = zone.timezone if zone else "UTC"
    return {
        "incident": {
            "key": incident.key, "title": incident.title, "service": incident.service,
            "priority": incident.priority, "state": incident.state,
            "created_at": _stamp(incident.created_at),
            "acknowledged_at": _stamp(incident.acknowledged_at),
            "resolved_at": _stamp(incident.resolved_at), "closed_at": _stamp(incident.closed_at),
        },
        "status": {"state": view.status.state, "due": _stamp(view.status.due)},
        "time_to_acknowledge_seconds": _seconds(facts.time_to_acknowledge),
        "time_to_resolve_seconds": _seconds(facts.time_to_resolve),
        "sla_breached_measured": facts.sla_breached,
        "timeline": [
            {"at": _stamp(e.at), "actor": e.actor, "kind": e.kind, "state": e.state,
             "detail": e.detail}
            for e in facts.events
        ],
        "pages": [
            {"login": p.login, "method": p.method, "reason": p.reason, "state": p.state,
             "created_at": _stamp(p.created_at), "sent_at": _stamp(p.sent_at),
             "acknowledged_at": _stamp(p.acknowledged_at)}
            for p in facts.pages
        ],
        "linked_changes": [_change_json(c) for c in facts.linked_changes],
        "changes_before": [_change_json(c) for c in facts.changes_before],
        "vendor_status": [
            {"source": v.source, "vendor": v.vendor, "level_at_start": v.level,
             "summary": v.summary,
             "changes": [{"at": _stamp(c.at), "level": c.level, "summary": c.summary}
                         for c in v.changes]}
            for v in facts.vendor_status
        ],
        "problem": None if facts.problem is None else {
            "key": facts.problem.key, "title": facts.problem.title,
            "state": facts.problem.state, "workaround": facts.problem.workaround,
        },
        "review": review,
        "actions": [
            {**action_json(a), "overdue": action_overdue(a, now, tz)} for a in view.actions
        ],
    }  # fmt: skip


def _change_json(change: ChangeRequest) -> dict[str, Any]:
    return {
        "key": change.key,
        "title": change.title,
        "state": change.state,
        "services": list(change.services),
        "planned_start": to_db(change.planned_start),
        "planned_end": to_db(change.planned_end),
    }


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _took(value: timedelta | None) -> str:
    return "-" if value is None else format_duration(value)


def review_markdown(view: ReviewView, now: datetime) -> str:
    """The Markdown form of a review view (see ReviewOps.markdown). Stored text goes
    through `markdown.escape`/`inline`; only the document's own structure is Markdown."""
    facts, incident, review = view.facts, view.facts.incident, view.review
    e, i = md.escape, md.inline
    lines = [
        f"# Post-incident review: {i(incident.key)} {i(incident.title)}",
        "",
        f"- **Service:** {i(incident.service)}",
        f"- **Priority:** {i(incident.priority)}",
        f"- **State:** {i(incident.state)}; review {i(view.status.state.replace('_', ' '))}"
        + ("" if view.status.due is None else f", due {i(_when(view.status.due))}"),
        f"- **Opened:** {i(_when(incident.created_at))}",
        f"- **Acknowledged:** {i(_when(incident.acknowledged_at))}"
        f" \\(after {i(_took(facts.time_to_acknowledge))}\\)",
        f"- **Resolved:** {i(_when(incident.resolved_at))}"
        f" \\(after {i(_took(facts.time_to_resolve))}\\)",
    ]
    if review is not None and review.state == "accepted":
        lines.append(
            f"- **Accepted:** by {i(review.accepted_by or '')} on {i(_when(review.accepted_at))}"
        )
    if facts.problem is not None:
        lines.append(
            f"- **Problem:** {i(facts.problem.key)} {i(facts.problem.title)}"
            f" \\({i(facts.problem.state.replace('_', ' '))}\\)"
        )
    written = review

    def section(title: str, text: str) -> None:
        lines.extend(["", f"## {title}", "", e(text) if text.strip() else "_Not written yet._"])

    section("Summary", written.summary if written else "")
    lines.extend(["", "## Impact", ""])
    customers = written.customers if written else ""
    minutes = written.duration_minutes if written else None
    duration = (
        f"{minutes} minutes"
        if minutes is not None
        else _took(facts.time_to_resolve) + " (measured)"
    )
    breached = written.sla_breached if written and written.sla_breached is not None else None
    sla = facts.sla_breached if breached is None else breached
    lines += [
        f"- **Customers:** {i(customers) if customers.strip() else '-'}",
        f"- **Duration:** {i(duration)}",
        f"- **SLA breached:** {'-' if sla is None else ('yes' if sla else 'no')}",
    ]
    section("Root cause", written.root_cause if written else "")
    section("Contributing factors", written.contributing_factors if written else "")
    section("What went well", written.went_well if written else "")
    section("Where we got lucky", written.lucky if written else "")

    lines.extend(["", "## Timeline", "", "| When | Who | What |", "|---|---|---|"])
    for event in facts.events:
        what = event.kind + (f" → {event.state}" if event.state else "")
        if event.detail:
            what += f": {event.detail}"
        lines.append(f"| {i(_when(event.at))} | {i(event.actor)} | {i(what)} |")
    lines.extend(["", "## Who was paged", ""])
    if not facts.pages:
        lines.append("Nobody was paged.")
    for page in facts.pages:
        sent = f"sent {_when(page.sent_at)}" if page.sent_at else page.state
        acked = f", acknowledged {_when(page.acknowledged_at)}" if page.acknowledged_at else ""
        lines.append(
            f"- {i(_when(page.created_at))}: {i(page.login)} by {i(page.method)}"
            f" \\({i(page.reason)}; {i(sent + acked)}\\)"
        )
    lines.extend(["", "## Changes before it", ""])
    if not facts.linked_changes and not facts.changes_before:
        lines.append(f"No changes linked, and none on {i(incident.service)} in the week before.")
    for change in facts.linked_changes:
        lines.append(f"- linked: {i(change.key)} {i(change.title)} \\({i(change.state)}\\)")
    for change in facts.changes_before:
        lines.append(
            f"- on {i(incident.service)}: {i(change.key)} {i(change.title)}, "
            f"{i(_when(change.planned_start))} to {i(_when(change.planned_end))}"
            f" \\({i(change.state)}\\)"
        )
    lines.extend(["", "## Vendor status at the time", ""])
    if not facts.vendor_status:
        lines.append("No status sources watch this service or its vendors.")
    for status in facts.vendor_status:
        name = status.source + (f" ({status.vendor})" if status.vendor else "")
        said = f"{status.level}" + (f": {status.summary}" if status.summary else "")
        lines.append(f"- {i(name)}: {i(said)} when it opened")
        for moved in status.changes:
            text = f"{moved.level}" + (f": {moved.summary}" if moved.summary else "")
            lines.append(f"  - {i(_when(moved.at))}: {i(text)}")
    lines.extend(["", "## Action items", ""])
    if not view.actions:
        lines.append("None yet.")
    else:
        lines += ["| Key | Action | Type | Owner | Due | State |", "|---|---|---|---|---|---|"]
        for item in view.actions:
            due = "-" if item.due is None else item.due.isoformat()
            lines.append(
                f"| {i(item.key)} | {i(item.title)} | {i(item.type)} | {i(item.owner)} |"
                f" {i(due)} | {i(item.state)} |"
            )
    lines.extend(["", f"_Generated by opsdesk on {i(_when(now))}._", ""])
    return "\n".join(lines)
