"""Plain records of problem management and post-incident reviews: problems (PRB-n), their
timeline, reviews (one per incident) and action items (ACT-n). Kept apart from
records.py so the learning loop reads as one piece; no behaviour beyond derived keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from opsdesk.store.value import FrozenValue

ProblemState = Literal[
    "new", "under_investigation", "root_cause_known", "known_error", "resolved", "closed"
]
ReviewState = Literal["draft", "accepted"]
ActionType = Literal["prevent", "mitigate", "detect", "process"]
ActionState = Literal["open", "done", "cancelled"]

PROBLEM_STATES: tuple[ProblemState, ...] = (
    "new",
    "under_investigation",
    "root_cause_known",
    "known_error",
    "resolved",
    "closed",
)
ACTION_TYPES: tuple[ActionType, ...] = ("prevent", "mitigate", "detect", "process")
ACTION_STATES: tuple[ActionState, ...] = ("open", "done", "cancelled")


def problem_key(problem_id: int) -> str:
    return f"PRB-{problem_id}"


def action_key(action_id: int) -> str:
    return f"ACT-{action_id}"


@dataclass(frozen=True, eq=False, repr=False)
class Problem(FrozenValue):
    """A problem record: the unknown (then known) cause behind one or more incidents."""

    id: int
    title: str
    description: str
    services: tuple[str, ...]
    state: str
    owner: str | None
    root_cause: str
    workaround: str
    fix_change_id: int | None
    created_at: datetime
    created_by: str
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def key(self) -> str:
        return problem_key(self.id)

    @property
    def fix_change(self) -> str | None:
        """The fix as a change key (CHG-n), if one is linked."""
        return None if self.fix_change_id is None else f"CHG-{self.fix_change_id}"


@dataclass(frozen=True, eq=False, repr=False)
class NewProblem(FrozenValue):
    title: str
    services: tuple[str, ...] = ()
    description: str = ""
    owner: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ProblemEvent(FrozenValue):
    """One line of a problem's timeline. `kind`: created, state, assigned, note, linked,
    unlinked, updated; `state` is the state entered (for state events)."""

    at: datetime
    actor: str
    kind: str
    state: str | None = None
    detail: str = ""


@dataclass(frozen=True, eq=False, repr=False)
class ProblemSummary(FrozenValue):
    """A problem as lists show it: the record and how many incidents it explains."""

    problem: Problem
    incidents: int


@dataclass(frozen=True, eq=False, repr=False)
class Review(FrozenValue):
    """A blameless post-incident review of one incident. People write the text fields;
    the facts (timeline, pages, changes, vendor status) are read from the store when the
    review is shown, so they are never stale. `duration_minutes` and `sla_breached` are
    what the reviewers settle on (None: take the measured value)."""

    id: int
    incident_id: int
    state: str
    summary: str
    customers: str
    duration_minutes: int | None
    sla_breached: bool | None
    root_cause: str
    contributing_factors: str
    went_well: str
    lucky: str
    created_at: datetime
    created_by: str
    accepted_by: str | None
    accepted_at: datetime | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def incident_key(self) -> str:
        return f"INC-{self.incident_id}"


REVIEW_TEXT_FIELDS = (
    "summary",
    "customers",
    "root_cause",
    "contributing_factors",
    "went_well",
    "lucky",
)
REVIEW_FIELDS = (*REVIEW_TEXT_FIELDS, "duration_minutes", "sla_breached")


@dataclass(frozen=True, eq=False, repr=False)
class ActionItem(FrozenValue):
    """One improvement to make, from a review (`incident_id`) or a problem, owned by one
    person, optionally due on a date and carried out by a change."""

    id: int
    title: str
    type: str
    owner: str
    due: date | None
    state: str
    incident_id: int | None
    problem_id: int | None
    change_id: int | None
    note: str
    created_at: datetime
    created_by: str
    done_at: datetime | None
    version: int
    updated_at: datetime
    updated_by: str

    @property
    def key(self) -> str:
        return action_key(self.id)

    @property
    def incident_key(self) -> str | None:
        return None if self.incident_id is None else f"INC-{self.incident_id}"

    @property
    def problem_key(self) -> str | None:
        return None if self.problem_id is None else problem_key(self.problem_id)

    @property
    def change_key(self) -> str | None:
        return None if self.change_id is None else f"CHG-{self.change_id}"


@dataclass(frozen=True, eq=False, repr=False)
class NewActionItem(FrozenValue):
    title: str
    type: str
    owner: str
    due: date | None = None
    incident_id: int | None = None
    problem_id: int | None = None
    change_id: int | None = None
    note: str = ""
