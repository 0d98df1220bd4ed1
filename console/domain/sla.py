"""SLA clocks: time to respond and time to resolve, as pure functions of an incident's
state history, the policy for its priority, and `now`.

- Respond runs from creation until the first move out of "new" (acknowledged, or resolved
  straight away).
- Resolve runs from creation, pauses while on hold (saying for what) and while an incident
  sits resolved, stops at resolved, and resumes if it is reopened.
- With a business calendar both count working time only; outside it they say they are
  paused for that reason.

Each clock explains itself: running, paused (why) or stopped, due time, time remaining,
at risk (under 25 % left) or breached, and a log of its transitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from opsdesk.console.config.model import Config, SlaTarget
from opsdesk.console.domain import business_time
from opsdesk.store.value import FrozenValue

RUNNING_STATES = ("new", "acknowledged", "in_progress")
AT_RISK_SHARE = 0.25


@dataclass(frozen=True, eq=False, repr=False)
class StateChange(FrozenValue):
    """The incident entered `state` at `at` (`detail`: a hold reason, for example)."""

    at: datetime
    state: str
    detail: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class Clock(FrozenValue):
    """One SLA clock of an incident (respond or resolve) as of `now`: its state and time left."""

    name: Literal["respond", "resolve"]
    state: Literal["running", "paused", "stopped"]
    reason: str
    target: timedelta
    elapsed: timedelta
    due: datetime | None
    breached: bool
    log: tuple[tuple[datetime, str], ...] = field(default=())

    @property
    def remaining(self) -> timedelta:
        return self.target - self.elapsed

    @property
    def at_risk(self) -> bool:
        if self.state == "stopped" or self.breached:
            return False
        return self.remaining < self.target * AT_RISK_SHARE


def policy_for(
    config: Config, priority: str
) -> tuple[SlaTarget, business_time.BusinessCalendar | None]:
    target = config.sla.priorities.get(priority)  # type: ignore[call-overload]
    if target is None:
        raise KeyError(f"no SLA policy for {priority}")
    calendar = None if target.calendar == "24x7" else config.sla.calendars[target.calendar]
    return target, calendar


def _pause_reason(calendar: business_time.BusinessCalendar | None, now: datetime) -> str | None:
    if business_time.is_working(calendar, now):
        return None
    return "paused: outside business hours"


def respond_clock(
    history: list[StateChange],
    target: SlaTarget,
    calendar: business_time.BusinessCalendar | None,
    now: datetime,
) -> Clock:
    created = history[0].at
    answered = next((c for c in history[1:] if c.state not in ("new",)), None)
    due = business_time.add(calendar, created, target.respond)
    log: list[tuple[datetime, str]] = [(created, "started")]
    if answered is not None:
        spent = business_time.elapsed(calendar, created, answered.at)
        log.append((answered.at, f"stopped: {answered.state.replace('_', ' ')}"))
        return Clock(
            "respond", "stopped", f"stopped: {answered.state.replace('_', ' ')}",
            target.respond, spent, due, spent > target.respond, tuple(log),
        )  # fmt: skip
    spent = business_time.elapsed(calendar, created, now)
    paused = _pause_reason(calendar, now)
    state: Literal["running", "paused"] = "paused" if paused else "running"
    return Clock(
        "respond", state, paused or "running", target.respond, spent, due,
        spent > target.respond, tuple(log),
    )  # fmt: skip


def resolve_clock(
    history: list[StateChange],
    target: SlaTarget,
    calendar: business_time.BusinessCalendar | None,
    now: datetime,
) -> Clock:
    goal = target.resolve
    spent = timedelta(0)
    breach_at: datetime | None = None
    log: list[tuple[datetime, str]] = []
    previous = "closed"
    for index, change in enumerate(history):
        end = history[index + 1].at if index + 1 < len(history) else now
        running = change.state in RUNNING_STATES
        was_running = previous in RUNNING_STATES
        if running and not was_running:
            log.append((change.at, "started" if index == 0 else "resumed"))
        elif not running and was_running:
            why = (
                "stopped: resolved" if change.state in ("resolved", "closed") else "paused: on hold"
            )
            if change.state == "on_hold" and change.detail:
                why += f" ({change.detail.replace('_', ' ')})"
            if change.state != "closed" or previous != "resolved":
                log.append((change.at, why))
        if running and end > change.at:
            part = business_time.elapsed(calendar, change.at, end)
            if breach_at is None and spent + part > goal:
                breach_at = business_time.add(calendar, change.at, goal - spent)
            spent += part
        previous = change.state
    current = history[-1]
    if current.state in ("resolved", "closed"):
        return Clock("resolve", "stopped", "stopped: resolved", goal, spent, breach_at,
                     spent > goal, tuple(log))  # fmt: skip
    if current.state == "on_hold":
        reason = "paused: on hold" + (
            f" ({current.detail.replace('_', ' ')})" if current.detail else ""
        )
        return Clock("resolve", "paused", reason, goal, spent, breach_at, spent > goal, tuple(log))
    due = breach_at if breach_at is not None else business_time.add(calendar, now, goal - spent)
    paused = _pause_reason(calendar, now)
    state: Literal["running", "paused"] = "paused" if paused else "running"
    return Clock("resolve", state, paused or "running", goal, spent, due, spent > goal, tuple(log))


def clocks(
    config: Config, priority: str, history: list[StateChange], now: datetime
) -> tuple[Clock, Clock]:
    """Both clocks for an incident of `priority` with this state history, at `now`."""
    target, calendar = policy_for(config, priority)
    return (
        respond_clock(history, target, calendar, now),
        resolve_clock(history, target, calendar, now),
    )


def due_summary(response_due: datetime | None, resolve_due: datetime | None, now: datetime) -> str:
    """ "12m left", "3h05m left", "BREACHED 2d" for the nearest stored due time, or "—"."""
    due = min((d for d in (response_due, resolve_due) if d is not None), default=None)
    if due is None:
        return "—"
    minutes = int((due - now).total_seconds() // 60)
    size = abs(minutes)
    if size >= 48 * 60:
        span = f"{size // 1440}d"
    elif size >= 60:
        span = f"{size // 60}h{size % 60:02d}m"
    else:
        span = f"{size}m"
    return f"BREACHED {span}" if minutes < 0 else f"{span} left"
