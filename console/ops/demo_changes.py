"""The history a demo change would have if the team had run it through opsdesk.

A demo change row alone says only where it ended up; the change detail, `change show`
and the review's change figures read its timeline and approvals. So each demo change
gets the steps the operations would have written, in order, by the people allowed to
take them: created and submitted by its requester, approved by as many CAB members and
leads (never the requester) as its approval rule asks, started and finished by its
implementer, and closed with a post-implementation review, and the CAB review
afterwards where the rule asks for one (emergency changes). A standard change is
pre-approved on submit, as `ChangeOps.submit` does.

Pure: the rows come from the change's own fields and `config`; nothing here draws a
random number, so a seed's other demo data stays what it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opsdesk.console.config.model import ApprovalRule, Config
from opsdesk.console.domain.change_rules import VERBS, describe, rule_for, still_needed
from opsdesk.store.records import ChangeApproval

HOUR = 3600.0
APPROVE_NOTES = (
    "Backout plan is clear; go ahead.",
    "Low blast radius; approved.",
    "Tested in staging; fine by me.",
)
REVIEWS = {"completed": "Went to plan; no customer impact."}
DECISIONS = ("approve", "reject", "review")
VERB_TO = {target: verb for verb, (_, target) in VERBS.items()}  # "in_progress" -> "start"
# Where a change ends up -> the transitions that lead there from scheduled.
FINISH = {
    "in_progress": ("in_progress",),
    "completed": ("in_progress", "completed"),
    "failed": ("in_progress", "failed"),
    "rolled_back": ("in_progress", "rolled_back"),
    "closed": ("in_progress", "completed", "closed"),
}


@dataclass
class ChangeHistory:
    """What the store holds for one change besides its row: its final `state`, timeline
    events `(at, actor, kind, state, detail)`, approvals `(actor, roles_json, decision,
    comment, at)`, the post-implementation review, and audit rows `(at, actor, action,
    before_json, after_json)`. `version` counts the writes, as the operations would."""

    state: str
    events: list[tuple[float, str, str, str | None, str]] = field(default_factory=list)
    approvals: list[tuple[str, str, str, str, float]] = field(default_factory=list)
    review: str = ""
    audit: list[tuple[float, str, str, str, str]] = field(default_factory=list)

    @property
    def version(self) -> int:
        return len(self.events)

    def step(self, at: float, actor: str, verb: str, state: str | None, detail: str = "") -> None:
        """One operation, as ChangeOps writes it: a decision (approve, review) is an event
        of its own kind, every other verb a "state" event; audited as `change.<verb>`."""
        before = self.state
        if state is not None:
            self.state = state
        kind = verb if verb in DECISIONS else "state"
        self.events.append((at, actor, kind, state, detail))
        self.audit.append(
            (at, actor, f"change.{verb}", json.dumps({"state": before}),
             json.dumps({"state": self.state}))
        )  # fmt: skip


def change_history(
    config: Config,
    *,
    index: int,
    kind: str,
    risk: str,
    requester: str,
    implementer: str,
    created: float,
    planned: float,
    end: float,
    now: float,
    state: str,
    exclude: frozenset[str] = frozenset(),
) -> ChangeHistory:
    """The steps that take a `kind`/`risk` change to `state` ("approved" is read as
    "scheduled": the operations schedule a change on its last approval). Approvers are
    taken in turn (by `index`) from the CAB members and leads, never the requester nor
    anyone in `exclude` (the person trying the demo, whose own actions these are not)."""
    rule = rule_for(config, kind, risk)
    history = ChangeHistory("draft")
    history.audit.append(
        (created, requester, "change.create", "null", json.dumps({"state": "draft"}))
    )
    history.events.append((created, requester, "created", "draft", ""))
    submitted = created + HOUR
    if state == "draft" or submitted >= now:
        return history
    needed = still_needed(rule, [])
    if needed.none:
        why = "standard change" if kind == "standard" else "its rule needs no approval"
        history.step(submitted, requester, "submit", "scheduled", f"pre-approved ({why})")
    else:
        history.step(submitted, requester, "submit", "submitted", f"needs {describe(needed)}")
        if state == "submitted":
            return history
        _approve(config, history, rule, index, requester, exclude, submitted, now)
    if history.state != "scheduled":  # approvers ran out: it waits, as in life
        return history
    at = planned
    for target in FINISH.get(state, ()):
        if target == "closed":
            at = max(at, end) + 20 * HOUR
            if at >= now:
                break
            history.review = REVIEWS["completed"]
            if rule.review_after:
                _cab_review(config, history, index, requester, exclude, at - HOUR)
        elif target != "in_progress":
            at = end
        if at >= now:
            break
        actor = implementer if target != "closed" else requester
        detail = history.review[:200] if target == "closed" else ""
        history.step(at, actor, VERB_TO[target], target, detail)
    return history


def _deciders(config: Config, requester: str, exclude: frozenset[str]) -> list[tuple[str, str]]:
    """(login, roles as the store writes them) of everyone who may decide on a change."""
    out = []
    for person in config.people:
        login = person.login
        if login == requester or login in exclude:
            continue
        roles = sorted(r for r in ("cab", "lead") if login in getattr(config.roles, r))
        if roles:
            out.append((login, json.dumps(roles)))
    return out


def _approve(
    config: Config,
    history: ChangeHistory,
    rule: ApprovalRule,
    index: int,
    requester: str,
    exclude: frozenset[str],
    submitted: float,
    now: float,
) -> None:
    deciders = _deciders(config, requester, exclude)
    given: list[ChangeApproval] = []
    for turn in range(len(deciders)):
        login, roles = deciders[(index + turn) % len(deciders)]
        role_set = frozenset(json.loads(roles))
        at = submitted + (2 + 3 * (len(given) + 1)) * HOUR
        if at >= now:
            return  # still waiting for this approval
        before = still_needed(rule, given)
        mine = ChangeApproval(login, role_set, "approve", "", datetime.fromtimestamp(at, UTC))
        after = still_needed(rule, [*given, mine])
        if (after.cab, after.lead) == (before.cab, before.lead):
            continue  # this person's roles fill no seat still open
        given.append(mine)
        note = APPROVE_NOTES[(index + turn) % len(APPROVE_NOTES)]
        history.approvals.append((login, roles, "approve", note, at))
        new_state = "scheduled" if after.none else None
        history.step(at, login, "approve", new_state, f"{'/'.join(json.loads(roles))}: {note}")
        if after.none:
            return


def _cab_review(
    config: Config,
    history: ChangeHistory,
    index: int,
    requester: str,
    exclude: frozenset[str],
    at: float,
) -> None:
    cab = [d for d in _deciders(config, requester, exclude) if "cab" in json.loads(d[1])]
    if not cab:
        return
    login, roles = cab[index % len(cab)]
    note = "Reviewed after the fact: the emergency was real and the fix was proportionate."
    history.approvals.append((login, roles, "review", note, at))
    history.step(at, login, "review", None, f"{'/'.join(json.loads(roles))}: {note}")
