"""The incident lifecycle: states, allowed transitions, hold reasons, priority matrix.

new → acknowledged → in_progress ⇄ on_hold → resolved → closed, with reopen from resolved
(within `queue.reopen_days`). Resolving straight from new or acknowledged is allowed (a
false alarm, or an alert that cleared by itself).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from opsdesk.console.config.model import Config

STATES = ("new", "acknowledged", "in_progress", "on_hold", "resolved", "closed")
OPEN_STATES = ("new", "acknowledged", "in_progress", "on_hold")
HOLD_REASONS = ("awaiting_customer", "awaiting_vendor", "awaiting_change", "other")
RESOLUTION_CODES = (
    "fixed",
    "workaround",
    "vendor",
    "duplicate",
    "no_fault_found",
    "change_rolled_back",
)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "resolved"),
    "acknowledged": ("in_progress", "on_hold", "resolved"),
    "in_progress": ("on_hold", "resolved"),
    "on_hold": ("in_progress", "resolved"),
    "resolved": ("in_progress", "closed"),
    "closed": (),
}

# What each verb is called in messages, and the state it leads to.
VERBS = {
    "acknowledge": "acknowledged",
    "start": "in_progress",
    "hold": "on_hold",
    "resume": "in_progress",
    "resolve": "resolved",
    "reopen": "in_progress",
    "close": "closed",
}


class TransitionRefused(ValueError):
    """A transition that the lifecycle does not allow; the message lists what is allowed."""


def allowed_verbs(current: str) -> list[str]:
    """The verbs that apply to an incident in `current` state, in lifecycle order."""
    return [
        verb
        for verb, target in VERBS.items()
        if target in TRANSITIONS[current]
        and (verb != "reopen" or current == "resolved")
        and (verb != "resume" or current == "on_hold")
        and (verb != "start" or current not in ("on_hold", "resolved"))
    ]


def check_transition(key: str, current: str, verb: str) -> str:
    """Return the target state of `verb` from `current`, or refuse naming the allowed moves."""
    allowed = allowed_verbs(current)
    if verb not in allowed:
        moves = ", ".join(allowed) if allowed else "nothing (it is closed)"
        raise TransitionRefused(
            f"{key} is {current.replace('_', ' ')}; cannot {verb} it. Allowed: {moves}"
        )
    return VERBS[verb]


def check_reopen_window(key: str, resolved_at: datetime | None, now: datetime, days: int) -> None:
    if resolved_at is not None and now - resolved_at > timedelta(days=days):
        raise TransitionRefused(
            f"{key} was resolved {(now - resolved_at).days} days ago; incidents can be reopened "
            f"for {days} days (queue.reopen_days). Open a new incident instead"
        )


def priority_of(config: Config, impact: int, urgency: int) -> str:
    """P1..P4 from the impact × urgency matrix in config."""
    for name, value in (("impact", impact), ("urgency", urgency)):
        if value not in (1, 2, 3):
            raise ValueError(f"{name} must be 1, 2 or 3 (1 is highest), got {value}")
    return config.priority.matrix[impact - 1][urgency - 1]


def event_words(state: str | None, kind: str, detail: str) -> str:
    """A timeline entry as text and the console show it: the state in words, and a hold
    reason or resolution code in the detail in words too ("on hold: awaiting vendor",
    "resolved: no fault found: rebooted"). The stored detail keeps the codes JSON gives."""
    what = state.replace("_", " ") if state else kind
    if not detail:
        return what
    code, sep, _ = detail.partition(": ")
    if (state == "on_hold" and detail in HOLD_REASONS) or (
        state == "resolved" and sep and code in RESOLUTION_CODES
    ):
        detail = detail.replace(code, code.replace("_", " "), 1)
    return f"{what}: {detail}"
