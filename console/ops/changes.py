"""Change operations the CLI and the changes screen share: the rules in change_rules
applied to the store, writing with the version the caller saw."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opsdesk.console.config.model import Config
from opsdesk.console.config.plugin_options import vendor_levels
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.change_rules import (
    REVIEW_NEEDED,
    RISKS,
    VERBS,
    ChangeRefused,
    Conflict,
    Needed,
    OpenIncident,
    conflict_map,
    decision_refusal,
    describe,
    edit_refusal,
    risk_from,
    rule_for,
    step_refusal,
    still_needed,
)
from opsdesk.console.domain.rotations import by_schedule, final_rota
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import InputError, OpsdeskError
from opsdesk.store import Actor, Store
from opsdesk.store.changes import decider_refusal
from opsdesk.store.incidents import parse_key
from opsdesk.store.records import (
    ChangeApproval,
    ChangeEvent,
    ChangeRequest,
    IncidentFilter,
    NewChange,
    Override,
)

OPEN = ("new", "acknowledged", "in_progress", "on_hold")


class Refused(OpsdeskError):
    """A change operation that does not apply; one line saying why."""


class Invalid(Refused, InputError):
    """A plan that cannot be right whatever the state: an unknown service or risk question,
    a window that ends before it starts, missing plans or justification (exit 2)."""


@dataclass(frozen=True)
class ChangePlan:
    """What someone plans to do, before the rules have looked at it: a `NewChange` whose
    risk may be left to the questionnaire (`risk_answers`) or set by hand with a
    justification. Creating takes all of it; editing a draft takes the title, type,
    services, window, plans and answers, and computes the risk again."""

    title: str
    type: str
    services: tuple[str, ...]
    planned_start: datetime
    planned_end: datetime
    test_plan: str = ""
    backout_plan: str = ""
    risk_answers: dict[str, bool] = field(default_factory=dict)
    risk: str | None = None
    risk_justification: str = ""
    description: str = ""
    implementer: str | None = None


@dataclass(frozen=True)
class ChangeView:
    change: ChangeRequest
    approvals: list[ChangeApproval]
    needed: Needed
    conflicts: list[Conflict]
    linked: list[str]
    events: list[ChangeEvent]


class ChangeOps:
    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store, self.config, self.actor = store, config, actor

    async def create(self, plan: ChangePlan, now: datetime) -> ChangeRequest:
        computed = self._checked_plan(plan)
        risk, justification = plan.risk, plan.risk_justification
        if risk is not None:
            if risk not in RISKS:
                raise Invalid(f"risk is one of {', '.join(RISKS)}, got {risk!r}")
            if risk != computed and not justification.strip():
                raise Invalid(
                    f"setting risk by hand ({risk}; the questionnaire says {computed}) needs a "
                    "justification"
                )
        new = NewChange(
            title=one_line(plan.title).strip(),
            type=plan.type,
            risk=risk or computed,
            services=plan.services,
            planned_start=plan.planned_start,
            planned_end=plan.planned_end,
            implementer=plan.implementer or self.actor.login,
            description=clean(plan.description),
            test_plan=clean(plan.test_plan),
            backout_plan=clean(plan.backout_plan),
            risk_justification=clean(justification),
            risk_answers=dict(plan.risk_answers),
        )
        return await self.store.changes.create(self.actor, new, now)

    async def view(self, key: str, now: datetime) -> ChangeView:
        store = self.store.changes
        change = await store.get(key)
        approvals = await store.approvals(change.key)
        needed = still_needed(rule_for(self.config, change.type, change.risk), approvals)
        live = change.state in ("draft", "submitted", "approved", "scheduled", "in_progress")
        return ChangeView(
            change,
            approvals,
            needed,
            await self.conflicts_of(change, now) if live else [],
            await store.linked_incidents(change.key),
            await store.events(change.key),
        )

    def why_not(self, view: ChangeView, action: str) -> str:
        """Why `action` (edit, submit, approve, reject, start, complete, fail, rollback,
        close) does not apply to the change in `view` for this person ("" when it does):
        the reason the operation itself would refuse with, from the same rule."""
        change = view.change
        rule = rule_for(self.config, change.type, change.risk)
        if action == "edit":
            return edit_refusal(change)
        if action in ("approve", "reject"):
            return decider_refusal(self.actor, change) or decision_refusal(
                change, action, self.actor.login, rule, view.approvals
            )
        return step_refusal(change, action, rule, view.approvals)

    async def awaiting_me(self, changes: list[ChangeRequest]) -> list[ChangeRequest]:
        """Those of `changes` that wait for this person: submitted by someone else, still
        short of approvals, and not yet decided on by them."""
        me, waiting = self.actor.login, []
        for change in changes:
            if change.state != "submitted" or change.requester == me:
                continue
            approvals = await self.store.changes.approvals(change.key)
            needed = still_needed(rule_for(self.config, change.type, change.risk), approvals)
            if not needed.none and not any(a.actor == me for a in approvals):
                waiting.append(change)
        return waiting

    async def conflicts_of(self, change: ChangeRequest, now: datetime) -> list[Conflict]:
        found = await self.conflict_map([change], now)
        return found[change.key]

    async def conflict_map(
        self, changes: list[ChangeRequest], now: datetime
    ) -> dict[str, list[Conflict]]:
        """Conflicts of each change, reading what they share (incidents, overrides, vendor
        status, the changes around them) once."""
        if not changes:
            return {}
        store = self.store
        start = min(c.planned_start for c in changes)
        end = max(c.planned_end for c in changes)
        others = await store.changes.overlapping(start, end)
        incidents = [
            OpenIncident(i.key, i.priority, i.service, i.title)
            for i in await store.incidents.find(
                IncidentFilter(states=OPEN, priorities=("P1", "P2")), limit=500
            )
        ]
        overrides = await store.overrides.not_ended(start - timedelta(days=60))
        states = {s.source: s.level for s in await store.statuses.all()}
        levels = vendor_levels(self.config, states)
        on_call = self._on_call(changes, overrides)
        return conflict_map(changes, others, self.config, incidents, on_call, levels, now)

    def _on_call(
        self, changes: list[ChangeRequest], overrides: list[Override]
    ) -> dict[str, list[tuple[str, str, datetime, datetime]]]:
        """The implementer's shifts within each change's window, per change key: the rota
        of each schedule is laid out once over each stretch of overlapping windows (not
        once per change), and each change takes the pieces inside its window, cut to it
        (what the rota over that window alone would say)."""
        spans: list[tuple[datetime, datetime]] = []
        for change in sorted(changes, key=lambda c: c.planned_start):
            begin, end = change.planned_start, change.planned_end
            if end <= begin:
                continue
            if spans and begin <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((begin, end))
        mine = by_schedule(overrides)
        rotas = []
        for schedule in self.config.schedules:
            shifts = [
                shift
                for begin, end in spans
                for shift in final_rota(schedule, mine.get(schedule.name, []), begin, end)
            ]
            rotas.append((schedule.name, shifts, [s.start for s in shifts]))
        found: dict[str, list[tuple[str, str, datetime, datetime]]] = {}
        for change in changes:
            begin, end = change.planned_start, change.planned_end
            pieces = found[change.key] = []
            if end <= begin:
                continue
            for name, shifts, starts in rotas:
                first = max(bisect_right(starts, begin) - 1, 0)
                for shift in shifts[first : bisect_left(starts, end)]:
                    if shift.login == change.implementer and shift.end > begin:
                        cut = (max(shift.start, begin), min(shift.end, end))
                        pieces.append((name, shift.login or "", *cut))
        return found

    async def submit(
        self, key: str, now: datetime, *, ack_conflicts: bool = False, version: int | None = None
    ) -> ChangeRequest:
        change = await self._load(key, version)
        rule = rule_for(self.config, change.type, change.risk)
        if why := step_refusal(change, "submit", rule, []):
            raise Refused(why)
        target = VERBS["submit"][1]
        found = await self.conflicts_of(change, now)
        if found and not ack_conflicts:
            reasons = "; ".join(c.reason for c in found)
            raise Refused(
                f"{change.key} has {len(found)} conflict(s): {reasons}. Submit again "
                "acknowledging them (--ack-conflicts) to go ahead"
            )
        needed = still_needed(rule, [])
        state, detail = target, f"needs {describe(needed)}"
        if needed.none:
            why = "standard change" if change.type == "standard" else "its rule needs no approval"
            state, detail = "scheduled", f"pre-approved ({why})"
        changes: dict[str, object] = {"state": state}
        if found:
            changes["conflicts_ack"] = [c.reason for c in found]
            detail += f"; {len(found)} conflict(s) acknowledged"
        event = ChangeEvent(now, self.actor.login, "state", state, detail)
        return await self.store.changes.apply(
            self.actor, change.key, change.version, changes, event, "change.submit", now
        )

    async def decide(
        self, key: str, decision: str, comment: str, now: datetime, *, version: int | None = None
    ) -> ChangeRequest:
        """approve or reject a submitted change; a CAB member's approve on a finished
        change whose rule asks for a review afterwards is that review."""
        change = await self._load(key, version)
        rule = rule_for(self.config, change.type, change.risk)
        if decision == "reject" and not comment.strip():
            raise Invalid("a rejection needs a comment saying why")
        approvals = await self.store.changes.approvals(change.key)
        if why := decision_refusal(change, decision, self.actor.login, rule, approvals):
            raise Refused(why)
        if change.state != "submitted":  # allowed there: the CAB review afterwards
            return await self.store.changes.decide(
                self.actor, change.key, change.version, "review", clean(comment), None, now
            )
        if decision == "reject":
            new_state: str | None = "rejected"
        else:
            roles = frozenset(r for r in ("cab", "lead") if self.actor.has(r))
            mine = ChangeApproval(self.actor.login, roles, "approve", comment, now)
            new_state = "scheduled" if still_needed(rule, [*approvals, mine]).none else None
        return await self.store.changes.decide(
            self.actor, change.key, change.version, decision, clean(comment), new_state, now
        )

    async def transition(
        self, key: str, verb: str, now: datetime, *, review: str = "", version: int | None = None
    ) -> ChangeRequest:
        """start, complete, fail, rollback, close (a review is required to close a failed,
        rolled back or emergency change; an emergency change also needs its CAB review)."""
        change = await self._load(key, version)
        rule = rule_for(self.config, change.type, change.risk)
        approvals = await self.store.changes.approvals(change.key)
        if why := step_refusal(change, verb, rule, approvals):
            raise Refused(why)
        changes: dict[str, object] = {"state": VERBS[verb][1]}
        if verb == "close":
            if (change.state in REVIEW_NEEDED or change.type == "emergency") and not review.strip():
                raise Refused(
                    f"closing {change.key} ({change.state.replace('_', ' ')}, {change.type}) needs "
                    "a post-implementation review (--review)"
                )
            if review.strip():
                changes["review"] = clean(review)
        target = VERBS[verb][1]
        event = ChangeEvent(now, self.actor.login, "state", target, clean(review)[:200])
        return await self.store.changes.apply(
            self.actor, change.key, change.version, changes, event, f"change.{verb}", now
        )

    async def edit(
        self, key: str, plan: ChangePlan, now: datetime, *, version: int | None = None
    ) -> ChangeRequest:
        """Change a draft (or a rejected change before resubmitting): the same checks as
        creating one; the risk is computed again from the answers. The plan's risk by
        hand, justification, description and implementer are not edited: a plan that
        sets them is refused rather than half applied."""
        unedited = [
            name
            for name in ("risk", "risk_justification", "description", "implementer")
            if getattr(plan, name)
        ]
        if unedited:
            raise ValueError(f"editing a change does not change its {', '.join(unedited)}")
        change = await self._load(key, version)
        if why := edit_refusal(change):
            raise Refused(why)
        risk = self._checked_plan(plan)
        fields = {
            "title": one_line(plan.title).strip(),
            "type": plan.type,
            "services": list(plan.services),
            "planned_start": plan.planned_start,
            "planned_end": plan.planned_end,
            "test_plan": clean(plan.test_plan),
            "backout_plan": clean(plan.backout_plan),
            "risk_answers": dict(plan.risk_answers),
            "risk": risk,
        }
        event = ChangeEvent(now, self.actor.login, "edited", None, f"risk {risk}")
        return await self.store.changes.apply(
            self.actor, change.key, change.version, fields, event, "change.edit", now
        )

    async def link(self, key: str, incident: str, now: datetime) -> None:
        await self.store.incidents.get(incident)  # a clear "no such incident" first
        await self.store.changes.link(self.actor, key, parse_key(incident), now)

    def _checked_plan(self, plan: ChangePlan) -> str:
        """What creating and editing both check; returns the questionnaire's risk."""
        known = [s.name for s in self.config.services]
        services, change_type = plan.services, plan.type
        for service in services:
            if known and service not in known:
                raise Invalid(f"unknown service {service!r}{suggest(service, known)}")
        if not services:
            raise Invalid("a change needs at least one affected service")
        if plan.planned_end <= plan.planned_start:
            raise Invalid("the planned end must be after the planned start")
        if change_type in ("normal", "emergency") and not (
            plan.test_plan.strip() and plan.backout_plan.strip()
        ):
            raise Invalid(f"a {change_type} change needs a test plan and a backout plan")
        try:
            return risk_from(self.config, plan.risk_answers)
        except ChangeRefused as exc:
            raise Invalid(str(exc)) from None

    async def _load(self, key: str, version: int | None) -> ChangeRequest:
        change = await self.store.changes.get(key)
        if version is not None and version != change.version:
            raise Refused(
                f"{change.key} was changed by {change.updated_by} since you looked; look again"
            )
        return change
