"""A `SourceTeam` as opsdesk config and overrides: the same rules for every product.

- People: a login from the `--map` file (by email, then username); without a map, the
  username (or the email's local part) when it is a valid login, reported as guessed.
  With a map, someone not in it gets no login: their turns stay empty and they are
  listed as skipped, so nobody is paged under a login that happens to exist here.
- Layers are ordered by precedence (opsdesk: the later layer wins); weekly ranges become
  per-day windows of at most 24 hours (exact, across midnight and DST: wall-clock).
- Escalation: each target of a level becomes a level at the same exact delay (opsdesk
  pages levels with equal delays one after the other, each within a `[serve] tick` of
  the one before); a policy goes to every service that uses it.
- Nothing is dropped in silence: each thing left out is a `Skipped` with why.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import (
    NOBODY,
    WEEKDAYS,
    Config,
    EscalationLevel,
    EscalationPolicy,
    Integration,
    Layer,
    Person,
    Restriction,
    Schedule,
    Service,
)
from opsdesk.console.config.schema import to_data, toml_key
from opsdesk.console.domain.imports.common import zone
from opsdesk.console.domain.imports.model import (
    Skipped,
    SourceLayer,
    SourceTeam,
    SourceUser,
    WeeklyRange,
)
from opsdesk.console.domain.text import one_line

LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
WEEK_MINUTES = 7 * 24 * 60
DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class PlannedOverride:
    source_id: str
    schedule: str
    login: str
    start: datetime
    end: datetime


@dataclass
class ImportPlan:
    """What an import writes: config records, overrides, and what it left out."""

    product: str
    people: list[Person] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    policies: list[EscalationPolicy] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    overrides: list[PlannedOverride] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    guessed: dict[str, str] = field(default_factory=dict)
    """Login -> the source email/username it was guessed from (no --map entry)."""
    logins: dict[str, str] = field(default_factory=dict)
    """Source user id -> login."""
    schedule_names: dict[str, str] = field(default_factory=dict)
    """Source schedule id -> opsdesk schedule name."""

    def toml(self) -> dict[str, Any]:
        """The drop-in's content (tomli-w ready)."""
        sections: dict[str, Any] = {
            "people": [_compact(Person, p) for p in self.people],
            "services": [_compact(Service, s) for s in self.services],
            "schedules": [_compact(Schedule, s) for s in self.schedules],
            "escalation_policies": [_compact(EscalationPolicy, p) for p in self.policies],
            "integrations": [_compact(Integration, i) for i in self.integrations],
        }
        return {key: value for key, value in sections.items() if value}


def _default_of(item: dataclasses.Field[Any]) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return dataclasses.MISSING


def _compact(kind: Any, record: Any) -> Any:
    """A record as TOML data without the keys left at their defaults (easier to read;
    the same config when loaded)."""
    data = to_data(kind, record)
    if not dataclasses.is_dataclass(kind):
        return data
    hints = typing.get_type_hints(kind, include_extras=True)
    for item in dataclasses.fields(kind):
        key = toml_key(item)
        value = getattr(record, item.name)
        if value == _default_of(item):
            data.pop(key, None)
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            (element,) = typing.get_args(hints[item.name])
            data[key] = [_compact(element, v) for v in value]
    return data


def plan_import(
    team: SourceTeam,
    login_map: Mapping[str, str] | None,
    existing: Config | None = None,
    ended_before: datetime | None = None,
) -> ImportPlan:
    """Map `team` to opsdesk. `login_map`: email or username -> login (None: guess).
    `existing`: the rest of the config (without an earlier import of this product):
    people already there are not written again, and a schedule, service policy or
    integration whose name is taken there is skipped rather than clash.
    `ended_before`: layers whose `until` is at or before it are history, not written
    (they cover nothing from then on)."""
    plan = ImportPlan(product=team.product, skipped=list(team.skipped))
    have = existing or Config()
    _people(team, login_map, plan)
    known = {p.login for p in have.people}
    plan.people = [p for p in plan.people if p.login not in known]
    _schedules(team, plan, {s.name for s in have.schedules}, ended_before)
    _services(team, plan, have)
    for override in team.overrides:
        schedule = plan.schedule_names.get(override.schedule_id)
        login = plan.logins.get(override.user_id)
        if schedule is None:
            why = f"its schedule {override.schedule_id} was not imported"
            plan.skipped.append(Skipped("override", override.id, why))
        elif login is None:
            why = f"user {override.user_id} has no login"
            plan.skipped.append(Skipped("override", override.id, why))
        else:
            plan.overrides.append(
                PlannedOverride(override.id, schedule, login, override.start, override.end)
            )
    return plan


