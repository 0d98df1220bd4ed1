"""Problem management and post-incident review rules: pure functions of records, config
and `now`, so tests pin the clock.

- The problem lifecycle: new → under_investigation → root_cause_known → known_error →
  resolved → closed, with the back-moves investigations really make (a root cause that
  turns out wrong, a fix that did not hold). Refusals name the allowed moves.
- Candidates: recurring incidents proposed as a problem, either from one alert (the same
  source and dedup key) or on one service with alike titles, N times within M days. Each
  carries a reason a person can check ("6 incidents on checkout in 30 days whose titles
  share 'latency p95'").
- Known errors: whether a new incident looks like a known error, and why.
- Reviews: which incidents need one before closing, when it is due (business days) and
  whether it is overdue; action items past their due date.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import (
    WEEKDAYS,
    BusinessCalendar,
    Config,
    ProblemsConfig,
    ReviewsConfig,
)
from opsdesk.store.problem_records import ActionItem, Problem, Review
from opsdesk.store.records import Incident

PROBLEM_STATES = (
    "new",
    "under_investigation",
    "root_cause_known",
    "known_error",
    "resolved",
    "closed",
)
OPEN_PROBLEM_STATES = PROBLEM_STATES[:5]
TRANSITIONS: dict[str, tuple[str, ...]] = {
    # A new record can be closed at once: a duplicate, or not a problem after all.
    "new": ("under_investigation", "closed"),
    # A workaround can be known before the root cause is (ITIL's known error).
    "under_investigation": ("root_cause_known", "known_error", "closed"),
    "root_cause_known": ("known_error", "resolved", "under_investigation"),
    "known_error": ("resolved", "under_investigation"),
    # A fix that did not hold: investigate again.
    "resolved": ("closed", "under_investigation"),
    "closed": (),
}
# What a state needs filled in before a problem may enter it.
NEEDS = {
    "root_cause_known": ("root_cause", "a root cause"),
    "known_error": ("workaround", "a workaround"),
}
MAX_DAYS = 3660


class ProblemRefused(ValueError):
    """A move the problem lifecycle does not allow; the message names what is allowed."""


def state_name(state: str) -> str:
    return state.replace("_", " ")


def allowed_moves(current: str) -> tuple[str, ...]:
    """The states a problem in `current` may move to, in lifecycle order."""
    return TRANSITIONS.get(current, ())


def check_move(problem: Problem, target: str) -> str:
    """Return `target` if `problem` may move there now, or refuse naming the allowed moves
    (and what a state needs: a root cause, a workaround)."""
    if target not in PROBLEM_STATES:
        raise ProblemRefused(
            f"{target!r} is not a problem state (one of: {', '.join(PROBLEM_STATES)})"
        )
    allowed = allowed_moves(problem.state)
    if target not in allowed:
        moves = ", ".join(allowed) if allowed else "nothing (it is closed)"
        raise ProblemRefused(
            f"{problem.key} is {state_name(problem.state)}; cannot move it to "
            f"{state_name(target)}. Allowed: {moves}"
        )
    if target in NEEDS:
        attribute, what = NEEDS[target]
        if not getattr(problem, attribute).strip():
            raise ProblemRefused(f"{problem.key} needs {what} before it is {state_name(target)}")
    return target


# -- title similarity ---------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Words that say nothing about what went wrong; numbers and hex-like ids are dropped too,
# so "disk full on db-12" and "disk full on db-31" are alike.
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "into", "is", "it",
    "of", "on", "or", "the", "to", "was", "were", "with", "after", "again", "alert", "alerts",
    "error", "errors", "failed", "failing", "fails", "issue", "problem", "incident",
})  # fmt: skip
_ID_LIKE = re.compile(r"\d+|[0-9a-f]{8,}|.*\d.*-.*|.*-.*\d")


def title_words(title: str) -> tuple[str, ...]:
    """The words of a title that say what happened, lower case, in title order, once
    each: without filler words, numbers and ids ("db-12", "7f3a9c0e..."). Digits inside a
    word stay ("p95", "5xx", "ipv6"): they name the symptom."""
    words: list[str] = []
    for word in _WORD.findall(title.casefold()):
        if word in STOP_WORDS or _ID_LIKE.fullmatch(word) or len(word) < 2:
            continue
        if word not in words:
            words.append(word)
    return tuple(words)


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Shared words over all words (the Jaccard index): 1 for the same words, 0 for none."""
    first, second = set(a), set(b)
    union = first | second
    return len(first & second) / len(union) if union else 0.0


