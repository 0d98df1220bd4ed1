"""Change management rules (ITIL): the state machine, risk from the questionnaire, which
approvals a change needs, and the conflicts it runs into. Pure functions of the change,
config, the other changes, incidents, on-call and vendor status, and `now`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from opsdesk.console.config.model import ApprovalRule, Config
from opsdesk.console.domain.text import words
from opsdesk.store.records import ChangeApproval, ChangeRequest

STATES = (
    "draft", "submitted", "approved", "rejected", "scheduled", "in_progress",
    "completed", "failed", "rolled_back", "closed",
)  # fmt: skip
VERBS: dict[str, tuple[tuple[str, ...], str]] = {
    # verb: (states it may start from, state it leads to)
    "submit": (("draft", "rejected"), "submitted"),
    "start": (("approved", "scheduled"), "in_progress"),
    "complete": (("in_progress",), "completed"),
    "fail": (("in_progress",), "failed"),
    "rollback": (("in_progress",), "rolled_back"),
    "close": (("completed", "failed", "rolled_back"), "closed"),
}
REVIEW_NEEDED = ("failed", "rolled_back")
RISKS = ("low", "medium", "high")


class ChangeRefused(ValueError):
    """A step that does not apply; the message says why and what would."""


def check_verb(key: str, state: str, verb: str) -> str:
    """The state `verb` leads to from `state`, or ChangeRefused naming what is allowed."""
    sources, target = VERBS[verb]
    if state in sources:
        return target
    allowed = [v for v, (starts, _) in VERBS.items() if state in starts]
    if state == "submitted":
        allowed += ["approve", "reject"]
    hint = f"Allowed: {', '.join(allowed)}" if allowed else "Nothing more can happen to it"
    raise ChangeRefused(f"{key} is {state.replace('_', ' ')}; cannot {verb} it. {hint}")


def approval_progress(rule: ApprovalRule, approvals: Iterable[ChangeApproval]) -> str:
    """How far a change is with its approvals, in words: "needs 2 CAB approvals, has 1
    (ana)". What the refusals below say when a change is waiting for approvals."""
    wanted = [f"{n} {role}" for n, role in ((rule.cab, "CAB"), (rule.lead, "lead")) if n]
    if not wanted:
        return "needs no approval"
    plural = "s" if rule.cab + rule.lead > 1 else ""
    given = [a.actor for a in approvals if a.decision == "approve"]
    has = f"has {len(given)} ({', '.join(given)})" if given else "has none"
    return f"needs {' and '.join(wanted)} approval{plural}, {has}"


def step_refusal(
    change: ChangeRequest, verb: str, rule: ApprovalRule, approvals: Sequence[ChangeApproval]
) -> str:
    """Why `verb` (submit, start, complete, fail, rollback, close) does not apply to this
    change now ("" when it does). The workflow refuses with this reason and the console
    shows it on a key that does not apply, so both say the same thing."""
    if verb == "start" and change.state == "submitted":
        if still_needed(rule, approvals).none:  # the rule was eased after it was submitted
            return (
                f"{change.key} is not approved yet: its rule needs no more approvals now, "
                "so one approve (by a CAB member or a lead) schedules it"
            )
        return f"{change.key} is not approved yet: it {approval_progress(rule, approvals)}"
    try:
        check_verb(change.key, change.state, verb)
    except ChangeRefused as exc:
        return str(exc)
    if verb == "close" and rule.review_after and not any(a.decision == "review" for a in approvals):
        return f"{change.key} needs its CAB review (change approve) first"
    return ""


REVIEWABLE = ("completed", "failed", "rolled_back", "in_progress", "scheduled")
"""States in which a CAB member's approve is the after-the-fact review a rule may ask for."""


def decision_refusal(
    change: ChangeRequest,
    decision: str,
    login: str,
    rule: ApprovalRule,
    approvals: Sequence[ChangeApproval],
) -> str:
    """Why `login` may not approve or reject this change in its state ("" when they may).
    Who may decide at all (the role, never one's own change) is the store's rule."""
    if change.state != "submitted":
        if decision == "approve" and rule.review_after and change.state in REVIEWABLE:
            return ""  # the CAB review afterwards
        return (
            f"{change.key} is {change.state.replace('_', ' ')}; only submitted changes are "
            "approved or rejected"
        )
    mine = [a for a in approvals if a.actor == login and a.decision == "approve"]
    if decision == "approve" and mine:
        return f"you already approved {change.key}: it {approval_progress(rule, approvals)}"
    return ""


