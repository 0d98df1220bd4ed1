"""Grafana OnCall (OSS and Cloud, public API v1) as a `SourceTeam`.

What the API says (grafana/oncall `docs/sources/oncall-api-reference/*.md`, serializers
under `engine/apps/public_api/serializers/`) and how it maps:

OnCall -> opsdesk:

- auth `Authorization: <token>` (no scheme); lists page with `next` (a full URL, or null)
- users `id`, `email`, `username`, `timezone` -> people (login from `--map`, else username)
- schedules of type `web`/`calendar` + their on_call_shifts -> a schedule, one layer per
  rotation shift; type `ical` (the rota lives in an external calendar) -> skipped
- shift `level` (priority: the higher wins where events overlap) -> layer order (later wins)
- shift `start` (local, in the shift's `time_zone`, else the schedule's), `duration`
  -> handoff anchor and coverage; `frequency` + `interval` (hourly/daily/weekly) -> rotation
  length (wall-clock, across DST); `rolling_users` (groups taking turns) from
  `start_rotation_from_user_index` -> members in turn order; `by_day` -> restrictions;
  `rotation_start`, `until` -> `active_from`, `until`
- shift type `override` -> an override (future ones into the store)
- escalation chain + its policies by `position`: `wait` (`duration` s), `notify_persons`,
  `notify_on_call_from_schedule`, `repeat_escalation` (5 more passes) -> a policy with
  levels at the exact cumulative delay; `notify_user_group`, `notify_person_next_each_time`,
  `trigger_webhook`, `notify_if_time_from_to`, ... -> skipped with why
- integration + its default route's chain -> a service, an integration (`grafana`,
  `alertmanager`, `webhook`) and the service's policy; other routes (`routing_regex`)
  -> skipped: opsdesk routes by service, not by regex
- `/schedules/<id>/final_shifts?start_date&end_date` -> the rota `--verify` compares with

Events of a rolling shift: group *i* (counted from `start_rotation_from_user_index`)
has the events of an RRULE with `INTERVAL = interval × groups`, starting `i × interval`
periods after `start` (OnCall's iCal export). So a turn lasts `interval` periods and
holds one event of `duration` at its start (weekly with `by_day`: one on each listed
day of the turn's first week). What opsdesk cannot repeat exactly (monthly frequency,
`by_month(day)`, several people in one turn, events longer than the turn, gaps that do
not repeat weekly) is skipped with the shift's id and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import NoReturn

from opsdesk.console.domain.imports.common import (
    instant,
    items,
    local_time,
    seconds,
    text,
    zone,
)
from opsdesk.console.domain.imports.model import (
    NOBODY_MEMBER,
    Bundle,
    BundleError,
    Endpoint,
    IntegrationKind,
    Json,
    Skipped,
    SourceIntegration,
    SourceLayer,
    SourceLevel,
    SourceOverride,
    SourcePolicy,
    SourceSchedule,
    SourceService,
    SourceShift,
    SourceTeam,
    SourceUser,
    Target,
    WeeklyRange,
    Window,
)

ICAL_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
UNITS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
INTEGRATION_KINDS: dict[str, IntegrationKind] = {
    "grafana": "grafana",
    "grafana_alerting": "grafana",
    "alertmanager": "alertmanager",
    "webhook": "webhook",
    "formatted_webhook": "webhook",
}
REPEAT_ESCALATION_TIMES = 5
"""OnCall's `repeat_escalation` step starts the chain again at most five times."""


class GrafanaOnCall:
    product = "grafana-oncall"
    title = "Grafana OnCall"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": token}

    def endpoints(self, window: Window | None) -> list[Endpoint]:
        def listed(key: str, path: str) -> Endpoint:
            return Endpoint(key, path, "next_url", items_key="results", next_key="next")

        found = [
            listed("users", "/api/v1/users/"),
            listed("schedules", "/api/v1/schedules/"),
            listed("on_call_shifts", "/api/v1/on_call_shifts/"),
            listed("escalation_chains", "/api/v1/escalation_chains/"),
            listed("escalation_policies", "/api/v1/escalation_policies/"),
            listed("integrations", "/api/v1/integrations/"),
            listed("routes", "/api/v1/routes/"),
        ]
        if window is not None:
            found.append(
                Endpoint(
                    "final_shifts",
                    "/api/v1/schedules/{id}/final_shifts/",
                    "next_url",
                    items_key="results",
                    params={
                        "start_date": window.start.astimezone(UTC).date().isoformat(),
                        "end_date": window.end.astimezone(UTC).date().isoformat(),
                    },
                    each="schedules",
                )
            )
        return found

    def parse(self, bundle: Bundle, window: Window | None) -> SourceTeam:
        return _Reader(bundle, window).team()