def _people(team: SourceTeam, login_map: Mapping[str, str] | None, plan: ImportPlan) -> None:
    lowered = {k.lower(): v for k, v in (login_map or {}).items()}
    taken: set[str] = set()
    for user in team.users:
        login = _mapped(user, lowered) if login_map is not None else _guess(user)
        if login is None or login in taken:
            why = (
                f"{user.email or user.username or user.id} is not in the --map file"
                if login_map is not None
                else f"no username or email to take a login from ({user.id})"
            )
            if login is not None:
                why = f"login {login!r} is already taken by another imported user"
            plan.skipped.append(Skipped("user", user.id, why + "; their turns stay empty"))
            continue
        taken.add(login)
        plan.logins[user.id] = login
        if login_map is None:
            plan.guessed[login] = user.username or user.email
        plan.people.append(
            Person(
                login=login,
                name=one_line(user.name or user.username, limit=80).strip(),
                email=user.email,
                phone=user.phone,
                timezone=user.timezone if zone(user.timezone) else "UTC",
            )
        )


def _mapped(user: SourceUser, lowered: Mapping[str, str]) -> str | None:
    for key in (user.email, user.username):
        if key and key.lower() in lowered:
            return lowered[key.lower()]
    return None


def _guess(user: SourceUser) -> str | None:
    for candidate in (user.username, user.email.partition("@")[0]):
        if LOGIN.fullmatch(candidate.lower()):
            return candidate.lower()
    return None


def _unique(name: str, taken: set[str], source_id: str) -> str:
    """A name from the source as a config name: one clean line (no control characters,
    escapes or invisible characters: config refuses them, screens draw names), capped,
    unique (the source id is added to a repeated one)."""
    name = one_line(name, limit=80).strip() or one_line(source_id, limit=80)
    chosen = name if name not in taken else f"{name} ({source_id})"
    taken.add(chosen)
    return chosen


def _schedules(
    team: SourceTeam, plan: ImportPlan, theirs: set[str], ended_before: datetime | None
) -> None:
    taken: set[str] = set()
    for schedule in team.schedules:
        name = _unique(schedule.name.strip() or schedule.id, taken, schedule.id)
        if name in theirs:
            why = f"a schedule named {name!r} is already in your config; rename one"
            plan.skipped.append(Skipped("schedule", schedule.id, why))
            continue
        layers: list[Layer] = []
        layer_names: set[str] = set()
        for source in sorted(schedule.layers, key=lambda layer: layer.precedence):
            if ended_before and source.until is not None and source.until <= ended_before:
                continue
            layer = _layer(source, schedule.timezone, plan, layer_names, name)
            if layer is not None:
                layers.append(layer)
        if not layers:
            plan.skipped.append(Skipped("schedule", schedule.id, f"{name!r}: no layer maps"))
            continue
        plan.schedule_names[schedule.id] = name
        plan.schedules.append(Schedule(name=name, timezone=schedule.timezone, layers=layers))


def _layer(
    source: SourceLayer, schedule_zone: str, plan: ImportPlan, taken: set[str], schedule: str
) -> Layer | None:
    members = []
    for user_id in source.members:
        login = plan.logins.get(user_id) if user_id else NOBODY
        if login is None:
            why = f"a member ({user_id}) of layer {source.name!r} in {schedule!r} has no login"
            plan.skipped.append(Skipped("layer_member", source.id, why + "; that turn is empty"))
            login = NOBODY
        members.append(login)
    if not any(members):
        plan.skipped.append(Skipped("layer", source.id, f"{source.name!r}: no member has a login"))
        return None
    tz = ZoneInfo(source.timezone)
    active_from = _local(source.active_from, tz)
    restrictions = []
    for weekly in source.restrictions:
        restrictions.extend(day_windows(weekly))
    if any(r.from_.second or r.to.second for r in restrictions):
        why = f"{source.name!r}: a restriction starts or ends within a minute; cut to minutes"
        plan.skipped.append(Skipped("layer", source.id, why))
    return Layer(
        name=_unique(source.name.strip() or source.id, taken, source.id),
        members=members,
        rotation=source.rotation,
        start=source.handoff,
        restrictions=_grouped(restrictions),
        active_from=None if active_from == source.handoff else active_from,
        until=_local(source.until, tz),
        timezone=None if source.timezone == schedule_zone else source.timezone,
    )


