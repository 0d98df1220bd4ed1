"""Who is paged how and when: pure rules over config, an incident and `now`.

Urgency follows priority (P1/P2 high, P3/P4 low), as PagerDuty's urgency and Opsgenie's
priority do. A person's notification rules say which method is used how long after the
page; low-urgency pages wait for the person's working hours (in their own zone) when
they have set some. Escalation moves one level at a time: the next level is due its
delay after the current one actually paged, so after downtime levels catch up one by
one instead of all paging at once, and a policy repeats from level 1 while nobody
acknowledges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import EscalationPolicy, Person
from opsdesk.console.domain.rotations import restriction_windows

Urgency = Literal["high", "low"]
STALE_STEP = timedelta(days=1)  # a step that fell due longer ago than this is not paged


def urgency_of(priority: str) -> Urgency:
    return "high" if priority in ("P1", "P2") else "low"


@dataclass(frozen=True)
class Delivery:
    """One method a page goes out by, and from when."""

    method: str
    address: str
    not_before: datetime


def next_working(person: Person, at: datetime) -> datetime:
    """`at`, or the start of the person's next working hours when `at` is outside them."""
    if person.working_hours is None or not person.working_hours.days:
        return at
    zone = ZoneInfo(person.timezone)
    windows = restriction_windows(person.working_hours, zone, at, at + timedelta(days=8))
    return windows[0][0] if windows else at


def deliveries(person: Person, urgency: Urgency, paged_at: datetime) -> list[Delivery]:
    """How a page reaches `person`, by their rules (none: every method they have, at once).
    A rule naming a method they have no address for is skipped (config check says so)."""
    addresses = person.addresses()
    if person.notify:
        chosen = [
            (rule.method, paged_at + rule.after)
            for rule in person.notify
            if rule.urgency in ("any", urgency) and rule.method in addresses
        ]
    else:
        chosen = [(method, paged_at) for method in addresses]
    plan = []
    for method, at in chosen:
        if urgency == "low":
            at = next_working(person, at)
        plan.append(Delivery(method, addresses[method], at))
    return plan


@dataclass(frozen=True)
class Step:
    """The next escalation step of an unacknowledged incident."""

    level: int  # 1-based
    round: int  # 1-based pass through the policy
    due: datetime


def next_step(policy: EscalationPolicy, level: int, round: int, paged_at: datetime) -> Step | None:
    """After `level` of pass `round` paged at `paged_at`: the step that comes next, or None
    when the policy is exhausted (last level of the last repeat)."""
    levels = policy.levels
    if level < len(levels):
        gap = levels[level].after - levels[level - 1].after
        return Step(level + 1, round, paged_at + max(gap, timedelta(0)))
    if round <= policy.repeat:
        return Step(1, round + 1, paged_at + policy.repeat_after)
    return None


def due_step(
    policy: EscalationPolicy, level: int, round: int, paged_at: datetime, now: datetime
) -> Step | None:
    """The next step if it is due at `now` (and fell due less than a day ago: nobody is
    paged for last week's alert because the pager was started today)."""
    step = next_step(policy, level, round, paged_at)
    if step is None or step.due > now or now - step.due > STALE_STEP:
        return None
    return step
