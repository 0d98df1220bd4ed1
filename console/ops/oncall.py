"""On-call use cases that the CLI and the On-call screen share: who is on call, the
escalation chain, shifts, overrides and handoff notes.

Names are checked against the config here and text is cleaned here, where it enters; the
store checks roles (covering yourself is for anyone, putting someone else on call is for
leads) and writes the audit row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from opsdesk.console.config.model import Config, Schedule
from opsdesk.console.config.schema import suggest
from opsdesk.console.domain.rotations import (
    EscalationStep,
    OnCallNow,
    Shift,
    escalation,
    final_rota,
    handoff_recipient,
    on_call_all,
)
from opsdesk.console.domain.text import clean
from opsdesk.console.errors import InputError, OpsdeskError
from opsdesk.store import Actor, Override, Store
from opsdesk.store.records import HandoffNote


def pick_schedules(schedules: Sequence[Schedule], name: str | None) -> list[Schedule]:
    """All schedules, or the one named (an unknown name is an error with a suggestion)."""
    if name is None:
        return list(schedules)
    chosen = [s for s in schedules if s.name == name]
    if not chosen:
        names = [s.name for s in schedules]
        raise InputError(f"unknown schedule {name!r}{suggest(name, names)}")
    return chosen


def lookback(schedules: Sequence[Schedule]) -> timedelta:
    """How far back an override can still matter to an answer at an instant: twice the
    longest rotation (a shift that began before the override still says "since when")."""
    rotations = [layer.rotation for s in schedules for layer in s.layers]
    return max(rotations, default=timedelta(days=1)) * 2


class OncallOps:
    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store = store
        self.config = config
        self.actor = actor

    # Reading -----------------------------------------------------------------------

    async def overrides_for(self, schedules: Sequence[Schedule], at: datetime) -> list[Override]:
        """Every override that can change who is on call around `at` on these schedules."""
        return await self.store.overrides.not_ended(at - lookback(schedules))

    async def upcoming_overrides(self, now: datetime) -> list[Override]:
        """Overrides in force now or later, soonest first."""
        return await self.store.overrides.not_ended(now)

    async def on_call(self, at: datetime, schedule: str | None = None) -> list[OnCallNow]:
        """Who is on call at `at` on each schedule (or the one named)."""
        schedules = pick_schedules(self.config.schedules, schedule)
        overrides = await self.overrides_for(schedules, at)
        return on_call_all(schedules, overrides, at)

    async def escalation(self, service: str, at: datetime) -> list[EscalationStep]:
        """Who each level of the service's escalation policy pages at `at`."""
        services = [p.service for p in self.config.escalation_policies]
        if service not in services:
            hint = suggest(service, services)
            raise InputError(f"no escalation policy for service {service!r}{hint}")
        overrides = await self.overrides_for(self.config.schedules, at)
        return escalation(self.config, service, overrides, at)

    async def shifts(
        self,
        start: datetime,
        end: datetime,
        schedule: str | None = None,
        person: str | None = None,
    ) -> list[tuple[str, Shift]]:
        """(schedule, shift) for every shift in [start, end), overrides applied."""
        if end <= start:
            raise InputError("--to must be after --from")
        if end - start > timedelta(days=366):
            raise InputError("ask for at most a year of shifts at a time")
        schedules = pick_schedules(self.config.schedules, schedule)
        overrides = await self.overrides_for(schedules, start)
        return [
            (s.name, shift)
            for s in schedules
            for shift in final_rota(s, overrides, start, end)
            if person is None or shift.login == person
        ]

    async def recent_handoffs(self, limit: int) -> list[HandoffNote]:
        return await self.store.handoffs.recent(limit)

    # Writing -----------------------------------------------------------------------

    async def leave_handoff(self, schedule: str, text: str, now: datetime) -> HandoffNote:
        """A note for whoever is on call after the current shift of `schedule`."""
        [chosen] = pick_schedules(self.config.schedules, schedule)
        overrides = await self.overrides_for([chosen], now)
        recipient = handoff_recipient(chosen, overrides, now)
        if recipient is None:
            raise OpsdeskError(f"nobody is on call after this shift on {chosen.name}")
        return await self.store.handoffs.add(self.actor, chosen.name, recipient, clean(text), now)

    async def add_override(
        self,
        schedule: str,
        login: str,
        start: datetime,
        end: datetime,
        reason: str,
        now: datetime,
    ) -> Override:
        """Put `login` on call for `schedule` over [start, end)."""
        pick_schedules(self.config.schedules, schedule)
        if end <= start:
            raise InputError("an override must end after it starts")
        logins = [p.login for p in self.config.people]
        if logins and login not in logins:
            raise InputError(f"unknown login {login!r}{suggest(login, logins)}")
        return await self.store.overrides.add(
            self.actor, schedule, login, start, end, clean(reason), now
        )

    async def remove_override(self, override_id: int, now: datetime) -> Override:
        return await self.store.overrides.remove(self.actor, override_id, now)