def _listed(bundle: Bundle, key: str) -> list[Mapping[str, Json]]:
    return items(bundle.pages(key), "results", key)


class _Reader:
    def __init__(self, bundle: Bundle, window: Window | None) -> None:
        self.bundle = bundle
        self.window = window
        self.team_ = SourceTeam(product=GrafanaOnCall.product, final_window=window)

    def skip(self, kind: str, source_id: str, why: str) -> None:
        self.team_.skipped.append(Skipped(kind, source_id, why))

    def team(self) -> SourceTeam:
        self.users()
        shifts = {text(s, "id"): s for s in _listed(self.bundle, "on_call_shifts")}
        for schedule in _listed(self.bundle, "schedules"):
            self.schedule(schedule, shifts)
        self.policies()
        self.services()
        if self.window is not None:
            self.final_shifts()
        return self.team_

    def users(self) -> None:
        for user in _listed(self.bundle, "users"):
            user_id = text(user, "id")
            if not user_id:
                self.skip("user", "?", "has no id")
                continue
            self.team_.users.append(
                SourceUser(
                    id=user_id,
                    email=text(user, "email"),
                    username=text(user, "username"),
                    name=text(user, "name"),
                    timezone=text(user, "timezone"),
                )
            )

    def schedule(self, item: Mapping[str, Json], shifts: Mapping[str, Mapping[str, Json]]) -> None:
        schedule_id, name = text(item, "id"), text(item, "name") or text(item, "id")
        kind = text(item, "type")
        if kind == "ical":
            self.skip(
                "schedule",
                schedule_id,
                "an iCal schedule: its rota lives in the calendar at ical_url_primary, "
                "not in OnCall; rebuild it as layers by hand",
            )
            return
        if kind not in ("web", "calendar"):
            self.skip("schedule", schedule_id, f"schedule type {kind!r} is not known")
            return
        zone_name = text(item, "time_zone") or "UTC"
        if zone(zone_name) is None:
            self.skip("schedule", schedule_id, f"unknown time zone {zone_name!r} in {name!r}")
            return
        if text(item, "ical_url_overrides"):
            self.skip(
                "schedule",
                schedule_id,
                "overrides from an iCal calendar (ical_url_overrides) are not read",
            )
        # The schedule lists its shifts' ids; a shift may also name its schedule.
        listed = item.get("shifts")
        ids = [i for i in listed if isinstance(i, str)] if isinstance(listed, list) else []
        ids += [i for i, s in shifts.items() if text(s, "schedule") == schedule_id]
        mine = [shifts[i] for i in dict.fromkeys(ids) if i in shifts]
        layers = []
        for order, shift in enumerate(mine):
            if text(shift, "type") == "override":
                self.override(shift, schedule_id, zone_name)
                continue
            layer = self.layer(shift, zone_name, order)
            if layer is not None:
                layers.append(layer)
        if not layers:
            self.skip("schedule", schedule_id, f"{name!r} has no rotations (layers) that map")
            return
        self.team_.schedules.append(SourceSchedule(schedule_id, name, zone_name, tuple(layers)))

    def override(self, shift: Mapping[str, Json], schedule_id: str, schedule_zone: str) -> None:
        shift_id = text(shift, "id")
        zone_name = text(shift, "time_zone") or schedule_zone
        tz, start = zone(zone_name), local_time(shift.get("start"))
        length = seconds(shift.get("duration"))
        users = [u for u in (shift.get("users") or []) if isinstance(u, str)]
        if tz is None or start is None or not length or not users:
            self.skip("override", shift_id, "needs a known time_zone, start, duration and a user")
            return
        if len(users) > 1:
            self.skip(
                "override",
                shift_id,
                f"{len(users)} people at once; opsdesk overrides have one (imported: {users[0]})",
            )
        begin = start.replace(tzinfo=tz).astimezone(UTC)
        self.team_.overrides.append(
            SourceOverride(shift_id, schedule_id, users[0], begin, begin + length)
        )

    def layer(
        self, shift: Mapping[str, Json], schedule_zone: str, order: int
    ) -> SourceLayer | None:
        shift_id, kind = text(shift, "id"), text(shift, "type")
        name = text(shift, "name") or shift_id
        zone_name = text(shift, "time_zone") or schedule_zone
        tz = zone(zone_name)
        if tz is None:
            self.skip("on_call_shift", shift_id, f"unknown time zone {zone_name!r} in {name!r}")
            return None
        start, length = local_time(shift.get("start")), seconds(shift.get("duration"))
        if start is None or not length:
            self.skip("on_call_shift", shift_id, f"{name!r} has no start or duration")
            return None
        level = shift.get("level")
        precedence = level if isinstance(level, int) and not isinstance(level, bool) else 0
        until_local = local_time(shift.get("until"))
        until = None if until_local is None else until_local.replace(tzinfo=tz)
        if kind == "single_event":
            groups = [shift.get("users")]
            period, interval = length, 1
            unit = length
        elif kind in ("recurrent_event", "rolling_users"):
            frequency = text(shift, "frequency")
            if frequency not in UNITS:
                self.skip(
                    "on_call_shift",
                    shift_id,
                    f"frequency {frequency!r}: opsdesk rotations repeat every hours, days or weeks",
                )
                return None
            raw_interval = shift.get("interval") or 1
            if not isinstance(raw_interval, int) or raw_interval < 1:
                self.skip("on_call_shift", shift_id, f"interval {raw_interval!r} is not >= 1")
                return None
            interval, unit = raw_interval, UNITS[frequency]
            period = unit * interval
            raw = shift.get("rolling_users") if kind == "rolling_users" else [shift.get("users")]
            groups = raw if isinstance(raw, list) else []
        else:
            self.skip("on_call_shift", shift_id, f"shift type {kind!r} is not known")
            return None
        for unsupported in ("by_month", "by_monthday"):
            if shift.get(unsupported):
                self.skip("on_call_shift", shift_id, f"{unsupported} has no opsdesk equivalent")
                return None
        members = self.members(shift_id, groups, shift.get("start_rotation_from_user_index"))
        if members is None:
            return None
        by_day = shift.get("by_day") or []
        days = sorted({ICAL_DAYS[d] for d in by_day if isinstance(d, str) and d in ICAL_DAYS})
        if by_day and len(days) != len(by_day):
            self.skip("on_call_shift", shift_id, f"by_day {by_day!r} has unknown days")
            return None
        handoff = start
        restrictions: tuple[WeeklyRange, ...] = ()
        if days and (unit == UNITS["weekly"]) and interval == 1 and length <= timedelta(days=1):
            # One event per listed day of each turn's week (weeks begin on week_start);
            # the turn hands over at that day's event time.
            week_start = ICAL_DAYS.get(text(shift, "week_start") or "SU", 6)
            back = (start.weekday() - week_start) % 7
            handoff = start - timedelta(days=back)
            restrictions = tuple(_range(day, start.time(), length) for day in days)
        elif days and unit == UNITS["daily"] and interval == 1 and len(members) == 1:
            restrictions = tuple(_range(day, start.time(), length) for day in days)
        elif days and unit == UNITS["daily"]:
            self.skip(
                "on_call_shift",
                shift_id,
                f"{name!r}: a daily rotation on some weekdays hands over only on those days; "
                "opsdesk turns are whole days of the week (make it weekly, or one layer each)",
            )
            return None
        elif days:
            self.skip(
                "on_call_shift",
                shift_id,
                f"{name!r}: by_day with frequency {text(shift, 'frequency')!r} every "
                f"{interval} hands off in a way opsdesk layers cannot repeat",
            )
            return None
        elif length > period:
            self.skip("on_call_shift", shift_id, f"{name!r}: events longer than the turn overlap")
            return None
        elif length < period:
            if (unit == UNITS["weekly"] and interval == 1) or (
                unit == UNITS["daily"] and interval == 1
            ):
                step = 7 if unit == UNITS["weekly"] else 1
                firsts = [start.weekday()] if step == 7 else list(range(7))
                restrictions = tuple(_range(day, start.time(), length) for day in firsts)
            elif kind != "single_event":
                self.skip(
                    "on_call_shift",
                    shift_id,
                    f"{name!r}: events of {length} every {period} leave gaps that do not "
                    "repeat weekly",
                )
                return None
        active_from = start.replace(tzinfo=tz)
        rotation_start = local_time(shift.get("rotation_start"))
        if rotation_start is not None and rotation_start > start:
            active_from = rotation_start.replace(tzinfo=tz)
        if kind == "single_event":
            until = active_from + length if until is None else min(until, active_from + length)
        return SourceLayer(
            id=shift_id,
            name=name,
            members=members,
            rotation=period,
            handoff=handoff,
            timezone=zone_name,
            restrictions=restrictions,
            active_from=active_from,
            until=until,
            precedence=precedence * 10_000 + order,
        )

    def members(self, shift_id: str, groups: Sequence[Json], first: Json) -> tuple[str, ...] | None:
        turns: list[str] = []
        for number, group in enumerate(groups, start=1):
            users = [u for u in group if isinstance(u, str)] if isinstance(group, list) else []
            if len(users) > 1:
                self.skip(
                    "on_call_shift",
                    shift_id,
                    f"turn {number} has {len(users)} people at once; an opsdesk layer has one "
                    f"per turn (imported: {users[0]})",
                )
            turns.append(users[0] if users else NOBODY_MEMBER)
        if not any(turns):
            self.skip("on_call_shift", shift_id, "has no users")
            return None
        index = first if isinstance(first, int) and 0 <= first < len(turns) else 0
        return tuple(turns[index:] + turns[:index])

    def policies(self) -> None:
        steps: dict[str, list[Mapping[str, Json]]] = {}
        for step in _listed(self.bundle, "escalation_policies"):
            steps.setdefault(text(step, "escalation_chain_id"), []).append(step)
        for chain in _listed(self.bundle, "escalation_chains"):
            chain_id = text(chain, "id")
            ordered = sorted(steps.get(chain_id, []), key=_position)
            self.team_.policies.append(self.chain(chain_id, text(chain, "name"), ordered))

    def chain(self, chain_id: str, name: str, steps: list[Mapping[str, Json]]) -> SourcePolicy:
        delay = timedelta(0)
        levels: list[SourceLevel] = []
        repeat, repeat_after = 0, None
        last_paged = timedelta(0)
        for step in steps:
            step_id, kind = text(step, "id"), text(step, "type")
            targets: list[Target] = []
            if kind == "wait":
                wait = seconds(step.get("duration"))
                if wait is None:
                    self.skip("escalation_policy", step_id, "a wait with no duration in seconds")
                else:
                    delay += wait
                continue
            if kind in ("notify_persons", "notify_persons_important"):
                people = step.get("persons_to_notify") or []
                targets = [Target("user", p) for p in people if isinstance(p, str)]
            elif kind in ("notify_on_call_from_schedule", "notify_on_call_from_schedule_important"):
                schedule = text(step, "notify_on_call_from_schedule")
                targets = [Target("schedule", schedule)] if schedule else []
            elif kind == "repeat_escalation":
                if levels:
                    repeat, repeat_after = REPEAT_ESCALATION_TIMES, delay - last_paged
                break
            else:
                self.skip("escalation_policy", step_id, _why_step(kind))
                continue
            if kind.endswith("_important"):
                self.skip(
                    "escalation_policy",
                    step_id,
                    "'important' notification rules have no opsdesk equivalent "
                    "(paged with the person's usual rules)",
                )
            if not targets:
                self.skip("escalation_policy", step_id, f"{kind} names nobody")
                continue
            if levels and levels[-1].delay == delay:
                levels[-1] = SourceLevel(delay, levels[-1].targets + tuple(targets))
            else:
                levels.append(SourceLevel(delay, tuple(targets)))
            last_paged = delay
        return SourcePolicy(chain_id, name or chain_id, tuple(levels), repeat, repeat_after)

    def services(self) -> None:
        routes = _listed(self.bundle, "routes") if self.bundle.has("routes") else []
        for integration in _listed(self.bundle, "integrations"):
            integration_id, name = text(integration, "id"), text(integration, "name")
            kind = INTEGRATION_KINDS.get(text(integration, "type"))
            default = integration.get("default_route")
            chain = text(default, "escalation_chain_id") if isinstance(default, dict) else ""
            default_id = text(default, "id") if isinstance(default, dict) else ""
            found = (SourceIntegration(integration_id, name, kind),) if kind is not None else ()
            if kind is None:
                self.skip(
                    "integration",
                    integration_id,
                    f"type {text(integration, 'type')!r}: opsdesk takes alertmanager, "
                    "grafana, pagerduty and webhook alerts (the service is imported)",
                )
            self.team_.services.append(
                SourceService(integration_id, name or integration_id, chain or None, "", found)
            )
            for route in routes:
                if (
                    text(route, "integration_id") == integration_id
                    and text(route, "id") != (default_id)
                    and not route.get("is_the_last_route")
                ):
                    self.skip(
                        "route",
                        text(route, "id"),
                        f"routes alerts matching {text(route, 'routing_regex')!r} to chain "
                        f"{text(route, 'escalation_chain_id')}; opsdesk routes by service: "
                        "add an integration with a service label instead",
                    )

    def final_shifts(self) -> None:
        for schedule in self.team_.schedules:
            key = f"final_shifts/{schedule.id}"
            if not self.bundle.has(key):
                continue
            shifts = []
            for item in items(self.bundle.pages(key), "results", key):
                begin, end = instant(item.get("shift_start")), instant(item.get("shift_end"))
                user = text(item, "user_pk")
                if begin is None or end is None or end <= begin:
                    raise_bad(key, item)
                shifts.append(SourceShift(schedule.id, begin, end, (user,) if user else ()))
            self.team_.final_shifts[schedule.id] = shifts


