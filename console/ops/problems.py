"""Problem operations the CLI and the problems screen share: create, list, show, link and
unlink incidents, assign, note, change fields, move through the lifecycle, close (with
the role config names), propose candidates and accept one, and find the known error a
new incident looks like.

Text from people is cleaned of escape sequences, control characters and bidi overrides
here, where it enters; titles become one line. Writes carry the version the caller saw
(None: the version just read), so a concurrent change is refused with who and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsdesk.console.config.model import Config
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.problem_rules import (
    PROBLEM_STATES,
    Candidate,
    KnownErrorMatch,
    ProblemRefused,
    candidates,
    check_move,
    known_error_match,
    state_name,
)
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import changed_since_you_looked
from opsdesk.console.ops.refusals import Invalid, Refused
from opsdesk.store import Actor, Incident, Store
from opsdesk.store.changes import parse_change_key
from opsdesk.store.problem_records import (
    ActionItem,
    NewProblem,
    Problem,
    ProblemEvent,
    ProblemSummary,
)
from opsdesk.store.records import ChangeRequest, Role

TITLE_LIMIT = 300


@dataclass(frozen=True)
class ProblemView:
    """Everything `problem show` and the problem screen draw."""

    problem: Problem
    incidents: list[Incident]
    events: list[ProblemEvent]
    fix: ChangeRequest | None
    actions: list[ActionItem] = field(default_factory=list)


class ProblemOps:
    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store, self.config, self.actor = store, config, actor

    # Checks -----------------------------------------------------------------------------

    def _check_services(self, services: Iterable[str]) -> tuple[str, ...]:
        names = [s.name for s in self.config.services]
        checked = tuple(dict.fromkeys(one_line(s).strip() for s in services))
        for service in checked:
            if not service or (names and service not in names):
                raise Invalid(f"unknown service {service!r}{suggest(service, names)}")
        return checked

    def _check_login(self, login: str) -> str:
        logins = [p.login for p in self.config.people]
        if not login.strip() or (logins and login not in logins):
            raise Invalid(f"unknown login {login!r}{suggest(login, logins)}")
        return login

    def _title(self, title: str) -> str:
        text = one_line(title, limit=TITLE_LIMIT).strip()
        if not text:
            raise Invalid("a problem needs a title")
        return text

    async def _load(self, key: str, version: int | None) -> Problem:
        problem = await self.store.problems.get(key)
        if version is not None and version != problem.version:
            raise Refused(
                changed_since_you_looked(problem.key, problem.updated_by, version, problem.version)
            )
        return problem

    # Reading ----------------------------------------------------------------------------

    async def find(
        self, states: tuple[str, ...] | None = None, limit: int = 500
    ) -> list[ProblemSummary]:
        """Problems in `states` (None: all), newest first, with their incident counts;
        `limit` 0 is every one."""
        for state in states or ():
            if state not in PROBLEM_STATES:
                raise Invalid(f"unknown state {state!r}{suggest(state, PROBLEM_STATES)}")
        return await self.store.problems.find(states, limit or -1)

    async def view(self, key: str) -> ProblemView:
        problem = await self.store.problems.get(key)
        fix = None
        if problem.fix_change is not None:
            fix = await self.store.changes.get(problem.fix_change)
        return ProblemView(
            problem,
            await self.store.problems.incidents(problem.key),
            await self.store.problems.events(problem.key),
            fix,
            await self.store.actions.find(problem_key=problem.key, states=None),
        )

    async def for_incident(self, incident_key: str) -> Problem | None:
        """The problem an incident belongs to (what the incident view shows, with its
        workaround), or None."""
        return await self.store.problems.for_incident(incident_key)

    # Writing ----------------------------------------------------------------------------

    async def create(
        self,
        title: str,
        services: Iterable[str],
        now: datetime,
        *,
        description: str = "",
        owner: str | None = None,
        incidents: Iterable[str] = (),
        why: str = "",
    ) -> Problem:
        """A new problem (state new), with `incidents` linked in the same transaction."""
        new = NewProblem(
            self._title(title),
            self._check_services(services),
            clean(description),
            None if owner is None else self._check_login(owner),
        )
        return await self.store.problems.create(
            self.actor, new, now, incident_keys=list(incidents), detail=clean(why)
        )

    async def link(self, key: str, incident_key: str, now: datetime) -> None:
        await self.store.problems.link(self.actor, key, incident_key, now)

    async def unlink(self, key: str, incident_key: str, now: datetime) -> None:
        await self.store.problems.unlink(self.actor, key, incident_key, now)

    async def note(self, key: str, text: str, now: datetime) -> ProblemEvent:
        return await self.store.problems.add_note(self.actor, key, clean(text), now)

    async def assign(
        self, key: str, login: str, now: datetime, *, version: int | None = None
    ) -> Problem:
        self._check_login(login)
        problem = await self._load(key, version)
        if problem.state == "closed":
            raise Refused(f"{problem.key} is closed; it cannot be reassigned")
        if problem.owner == login:
            raise Refused(f"{problem.key} is already owned by {login}")
        event = ProblemEvent(now, self.actor.login, "assigned", None, login)
        return await self.store.problems.apply(
            self.actor, problem.key, problem.version, {"owner": login}, event, "problem.assign", now
        )

    async def update(
        self,
        key: str,
        now: datetime,
        *,
        title: str | None = None,
        description: str | None = None,
        services: Iterable[str] | None = None,
        root_cause: str | None = None,
        workaround: str | None = None,
        fix_change: str | None = None,
        clear_fix: bool = False,
        version: int | None = None,
    ) -> Problem:
        """Set any of the fields given (None: leave it as it is); `fix_change` links the
        change that fixes it (CHG-n), `clear_fix` unlinks it. A known error keeps its
        workaround and a problem whose root cause is known keeps that: emptying them is
        refused (move it back first)."""
        problem = await self._load(key, version)
        if problem.state == "closed":
            raise Refused(f"{problem.key} is closed; it cannot be changed")
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = self._title(title)
        if description is not None:
            changes["description"] = clean(description)
        if services is not None:
            changes["services"] = list(self._check_services(services))
        if root_cause is not None:
            changes["root_cause"] = clean(root_cause).strip()
        if workaround is not None:
            changes["workaround"] = clean(workaround).strip()
        if fix_change is not None:
            changes["fix_change_id"] = parse_change_key(fix_change)
        elif clear_fix:
            changes["fix_change_id"] = None
        if not changes:
            raise Invalid("nothing to change")
        for name, needed_in in (
            ("root_cause", ("root_cause_known", "known_error", "resolved")),
            ("workaround", ("known_error",)),
        ):
            if name in changes and not changes[name] and problem.state in needed_in:
                raise Refused(
                    f"{problem.key} is {state_name(problem.state)}: it keeps its "
                    f"{name.replace('_', ' ')}"
                )
        what = ", ".join(sorted(n.replace("_id", "").replace("_", " ") for n in changes))
        event = ProblemEvent(now, self.actor.login, "updated", None, what)
        return await self.store.problems.apply(
            self.actor, problem.key, problem.version, changes, event, "problem.update", now
        )

    async def move(
        self,
        key: str,
        state: str,
        now: datetime,
        *,
        note: str = "",
        version: int | None = None,
    ) -> Problem:
        """Move a problem to `state` if the lifecycle allows it (refusals name the allowed
        moves); closing needs the role `[problems] close_role` names."""
        problem = await self._load(key, version)
        try:
            target = check_move(problem, state)
        except ProblemRefused as exc:
            if state not in PROBLEM_STATES:
                raise Invalid(str(exc)) from None
            raise Refused(str(exc)) from None
        changes: dict[str, Any] = {"state": target}
        if target == "resolved":
            changes["resolved_at"] = now
        elif problem.state == "resolved":
            changes["resolved_at"] = None
        if target == "closed":
            changes["closed_at"] = now
        role: Role = self.config.problems.close_role if target == "closed" else "engineer"
        event = ProblemEvent(now, self.actor.login, "state", target, clean(note))
        return await self.store.problems.apply(
            self.actor,
            problem.key,
            problem.version,
            changes,
            event,
            f"problem.{'close' if target == 'closed' else 'move'}",
            now,
            role=role,
        )

    async def close(
        self, key: str, now: datetime, *, note: str = "", version: int | None = None
    ) -> Problem:
        """Close a problem (from new, under investigation or resolved): `move` to closed."""
        return await self.move(key, "closed", now, note=note, version=version)

    def may_close(self) -> bool:
        """Whether this person holds the role that closes problems (to offer the key)."""
        return self.actor.has(self.config.problems.close_role)

    # Candidates and known errors --------------------------------------------------------

    async def candidates(self, now: datetime) -> list[Candidate]:
        """Problems proposed from recurring incidents that are in no problem yet, within
        `[problems] window` of `now`; each names its incidents and why."""
        rules = self.config.problems
        incidents = await self.store.problems.unlinked_incidents(now - rules.window)
        return candidates(incidents, rules, now)

    async def candidate(self, candidate_id: str, now: datetime) -> Candidate:
        """One candidate by its id ("C-41"), as the rules propose it now."""
        wanted = candidate_id.strip().upper()
        found = await self.candidates(now)
        for candidate in found:
            if candidate.id == wanted:
                return candidate
        ids = [c.id for c in found]
        hint = suggest(wanted, ids) if ids else " (there are no candidates now)"
        raise Invalid(f"no candidate {candidate_id!r}{hint}")

    async def accept_candidate(
        self,
        candidate: Candidate | str,
        now: datetime,
        *,
        title: str | None = None,
        owner: str | None = None,
    ) -> Problem:
        """Make a candidate (or its id) a problem with all its incidents, in one
        transaction: the services its incidents are on, its suggested title unless one is
        given, and its reason on the timeline. Refused whole if any of its incidents was
        linked to a problem meanwhile."""
        if isinstance(candidate, str):
            candidate = await self.candidate(candidate, now)
        incidents = [await self.store.incidents.get(key) for key in candidate.incidents]
        services = list(dict.fromkeys(i.service for i in incidents))
        names = [s.name for s in self.config.services]
        if names:  # incidents from alerts may name services config no longer has
            services = [s for s in services if s in names]
        new = NewProblem(
            self._title(title if title is not None else candidate.title),
            tuple(services),
            "",
            None if owner is None else self._check_login(owner),
        )
        return await self.store.problems.create(
            self.actor,
            new,
            now,
            incident_keys=candidate.incidents,
            detail=f"accepted candidate {candidate.id}: {clean(candidate.reason)}",
        )

    async def known_error_for(self, incident: Incident | str) -> KnownErrorMatch | None:
        """The known error an incident looks like (its workaround is what to show at once),
        or None. An incident already in a problem matches that problem when it is a known
        error; otherwise the rules in `problem_rules.known_error_match` decide."""
        if isinstance(incident, str):
            incident = await self.store.incidents.get(incident)
        own = await self.store.problems.for_incident(incident.key)
        if own is not None:
            if own.state == "known_error":
                return KnownErrorMatch(own, f"{incident.key} is linked to {own.key}", 1.0)
            return None
        known = [s.problem for s in await self.store.problems.find(("known_error",))]
        pairs = [(p, await self.store.problems.incidents(p.key)) for p in known]
        return known_error_match(incident, pairs, self.config.problems)