def quoted(words: Sequence[str]) -> str:
    return "'" + " ".join(words) + "'"


def _days(window: timedelta) -> str:
    days = window / timedelta(days=1)
    if days == int(days):
        return f"{int(days)} day{'s' if days != 1 else ''}"
    hours = window / timedelta(hours=1)
    return f"{hours:g} hours"


# -- candidates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Recurring incidents proposed as one problem. `id` ("C-41": the oldest incident's
    number) is stable while the same incidents make it; `reason` is the rule that matched,
    in words; `title` is a suggested problem title."""

    id: str
    kind: str  # "fingerprint" (one alert) or "title" (alike titles on one service)
    service: str
    incidents: tuple[str, ...]  # incident keys, oldest first
    shared_words: tuple[str, ...]
    fingerprint: tuple[str, str] | None  # (source, dedup_key) for kind "fingerprint"
    reason: str
    title: str
    first_at: datetime
    last_at: datetime


def candidates(
    incidents: Sequence[Incident], rules: ProblemsConfig, now: datetime
) -> list[Candidate]:
    """Problems proposed from `incidents` (those in no problem yet): first incidents from
    the same alert (source and dedup key), then, among the rest, incidents on one service
    whose titles are alike (`title_similarity` of their words, see `title_words`) to one
    of them, at least `min_incidents` of each within `window` before `now`. An incident
    is in at most one candidate. Largest first, then most recent."""
    since = now - rules.window
    recent = sorted(
        (i for i in incidents if since <= i.created_at <= now), key=lambda i: (i.created_at, i.id)
    )
    found: list[Candidate] = []
    taken: set[int] = set()
    by_alert: dict[tuple[str, str], list[Incident]] = defaultdict(list)
    for incident in recent:
        if incident.dedup_key:
            by_alert[(incident.source, incident.dedup_key)].append(incident)
    for (source, dedup_key), group in by_alert.items():
        if len(group) < rules.min_incidents:
            continue
        services = sorted({i.service for i in group})
        where = f"on {', '.join(services)} " if services else ""
        reason = (
            f"{len(group)} incidents {where}in {_days(rules.window)} from the same alert "
            f"({source}: {dedup_key})"
        )
        found.append(_candidate("fingerprint", group, (), (source, dedup_key), reason))
        taken.update(i.id for i in group)
    rest = [i for i in recent if i.id not in taken]
    words = {i.id: title_words(i.title) for i in rest}
    by_service: dict[str, list[Incident]] = defaultdict(list)
    for incident in rest:
        if words[incident.id]:
            by_service[incident.service].append(incident)
    for service, pool in sorted(by_service.items()):
        found.extend(_title_groups(service, pool, words, rules))
    found.sort(key=lambda c: (-len(c.incidents), -c.last_at.timestamp(), c.id))
    return found


def _title_groups(
    service: str,
    pool: list[Incident],
    words: dict[int, tuple[str, ...]],
    rules: ProblemsConfig,
) -> list[Candidate]:
    """Greedy: the incident alike to the most others seeds a group of those alike to it,
    narrowed to the ones sharing the words all of them share; repeat on what is left.

    Recurring incidents repeat their wording, so similarity is worked out once per pair
    of distinct word sets (not per pair of incidents), and a seed's group size is the
    sum of what is left of each word set alike to it: the same groups as comparing every
    incident with every other, in time that grows with the distinct wordings."""
    wordings: dict[tuple[str, ...], list[Incident]] = defaultdict(list)
    for incident in pool:
        wordings[words[incident.id]].append(incident)
    alike_to = {
        seed: [other for other in wordings if similarity(seed, other) >= rules.title_similarity]
        for seed in wordings
    }
    left = list(pool)
    remaining = {wording: len(found) for wording, found in wordings.items()}
    groups: list[Candidate] = []
    while len(left) >= rules.min_incidents:
        best: tuple[tuple[str, ...], int, tuple[str, ...]] | None = None
        tried: set[tuple[str, ...]] = set()
        for seed in reversed(left):  # newest seed first: ties go to the recent wording
            wording = words[seed.id]
            if wording in tried:
                continue  # the same wording seeds the same group
            tried.add(wording)
            alike = [w for w in alike_to[wording] if remaining[w]]
            shared = tuple(w for w in wording if all(w in other for other in alike))
            if not shared:
                continue
            size = sum(remaining[w] for w in alike)
            if best is None or size > best[1]:
                best = (wording, size, shared)
        if best is None or best[1] < rules.min_incidents:
            break
        wording, _, shared = best
        chosen_wordings = {w for w in alike_to[wording] if remaining[w]}
        group = [i for i in left if words[i.id] in chosen_wordings]
        reason = (
            f"{len(group)} incidents on {service} in {_days(rules.window)} whose titles share "
            f"{quoted(shared)}"
        )
        groups.append(_candidate("title", group, shared, None, reason))
        for w in chosen_wordings:
            remaining[w] = 0
        left = [i for i in left if words[i.id] not in chosen_wordings]
    return groups


def _candidate(
    kind: str,
    group: list[Incident],
    shared: tuple[str, ...],
    fingerprint: tuple[str, str] | None,
    reason: str,
) -> Candidate:
    group = sorted(group, key=lambda i: (i.created_at, i.id))
    services = sorted({i.service for i in group})
    return Candidate(
        id=f"C-{group[0].id}",
        kind=kind,
        service=services[0] if len(services) == 1 else ", ".join(services),
        incidents=tuple(i.key for i in group),
        shared_words=shared,
        fingerprint=fingerprint,
        reason=reason,
        title=group[-1].title,
        first_at=group[0].created_at,
        last_at=group[-1].created_at,
    )


# -- known errors -------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownErrorMatch:
    """A known error a new incident looks like: the problem (with its workaround) and why."""

    problem: Problem
    reason: str
    score: float  # 1.0 for the same alert, else the title similarity


def known_error_match(
    incident: Incident,
    problems: Sequence[tuple[Problem, Sequence[Incident]]],
    rules: ProblemsConfig,
) -> KnownErrorMatch | None:
    """The known error (a problem in state known_error, with its linked incidents) that
    `incident` most looks like: one of its incidents came from the same alert (source and
    dedup key), or it is on one of the problem's services and its title is alike to the
    problem's title or to a linked incident's. None when nothing matches."""
    best: KnownErrorMatch | None = None
    mine = title_words(incident.title)
    for problem, linked in problems:
        if problem.state != "known_error":
            continue
        match: KnownErrorMatch | None = None
        if incident.dedup_key:
            same = next(
                (
                    i
                    for i in linked
                    if i.id != incident.id
                    and (i.source, i.dedup_key) == (incident.source, incident.dedup_key)
                ),
                None,
            )
            if same is not None:
                match = KnownErrorMatch(
                    problem,
                    f"the same alert ({incident.source}: {incident.dedup_key}) as {same.key}, "
                    f"a known error of {problem.key}",
                    1.0,
                )
        services = set(problem.services) | {i.service for i in linked}
        if match is None and mine and incident.service in services:
            titles = [(problem.key, problem.title)] + [
                (i.key, i.title) for i in linked if i.id != incident.id
            ]
            for key, title in titles:
                theirs = title_words(title)
                score = similarity(mine, theirs)
                shared = tuple(w for w in mine if w in theirs)
                if (
                    score >= rules.title_similarity
                    and shared
                    and (match is None or score > match.score)
                ):
                    match = KnownErrorMatch(
                        problem,
                        f"on {incident.service}, its title shares {quoted(shared)} with {key}"
                        + ("" if key == problem.key else f", a known error of {problem.key}"),
                        score,
                    )
        if match is not None and (best is None or match.score > best.score):
            best = match
    return best


# -- reviews ------------------------------------------------------------------------------


def review_required(incident: Incident, rules: ReviewsConfig) -> bool:
    """Whether the incident needs an accepted review before it closes (its priority)."""
    return incident.priority in rules.required_for


def review_calendar(config: Config) -> BusinessCalendar | None:
    """The calendar whose working days count for reviews (None: Monday to Friday, UTC)."""
    return config.sla.calendars.get(config.reviews.calendar) if config.reviews.calendar else None


def add_business_days(calendar: BusinessCalendar | None, start: datetime, days: int) -> datetime:
    """The end of the `days`-th business day after the local day of `start` (its working
    hours' end, or midnight without a calendar). Business days are the calendar's working
    days less its holidays; without a calendar, Monday to Friday in UTC. Zero days: the
    end of `start`'s own day."""
    zone = ZoneInfo(calendar.timezone) if calendar else UTC
    working = {WEEKDAYS.index(d) for d in calendar.days} if calendar else set(range(5))
    holidays = set(calendar.holidays) if calendar else set()
    day = start.astimezone(zone).date()
    counted = 0
    for _ in range(MAX_DAYS):
        if counted >= days:
            break
        day += timedelta(days=1)
        if day.weekday() in working and day not in holidays:
            counted += 1
    else:
        raise ValueError("the review calendar has no working days in the next ten years")
    if calendar is not None:
        return datetime.combine(day, calendar.to, tzinfo=zone).astimezone(UTC)
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass(frozen=True)
class ReviewStatus:
    """Where an incident's review stands. `state`: not_required, not_yet (the incident
    is not resolved), due (owed, before its due time), overdue, accepted."""

    state: str
    due: datetime | None
    review: Review | None

    @property
    def blocks_close(self) -> bool:
        return self.state in ("not_yet", "due", "overdue")


def review_status(
    incident: Incident, review: Review | None, config: Config, now: datetime
) -> ReviewStatus:
    """Whether `incident` owes a review, by when, and whether that has passed at `now`."""
    rules = config.reviews
    if not review_required(incident, rules):
        return ReviewStatus("not_required", None, review)
    if review is not None and review.state == "accepted":
        return ReviewStatus("accepted", None, review)
    if incident.resolved_at is None:
        return ReviewStatus("not_yet", None, review)
    due = add_business_days(review_calendar(config), incident.resolved_at, rules.due_business_days)
    return ReviewStatus("overdue" if now >= due else "due", due, review)


def close_refusal(incident: Incident, review: Review | None, rules: ReviewsConfig) -> str | None:
    """Why `incident` may not close yet (its review), or None when it may."""
    if not review_required(incident, rules):
        return None
    if review is not None and review.state == "accepted":
        return None
    have = "its review is a draft" if review is not None else "it has no review yet"
    return (
        f"{incident.key} is {incident.priority}: it needs an accepted post-incident review "
        f"before it closes (reviews.required_for), and {have}: opsdesk review show "
        f"{incident.key}"
    )


def action_overdue(item: ActionItem, now: datetime, zone: str = "UTC") -> bool:
    """An open action item whose due date has passed in `zone` (due on a day: overdue
    from the next)."""
    if item.state != "open" or item.due is None:
        return False
    return item.due < local_date(now, zone)


def local_date(now: datetime, zone: str = "UTC") -> date:
    return now.astimezone(ZoneInfo(zone)).date()