def raise_bad(key: str, item: Mapping[str, Json]) -> NoReturn:
    shown = repr(dict(item))[:80]
    raise BundleError(f"{key}.json: a shift without a valid shift_start/shift_end: {shown}")


def _position(step: Mapping[str, Json]) -> int:
    value = step.get("position")
    return value if isinstance(value, int) else 0


def _range(day: int, start: time, length: timedelta) -> WeeklyRange:
    """The weekly range of an event starting on `day` at `start` lasting `length`."""
    begin = datetime(2024, 1, 1 + day, start.hour, start.minute, start.second)  # a Monday
    end = begin + length
    return WeeklyRange(day, start, end.weekday(), end.time())


def _why_step(kind: str) -> str:
    return {
        "notify_user_group": "notifies a Slack user group; opsdesk has no groups (add the "
        "people to a level by hand)",
        "notify_person_next_each_time": "round-robin paging (one person, the next each "
        "time) has no opsdesk equivalent",
        "notify_whole_channel": "notifies a Slack channel; add a webhook notifier instead",
        "trigger_webhook": "outgoing webhooks are not escalation steps in opsdesk",
        "trigger_action": "outgoing webhooks are not escalation steps in opsdesk",
        "notify_if_time_from_to": "a time-of-day condition on the chain has no opsdesk equivalent",
        "notify_if_num_alerts_in_window": "an alert-count condition has no opsdesk equivalent",
        "notify_team_members": "team targets: opsdesk has no teams (name the people)",
        "resolve": "auto-resolve as an escalation step has no opsdesk equivalent",
        "declare_incident": "declaring a Grafana incident has no opsdesk equivalent",
    }.get(kind, f"step type {kind!r} has no opsdesk equivalent")