def edit_refusal(change: ChangeRequest) -> str:
    """Why this change cannot be edited ("" when it can): only drafts and rejected ones."""
    if change.state in ("draft", "rejected"):
        return ""
    return (
        f"{change.key} is {change.state.replace('_', ' ')}; only drafts and rejected changes "
        "are edited"
    )


def risk_from(config: Config, answers: dict[str, bool]) -> str:
    """Risk from the questionnaire: the weights of the "yes" answers, against the
    thresholds. Unknown question ids are refused (a typo must not lower the risk)."""
    questions = {q.id: q for q in config.changes.risk_questions}
    unknown = sorted(set(answers) - set(questions))
    if unknown:
        raise ChangeRefused(f"unknown risk question(s): {', '.join(unknown)}")
    score = sum(questions[q].weight for q, yes in answers.items() if yes)
    thresholds = config.changes.risk_thresholds
    return "high" if score >= thresholds.high else "medium" if score >= thresholds.medium else "low"


def rule_for(config: Config, change_type: str, risk: str) -> ApprovalRule:
    """The first approval rule for this type and risk; without one, a normal-change
    default of one CAB approval (so nothing goes through unapproved by omission)."""
    for rule in config.changes.approval_rules:
        if rule.type == change_type and risk in rule.risk:
            return rule
    return ApprovalRule(type=change_type, cab=0 if change_type == "standard" else 1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Needed:
    cab: int
    lead: int
    review_after: bool

    @property
    def none(self) -> bool:
        return self.cab == 0 and self.lead == 0


def still_needed(rule: ApprovalRule, approvals: Iterable[ChangeApproval]) -> Needed:
    """Approvals still missing before the change may proceed. One person counts once,
    for the role the rule still needs (a lead who is also CAB fills a lead seat first)."""
    cab, lead = rule.cab, rule.lead
    for approval in approvals:
        if approval.decision != "approve":
            continue
        if lead and "lead" in approval.roles:
            lead -= 1
        elif cab and "cab" in approval.roles:
            cab -= 1
    return Needed(max(cab, 0), max(lead, 0), rule.review_after)


def describe(needed: Needed) -> str:
    parts = []
    if needed.cab:
        parts.append(f"{needed.cab} CAB")
    if needed.lead:
        parts.append(f"{needed.lead} lead")
    return " and ".join(parts) or "none"


@dataclass(frozen=True)
class OpenIncident:
    key: str
    priority: str
    service: str
    title: str


@dataclass(frozen=True)
class Conflict:
    kind: str  # change, freeze, incident, on_call, implementer_busy, vendor
    reason: str


ACTIVE = ("submitted", "approved", "scheduled", "in_progress")


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def conflicts(
    change: ChangeRequest,
    others: Sequence[ChangeRequest],
    config: Config,
    incidents: Sequence[OpenIncident],
    on_call: Sequence[tuple[str, str, datetime, datetime]],
    vendor_levels: dict[str, str],
    now: datetime,
) -> list[Conflict]:
    """Everything a change collides with, each with a reason a person can read.

    `on_call` is (schedule, login, start, end) shifts overlapping the window;
    `vendor_levels` the current level per vendor name."""
    return conflict_map(
        [change], others, config, incidents, {change.key: on_call}, vendor_levels, now
    )[change.key]


def conflict_map(
    changes: Sequence[ChangeRequest],
    others: Sequence[ChangeRequest],
    config: Config,
    incidents: Sequence[OpenIncident],
    on_call: Mapping[str, Sequence[tuple[str, str, datetime, datetime]]],
    vendor_levels: dict[str, str],
    now: datetime,
) -> dict[str, list[Conflict]]:
    """`conflicts` of each of `changes` (on_call by change key), in one pass: the
    changes that may collide are found by a sweep over planned windows, per service and
    per implementer, instead of every change against every other; open incidents are
    looked up by service. Each change's conflicts come in the same order as `conflicts`
    gives them (others in their order, then freezes, incidents, on-call, vendors)."""
    colliding = _colliding(changes, others)
    by_service: dict[str, list[int]] = {}
    for number, incident in enumerate(incidents):
        by_service.setdefault(incident.service, []).append(number)
    found = {}
    for number, change in enumerate(changes):
        found[change.key] = _conflicts_of(
            change,
            [others[i] for i in sorted(colliding[number])],
            config,
            [
                incidents[i]
                for i in sorted({i for s in change.services for i in by_service.get(s, [])})
            ],
            on_call.get(change.key, []),
            vendor_levels,
        )
    return found


def _colliding(changes: Sequence[ChangeRequest], others: Sequence[ChangeRequest]) -> list[set[int]]:
    """For each of `changes`, the positions in `others` that may be in conflict with it:
    active, sharing a service or the implementer, and with windows that meet. A superset
    (closed windows, either way round), checked exactly afterwards."""
    groups: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for number, change in enumerate(changes):
        for key in _keys(change):
            groups.setdefault(key, ([], []))[0].append(number)
    for number, other in enumerate(others):
        if other.state in ACTIVE:
            for key in _keys(other):
                if key in groups:
                    groups[key][1].append(number)
    colliding: list[set[int]] = [set() for _ in changes]
    for mine, theirs in groups.values():
        if not theirs:
            continue
        # Sweep by start: each window meets those still open when it starts.
        events = sorted(
            [(*_closed(changes[i]), 0, i) for i in mine]
            + [(*_closed(others[i]), 1, i) for i in theirs]
        )
        open_mine: list[tuple[datetime, int]] = []
        open_theirs: list[tuple[datetime, int]] = []
        for low, high, side, number in events:
            open_mine = [(h, i) for h, i in open_mine if h >= low]
            open_theirs = [(h, i) for h, i in open_theirs if h >= low]
            if side == 0:
                colliding[number].update(i for _, i in open_theirs)
                open_mine.append((high, number))
            else:
                for _, i in open_mine:
                    colliding[i].add(number)
                open_theirs.append((high, number))
    return colliding


def _keys(change: ChangeRequest) -> list[tuple[str, str]]:
    keys = [("service", s) for s in change.services]
    if change.implementer:
        keys.append(("implementer", change.implementer))
    return keys


def _closed(change: ChangeRequest) -> tuple[datetime, datetime]:
    start, end = change.planned_start, change.planned_end
    return (start, end) if start <= end else (end, start)


def _conflicts_of(
    change: ChangeRequest,
    others: Iterable[ChangeRequest],
    config: Config,
    incidents: Iterable[OpenIncident],
    on_call: Iterable[tuple[str, str, datetime, datetime]],
    vendor_levels: dict[str, str],
) -> list[Conflict]:
    found: list[Conflict] = []
    services = set(change.services)
    begin, end = change.planned_start, change.planned_end
    for other in others:
        if other.key == change.key or other.state not in ACTIVE:
            continue
        if not overlaps(begin, end, other.planned_start, other.planned_end):
            continue
        when = _span(other.planned_start, other.planned_end)
        shared = services & set(other.services)
        if shared:
            on = ", ".join(sorted(shared))
            found.append(Conflict(
                "change", f"{other.key} ({other.title[:60]}) is planned {when} on {on}"
            ))  # fmt: skip
        elif change.implementer and other.implementer == change.implementer:
            found.append(Conflict(
                "implementer_busy", f"{change.implementer} also implements {other.key} {when}"
            ))  # fmt: skip
    for window in config.freeze_windows:
        touched = services if window.services is None else services & set(window.services)
        if touched and overlaps(begin, end, window.start, window.end):
            note = " (an emergency change may go ahead)" if change.type == "emergency" else ""
            found.append(Conflict(
                "freeze",
                f"freeze {window.name!r} {_span(window.start, window.end)} covers "
                f"{', '.join(sorted(touched))}{note}",
            ))  # fmt: skip
    for incident in incidents:
        if incident.service in services and incident.priority in ("P1", "P2"):
            found.append(Conflict(
                "incident",
                f"{incident.key} ({incident.priority}, {incident.title[:60]}) is open on "
                f"{incident.service}",
            ))  # fmt: skip
    for schedule, login, start, stop in on_call:
        if login == change.implementer and overlaps(begin, end, start, stop):
            during = _span(max(start, begin), min(stop, end))
            found.append(Conflict("on_call", f"{login} is on call for {schedule} {during}"))
    for service in sorted(services):
        known = config.service(service)
        for vendor in known.vendors if known else []:
            level = vendor_levels.get(vendor, "operational")
            if level in ("degraded", "partial_outage", "major_outage"):
                found.append(Conflict(
                    "vendor", f"{vendor}, which {service} depends on, is {level.replace('_', ' ')}"
                ))  # fmt: skip
    return found


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC" if start.date() == end.date() else (
        f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"
    )  # fmt: skip


CHANGE_EVENT_VERBS = {
    "created": "created",
    "approve": "approved",
    "reject": "rejected",
    "review": "reviewed after the fact",
    "linked": "linked",
    "edited": "edited",
}


def change_event_words(kind: str, state: str | None) -> str:
    """A change timeline entry as text and the console say it: a step by its new state
    (`in progress`), a decision by its verb and what it led to (`approved → scheduled`)."""
    if kind == "state":
        return words(state or "")
    verb = CHANGE_EVENT_VERBS.get(kind, words(kind))
    return f"{verb} → {words(state)}" if state and kind != "created" else verb