def _local(at: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if at is None else at.astimezone(tz).replace(tzinfo=None)


def day_windows(weekly: WeeklyRange) -> list[Restriction]:
    """A weekly range as opsdesk windows of at most 24 hours, each on the day it starts
    (a window whose end is at or before its start ends the next day; equal: 24 hours)."""
    start = weekly.start_day * DAY_MINUTES + weekly.start.hour * 60 + weekly.start.minute
    end = weekly.end_day * DAY_MINUTES + weekly.end.hour * 60 + weekly.end.minute
    if end <= start:
        end += WEEK_MINUTES
    windows = []
    at = start
    while at < end:
        finish = min(end, at + DAY_MINUTES)
        day = (at // DAY_MINUTES) % 7
        windows.append(Restriction(days=[WEEKDAYS[day]], from_=_clock(at), to=_clock(finish)))
        at = finish
    return windows


def _clock(minutes: int) -> time:
    inside = minutes % DAY_MINUTES
    return time(inside // 60, inside % 60)


def _grouped(windows: list[Restriction]) -> list[Restriction]:
    """Windows with the same times on several days as one restriction (shorter TOML)."""
    by_times: dict[tuple[time, time], list[int]] = {}
    for window in windows:
        days = by_times.setdefault((window.from_, window.to), [])
        days.extend(WEEKDAYS.index(d) for d in window.days)
    return [
        Restriction(days=[WEEKDAYS[d] for d in sorted(set(days))], from_=f, to=t)
        for (f, t), days in by_times.items()
    ]


def _services(team: SourceTeam, plan: ImportPlan, have: Config) -> None:
    policies = {policy.id: policy for policy in team.policies}
    used: set[str] = set()
    taken: set[str] = set()
    integrations = {i.name for i in have.integrations}
    for service in team.services:
        name = _unique(service.name.strip() or service.id, taken, service.id)
        if have.service(name) is None:
            plan.services.append(Service(name=name, description=service.description))
        for integration in service.integrations:
            slug = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "IMPORTED"
            if f"{team.product}-{integration.id}" in integrations:
                continue
            plan.integrations.append(
                Integration(
                    name=f"{team.product}-{integration.id}",
                    kind=integration.kind,
                    service=name,
                    secret_env=f"OPSDESK_{slug}_SECRET",
                )
            )
        policy = policies.get(service.policy_id or "")
        if policy is None:
            if service.policy_id:
                why = f"{name!r}: its escalation policy {service.policy_id} is not there"
                plan.skipped.append(Skipped("service", service.id, why))
            continue
        used.add(policy.id)
        if have.policy(name) is not None:
            why = f"service {name!r} already has an escalation policy in your config"
            plan.skipped.append(Skipped("escalation_policy", policy.id, why))
            continue
        levels = []
        for level in policy.levels:
            for target in level.targets:
                if target.kind == "user":
                    login = plan.logins.get(target.id)
                    if login is None:
                        why = f"level at {level.delay} names user {target.id}, who has no login"
                        plan.skipped.append(Skipped("escalation_target", policy.id, why))
                        continue
                    levels.append(EscalationLevel(after=level.delay, person=login))
                else:
                    schedule = plan.schedule_names.get(target.id)
                    if schedule is None:
                        why = f"level at {level.delay} names schedule {target.id}, not imported"
                        plan.skipped.append(Skipped("escalation_target", policy.id, why))
                        continue
                    levels.append(EscalationLevel(after=level.delay, schedule=schedule))
        if not levels:
            why = f"{policy.name!r} pages nobody opsdesk can page"
            plan.skipped.append(Skipped("escalation_policy", policy.id, why))
            continue
        policy_record = EscalationPolicy(service=name, levels=levels, repeat=policy.repeat)
        if policy.repeat_after is not None:
            policy_record.repeat_after = policy.repeat_after
        plan.policies.append(policy_record)
    for policy in team.policies:
        if policy.id not in used:
            why = f"{policy.name!r} is used by no service (opsdesk policies belong to one)"
            plan.skipped.append(Skipped("escalation_policy", policy.id, why))
