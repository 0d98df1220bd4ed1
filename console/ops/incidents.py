"""Incident operations: what the CLI and the queue screen call.

Each operation reads the incident, applies the lifecycle and SLA rules (pure functions of
the incident, config and `now`), and writes the result with the version it read, so a
concurrent change by someone else is refused with who and when instead of overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
from opsdesk.console.domain.rotations import level_person
from opsdesk.console.domain.sla import Clock, StateChange, clocks
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import InputError, OpsdeskError
from opsdesk.store import Actor, Incident, NewIncident, StaleWrite, Store
from opsdesk.store.records import IncidentEvent

LOOKBACK = timedelta(days=60)  # overrides that may still be in force began at most this long ago
STALE_LEVEL = timedelta(days=1)


class Refused(OpsdeskError):
    """An operation that does not apply to the incident as it is (wrong state, stale)."""


class Invalid(Refused, InputError):
    """What was asked cannot be right whatever the state: an unknown service or login, a
    value out of range (exit 2; still a Refused for callers that catch those)."""


def due_level(
    config: Config, incident: Incident, now: datetime, stale: timedelta = STALE_LEVEL
) -> int | None:
    """The next escalation level of an incident nobody has acknowledged, if its delay
    (counted from when the incident opened) has passed, and not by more than `stale`."""
    policy = config.policy(incident.service)
    if incident.state != "new" or policy is None:
        return None
    level = incident.escalation_level + 1
    if level > len(policy.levels):
        return None
    due_at = incident.created_at + policy.levels[level - 1].after
    return level if due_at <= now <= due_at + stale else None


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    respond: Clock
    resolve: Clock
    events: list[IncidentEvent]


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
        return IncidentView(incident, respond, resolve, events)

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
            overrides = await self.store.overrides.not_ended(now - LOOKBACK)
            assignee, _ = level_person(self.config, policy.levels[0], overrides, now)
        new = NewIncident(
            one_line(title).strip(), service, impact, urgency, priority, clean(description),
            assignee=assignee, source=source, dedup_key=dedup_key,
        )  # fmt: skip
        return await self.store.incidents.create(
            self.actor, new, now, response_due=respond.due, resolve_due=resolve.due,
            detail=clean(opened_by),
        )  # fmt: skip

    async def _write(
        self,
        incident: Incident,
        events: list[IncidentEvent],
        changes: dict[str, Any],
        event: IncidentEvent,
        action: str,
        now: datetime,
    ) -> Incident:
        history = history_of(incident, events)
        if event.kind == "state" and event.state:
            history.append(
                StateChange(now, event.state, event.detail if event.state == "on_hold" else "")
            )
        priority = changes.get("priority", incident.priority)
        respond, resolve = clocks(self.config, priority, history, now)
        changes = {**changes, **sla_columns(respond, resolve)}
        return await self.store.incidents.apply(
            self.actor, incident.key, incident.version, changes, event, action, now
        )

    async def _load(self, key: str, version: int | None) -> tuple[Incident, list[IncidentEvent]]:
        incident = await self.store.incidents.get(key)
        if version is not None and version != incident.version:
            raise Refused(
                f"{incident.key} was changed by {incident.updated_by} since you looked "
                f"(version {version}, now {incident.version}); look at it again and retry"
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
    ) -> Incident:
        """acknowledge, start, hold (reason), resume, resolve (code + note), reopen, close."""
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
            changes["closed_at"] = now
        event = IncidentEvent(now, self.actor.login, "state", target, detail)
        return await self._write(incident, events, changes, event, f"incident.{verb}", now)

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
            "state": target, "resolved_at": None, "resolution_code": None, "resolution_note": None,
        }  # fmt: skip
        event = IncidentEvent(now, self.actor.login, "state", target, clean(why))
        return await self._write(incident, events, changes, event, "incident.reopen", now)

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

    async def escalate(
        self, key: str, now: datetime, *, version: int | None = None, automatic: bool = False
    ) -> Incident:
        """Move the incident to the next level of its service's escalation policy and
        assign it to whoever that level pages now; noted on its timeline. The version
        check makes it happen once however many consoles try at the same moment."""
        incident, events = await self._load(key, version)
        if incident.state in ("resolved", "closed"):
            raise Refused(f"{incident.key} is {incident.state}; there is nobody to escalate to")
        policy = self.config.policy(incident.service)
        if policy is None:
            raise Refused(f"{incident.key}: service {incident.service!r} has no escalation policy")
        level = incident.escalation_level + 1
        if level > len(policy.levels):
            raise Refused(
                f"{incident.key} is already at the last level ({len(policy.levels)}) of "
                f"{incident.service}'s escalation policy"
            )
        overrides = await self.store.overrides.not_ended(now - LOOKBACK)
        login, via = level_person(self.config, policy.levels[level - 1], overrides, now)
        changes: dict[str, Any] = {"escalation_level": level}
        if login is not None and login != incident.assignee:
            changes["assignee"] = login
        detail = f"level {level} of {len(policy.levels)}: {login or 'nobody on call'} (via {via})"
        if automatic:
            waited = format_duration(policy.levels[level - 1].after)
            detail = f"not acknowledged after {waited}; {detail}"
        event = IncidentEvent(now, self.actor.login, "escalated", None, detail)
        return await self._write(incident, events, changes, event, "incident.escalate", now)

    async def escalate_due(self, now: datetime) -> list[Incident]:
        """Escalate every unacknowledged incident whose next level is due: what an open
        console does every half minute and `incident escalate --due` does from cron. A
        level that fell due more than a day ago is left alone (nobody should be paged for
        last week's alert because a console was opened today)."""
        longest = max(
            (lvl.after for p in self.config.escalation_policies for lvl in p.levels),
            default=timedelta(0),
        )
        escalated = []
        for incident in await self.store.incidents.unacknowledged(now - longest - STALE_LEVEL):
            if due_level(self.config, incident, now, STALE_LEVEL) is None:
                continue
            try:
                escalated.append(
                    await self.escalate(incident.key, now, version=incident.version, automatic=True)
                )
            except (Refused, StaleWrite):
                continue  # someone acknowledged it or another console escalated it first
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
