"""Incident operations: what the CLI and the queue screen call.

Each operation reads the incident, applies the lifecycle and SLA rules (pure functions of
the incident, config and `now`), and writes the result with the version it read, so a
concurrent change by someone else is refused with who and when instead of overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from opsdesk.console.config.durations import format_duration
from opsdesk.console.config.model import Config
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.lifecycle import (
    HOLD_REASONS,
    RESOLUTION_CODES,
    TransitionRefused,
    check_reopen_window,
    check_transition,
    priority_of,
)
from opsdesk.console.domain.sla import Clock, StateChange, clocks
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import changed_since_you_looked
from opsdesk.console.ops.refusals import Invalid, Refused
from opsdesk.store import Actor, Incident, NewIncident, StaleWrite, Store
from opsdesk.store.records import IncidentEvent
from opsdesk.store.value import FrozenValue

if TYPE_CHECKING:
    from opsdesk.console.domain.paging import Step
    from opsdesk.store.records import Notification  # the outbox's records load when paging

# Escalation, paging and reviews are imported where an operation needs them, not here:
# reading and listing incidents (`incident list`, the queue) load none of them.

LOOKBACK = timedelta(days=60)  # overrides that may still be in force began at most this long ago


def due_step(config: Config, incident: Incident, now: datetime) -> Step | None:
    """The next escalation step of an incident nobody has acknowledged, if it is due: its
    delay after the current level paged has passed, by less than a day."""
    policy = config.policy(incident.service)
    if incident.state != "new" or policy is None or not policy.levels:
        return None
    from opsdesk.console.domain.paging import due_step as paging_step

    return paging_step(
        policy, incident.escalation_level, incident.escalation_round, incident.paged_at, now
    )


def due_level(config: Config, incident: Incident, now: datetime) -> int | None:
    """The level `due_step` would page (what the console shows), or None."""
    step = due_step(config, incident, now)
    return None if step is None else step.level


@dataclass(frozen=True, eq=False, repr=False)
class IncidentView(FrozenValue):
    """An incident with its SLA clocks, timeline and pages: what `show` gives."""

    incident: Incident
    respond: Clock
    resolve: Clock
    events: list[IncidentEvent]
    pages: list[Notification] = field(default_factory=list)  # who was notified how


def history_of(incident: Incident, events: list[IncidentEvent]) -> list[StateChange]:
    """The state history from the timeline; incidents imported without a timeline (demo
    data) get one rebuilt from their timestamps."""
    changes = [
        StateChange(e.at, e.state, e.detail if e.state == "on_hold" else "")
        for e in events
        if e.kind in ("created", "state") and e.state
    ]
    if changes:
        return changes
    rebuilt = [StateChange(incident.created_at, "new")]
    if incident.acknowledged_at:
        rebuilt.append(StateChange(incident.acknowledged_at, "acknowledged"))
    if incident.state in ("in_progress", "on_hold"):
        rebuilt.append(StateChange(incident.updated_at, incident.state, incident.hold_reason or ""))
    if incident.resolved_at:
        rebuilt.append(StateChange(incident.resolved_at, "resolved"))
    if incident.closed_at:
        rebuilt.append(StateChange(incident.closed_at, "closed"))
    return rebuilt


def sla_columns(respond: Clock, resolve: Clock) -> dict[str, Any]:
    """What the store keeps for sorting, --breached and attainment: a clock's due time while
    it runs or once breached (nothing once met or while paused within target), and whether
    each clock was met once it stopped."""

    def stored(clock: Clock) -> datetime | None:
        if clock.breached or clock.state == "running":
            return clock.due
        if clock.state == "paused" and clock.reason == "paused: outside business hours":
            return clock.due
        return None

    def met(clock: Clock) -> bool | None:
        return None if clock.state != "stopped" else not clock.breached

    return {
        "response_due": stored(respond),
        "resolve_due": stored(resolve),
        "response_met": met(respond),
        "resolve_met": met(resolve),
    }


class IncidentOps:
    """Text from people and tools is cleaned of escape sequences and control characters
    here, where it enters; screens clean again where they draw."""

    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store = store
        self.config = config
        self.actor = actor

    # Reading -----------------------------------------------------------------------

    async def view(self, key: str, now: datetime) -> IncidentView:
        incident = await self.store.incidents.get(key)
        events = await self.store.incidents.events(incident.key)
        respond, resolve = clocks(self.config, incident.priority, history_of(incident, events), now)
        pages = await self.store.notifications.list(incident.key)
        return IncidentView(incident, respond, resolve, events, pages)

    # Checks -----------------------------------------------------------------------

    def _check_service(self, service: str) -> None:
        names = [s.name for s in self.config.services]
        if names and service not in names:
            raise Invalid(f"unknown service {service!r}{suggest(service, names)}")

    def _check_login(self, login: str) -> None:
        logins = [p.login for p in self.config.people]
        if logins and login not in logins:
            raise Invalid(f"unknown login {login!r}{suggest(login, logins)}")

    # Operations ---------------------------------------------------------------------

    async def create(
        self,
        title: str,
        service: str,
        now: datetime,
        *,
        impact: int = 3,
        urgency: int = 3,
        description: str = "",
        source: str = "manual",
        dedup_key: str | None = None,
        opened_by: str = "",
    ) -> Incident:
        """A new incident; `opened_by` (which alert opened it, say) goes on its timeline."""
        self._check_service(service)
        try:
            priority = priority_of(self.config, impact, urgency)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        respond, resolve = clocks(self.config, priority, [StateChange(now, "new")], now)
        assignee = None
        policy = self.config.policy(service)
        if self.config.queue.auto_assign and policy is not None:
            from opsdesk.console.domain.rotations import level_person

            overrides = await self.store.overrides.not_ended(now - LOOKBACK)
            assignee, _ = level_person(self.config, policy.levels[0], overrides, now)
        new = NewIncident(
            one_line(title).strip(),
            service,
            impact,
            urgency,
            priority,
            clean(description),
            assignee=assignee,
            source=source,
            dedup_key=dedup_key,
        )
        async with self.store.atomic():  # the incident and its first pages, or neither
            incident = await self.store.incidents.create(
                self.actor,
                new,
                now,
                response_due=respond.due,
                resolve_due=resolve.due,
                detail=clean(opened_by),
            )
            if policy is not None and policy.levels:
                from opsdesk.console.ops.pager import page_level

                await page_level(self.store, self.config, incident, 1, 1, now)
        return incident

    async def _write(
        self,
        incident: Incident,
        events: list[IncidentEvent],
        changes: dict[str, Any],
        event: IncidentEvent,
        action: str,
        now: datetime,
        via: str | None = None,
    ) -> Incident:
        history = history_of(incident, events)
        if event.kind == "state" and event.state:
            history.append(
                StateChange(now, event.state, event.detail if event.state == "on_hold" else "")
            )
        priority = changes.get("priority", incident.priority)
        respond, resolve = clocks(self.config, priority, history, now)
        changes = {**changes, **sla_columns(respond, resolve)}
        answered = changes.get("state", "new") != "new"  # acknowledged, taken, resolved...
        async with self.store.atomic():  # the change and the pages it stops, or neither
            after = await self.store.incidents.apply(
                self.actor, incident.key, incident.version, changes, event, action, now, via=via
            )
            if answered:
                await self.store.notifications.cancel_pending(incident.key, now)
        return after

    async def _load(self, key: str, version: int | None) -> tuple[Incident, list[IncidentEvent]]:
        incident = await self.store.incidents.get(key)
        if version is not None and version != incident.version:
            raise Refused(
                changed_since_you_looked(
                    incident.key, incident.updated_by, version, incident.version
                )
            )
        return incident, await self.store.incidents.events(incident.key)

    async def transition(
        self,
        key: str,
        verb: str,
        now: datetime,
        *,
        reason: str | None = None,
        code: str | None = None,
        note: str | None = None,
        version: int | None = None,
        via: str | None = None,
    ) -> Incident:
        """acknowledge, start, hold (reason), resume, resolve (code + note), reopen, close;
        `via`: how it reached us when not from a console or the CLI (an email link)."""
        incident, events = await self._load(key, version)
        try:
            target = check_transition(incident.key, incident.state, verb)
            if verb == "reopen":
                check_reopen_window(
                    incident.key, incident.resolved_at, now, self.config.queue.reopen_days
                )
        except TransitionRefused as exc:
            raise Refused(str(exc)) from None
        changes: dict[str, Any] = {"state": target}
        detail = ""
        if verb == "hold":
            if reason not in HOLD_REASONS:
                raise Invalid(f"hold needs a reason: one of {', '.join(HOLD_REASONS)}")
            changes["hold_reason"] = detail = reason
        if incident.state == "on_hold" and target != "on_hold":
            changes["hold_reason"] = None
        if verb == "acknowledge" and incident.acknowledged_at is None:
            changes["acknowledged_at"] = now
            if incident.assignee is None:
                changes["assignee"] = self.actor.login
        if verb == "resolve":
            if code not in RESOLUTION_CODES:
                raise Invalid(f"resolve needs a code: one of {', '.join(RESOLUTION_CODES)}")
            if not (note or "").strip():
                raise Invalid("resolve needs a note saying what was done")
            note = clean(note or "")
            changes.update(resolved_at=now, resolution_code=code, resolution_note=note)
            detail = f"{code}: {note}"
        if verb == "reopen":
            changes.update(resolved_at=None, resolution_code=None, resolution_note=None)
        if verb == "close":
            from opsdesk.console.ops.reviews import ReviewOps

            reason = await ReviewOps(self.store, self.config, self.actor).close_refusal(incident)
            if reason is not None:
                raise Refused(reason)
            changes["closed_at"] = now
        if via is not None:
            detail = f"{detail}; via {via}" if detail else f"via {via}"
        event = IncidentEvent(now, self.actor.login, "state", target, detail)
        return await self._write(incident, events, changes, event, f"incident.{verb}", now, via)

    def reopenable(self, incident: Incident, now: datetime) -> bool:
        """Whether the lifecycle lets `incident` be reopened now: resolved (not closed),
        within `queue.reopen_days` of resolving."""
        try:
            check_transition(incident.key, incident.state, "reopen")
            check_reopen_window(
                incident.key, incident.resolved_at, now, self.config.queue.reopen_days
            )
        except TransitionRefused:
            return False
        return True

    async def reopen_for_alert(
        self, key: str, now: datetime, why: str, *, version: int | None = None
    ) -> Incident:
        """Reopen a resolved incident because the alert that opened it fires again: the
        lifecycle's reopen (window included), with `why` (which alert, from where) on the
        timeline's state change."""
        incident, events = await self._load(key, version)
        try:
            target = check_transition(incident.key, incident.state, "reopen")
            check_reopen_window(
                incident.key, incident.resolved_at, now, self.config.queue.reopen_days
            )
        except TransitionRefused as exc:
            raise Refused(str(exc)) from None
        changes: dict[str, Any] = {
            "state": target,
            "resolved_at": None,
            "resolution_code": None,
            "resolution_note": None,
        }
        changes.update(escalation_level=1, escalation_round=1, escalation_at=now)
        event = IncidentEvent(now, self.actor.login, "state", target, clean(why))
        from opsdesk.console.ops.pager import page_level

        async with self.store.atomic():  # reopened by an alert: page as if it were new
            after = await self._write(incident, events, changes, event, "incident.reopen", now)
            await page_level(self.store, self.config, after, 1, 1, now)
        return after

    async def assign(
        self, key: str, login: str, now: datetime, *, version: int | None = None
    ) -> Incident:
        self._check_login(login)
        incident, events = await self._load(key, version)
        if incident.state == "closed":
            raise Refused(f"{incident.key} is closed; it cannot be reassigned")
        if incident.assignee == login:
            raise Refused(f"{incident.key} is already assigned to {login}")
        event = IncidentEvent(now, self.actor.login, "assigned", None, login)
        return await self._write(
            incident, events, {"assignee": login}, event, "incident.assign", now
        )

    async def take(self, key: str, now: datetime, *, version: int | None = None) -> Incident:
        """Assign to me; a new incident is acknowledged at the same time (one change)."""
        incident, events = await self._load(key, version)
        if incident.state != "new":
            return await self.assign(key, self.actor.login, now, version=incident.version)
        changes = {"state": "acknowledged", "acknowledged_at": now, "assignee": self.actor.login}
        event = IncidentEvent(now, self.actor.login, "state", "acknowledged", "taken")
        return await self._write(incident, events, changes, event, "incident.take", now)

    async def set_priority(
        self, key: str, impact: int, urgency: int, now: datetime, *, version: int | None = None
    ) -> Incident:
        incident, events = await self._load(key, version)
        try:
            priority = priority_of(self.config, impact, urgency)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        if (impact, urgency) == (incident.impact, incident.urgency):
            raise Refused(f"{incident.key} already has impact {impact} and urgency {urgency}")
        changes = {"impact": impact, "urgency": urgency, "priority": priority}
        detail = f"{incident.priority} → {priority} (impact {impact}, urgency {urgency})"
        event = IncidentEvent(now, self.actor.login, "priority", None, detail)
        return await self._write(incident, events, changes, event, "incident.priority", now)

    async def escalate(self, key: str, now: datetime, *, version: int | None = None) -> Incident:
        """Page the next level of the incident's escalation policy now (a person pulling
        the next level in) and assign it to whoever that level pages; noted on its timeline."""
        incident, events = await self._load(key, version)
        if incident.state in ("resolved", "closed"):
            raise Refused(f"{incident.key} is {incident.state}; there is nobody to escalate to")
        policy = self.config.policy(incident.service)
        if policy is None or not policy.levels:
            raise Refused(f"{incident.key}: service {incident.service!r} has no escalation policy")
        level = incident.escalation_level + 1
        if level > len(policy.levels):
            raise Refused(
                f"{incident.key} is already at the last level ({len(policy.levels)}) of "
                f"{incident.service}'s escalation policy"
            )
        from opsdesk.console.domain.paging import Step

        return await self._advance(
            incident, events, Step(level, incident.escalation_round, now), now, ""
        )

    async def _advance(
        self, incident: Incident, events: list[IncidentEvent], step: Step, now: datetime, why: str
    ) -> Incident:
        """Move to `step`, assign to whoever it pages, and queue the pages: one transaction."""
        policy = self.config.policy(incident.service)
        assert policy is not None
        from opsdesk.console.domain.rotations import level_person
        from opsdesk.console.ops.pager import page_level

        overrides = await self.store.overrides.not_ended(now - LOOKBACK)
        login, via = level_person(self.config, policy.levels[step.level - 1], overrides, now)
        changes: dict[str, Any] = {
            "escalation_level": step.level,
            "escalation_round": step.round,
            "escalation_at": now,
        }
        if login is not None and login != incident.assignee:
            changes["assignee"] = login
        detail = (
            f"level {step.level} of {len(policy.levels)}: {login or 'nobody on call'} (via {via})"
        )
        if step.round > 1:
            detail = f"repeat {step.round - 1} of {policy.repeat}, {detail}"
        if why:
            detail = f"{why}; {detail}"
        event = IncidentEvent(now, self.actor.login, "escalated", None, detail)
        async with self.store.atomic():
            after = await self._write(incident, events, changes, event, "incident.escalate", now)
            await page_level(self.store, self.config, after, step.level, step.round, now)
        return after

    async def escalate_due(self, now: datetime) -> list[Incident]:
        """Page the next level of every unacknowledged incident whose step is due, as the
        system (`opsdesk`), not as whoever runs this: what `opsdesk serve` does every few
        seconds, an open console every half minute and `incident escalate --due` from cron.
        One level per incident per call: after downtime the levels catch up one at a time.
        The version check makes each step happen once however many processes try."""
        from opsdesk.console.domain.paging import STALE_STEP
        from opsdesk.console.ops.pager import SYSTEM

        system = IncidentOps(self.store, self.config, SYSTEM)
        policies = self.config.escalation_policies
        longest = max(
            (lvl.after + p.repeat_after for p in policies for lvl in p.levels), default=timedelta(0)
        )
        rounds = max((p.repeat + 1 for p in policies), default=1)
        since = now - longest * rounds - STALE_STEP
        escalated = []
        for incident in await self.store.incidents.unacknowledged(since):
            step = due_step(self.config, incident, now)
            if step is None:
                continue
            waited = format_duration(now - incident.paged_at)
            try:
                escalated.append(
                    await system._advance(
                        incident,
                        await self.store.incidents.events(incident.key),
                        step,
                        now,
                        f"not acknowledged after {waited}",
                    )
                )
            except (Refused, StaleWrite):
                continue  # someone acknowledged it or another process escalated it first
        return escalated

    async def note(self, key: str, text: str, now: datetime) -> IncidentEvent:
        return await self.store.incidents.add_note(self.actor, key, clean(text), now)

    async def csat(
        self, key: str, score: int, now: datetime, *, version: int | None = None
    ) -> Incident:
        incident, events = await self._load(key, version)
        if incident.state not in ("resolved", "closed"):
            raise Refused(
                f"{incident.key} is {incident.state}; CSAT is recorded once it is resolved"
            )
        if score not in range(1, 6):
            raise Invalid(f"CSAT is a score from 1 to 5, got {score}")
        event = IncidentEvent(now, self.actor.login, "csat", None, str(score))
        return await self._write(incident, events, {"csat": score}, event, "incident.csat", now)
