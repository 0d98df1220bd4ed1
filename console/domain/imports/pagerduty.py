"""PagerDuty (REST API v2) as a `SourceTeam`.

What the API says (PagerDuty/api-schema `reference/REST/openapiv3.json`, the support
articles on schedules) and how it maps:

PagerDuty -> opsdesk:

- auth `Authorization: Token token=<key>` + `Accept: application/vnd.pagerduty+json;
  version=2` -> the fetcher sends both; a wrong key is 401, rate limiting 429.
- lists page by `offset`/`limit` (at most 100) until `more: false` -> `offset` paging.
- users `id`, `name`, `email`, `time_zone` -> people (login from `--map`, else the
  email's local part); the first phone `contact_methods` entry (`include[]=
  contact_methods`: `country_code`, `address`) -> `phone`. `notification_rules`, other
  phone, SMS and push methods -> skipped (opsdesk pages through `[[people]].notify`).
- `/schedules/{id}` `time_zone`, `schedule_layers` -> a schedule, a layer each.
- layer order: "the lowest layer always takes precedence" (support article Schedule
  Basics), and a GET lists the layers highest first (PUT/POST take them lowest first:
  terraform-provider-pagerduty reverses the GET list, PagerDuty/public-support-scripts
  #60) -> `precedence` from the GET order; opsdesk's later layer wins.
- layer `rotation_virtual_start`, `rotation_turn_length_seconds` -> handoff anchor (local
  wall clock in the schedule's zone), rotation length; `users` -> members in turn order;
  `start` / `end` (set when a layer was edited or ended) -> `active_from` / `until`.
- `daily_restriction` (`start_time_of_day` + `duration_seconds` <= 1 day, may cross
  midnight) -> a weekly range on each day; `weekly_restriction` (`start_day_of_week`
  1 Monday .. 7 Sunday, time, `duration_seconds` <= 1 week) -> one weekly range.
- `/schedules/{id}/overrides?since&until` (both required) -> overrides.
- escalation `escalation_rules[]`: `escalation_delay_in_minutes` (this rule until the
  next), `targets` user/schedule references -> levels at the exact cumulative delay,
  several targets each; `num_loops` (passes after the first) and the last rule's delay
  -> `repeat`, `repeat_after`. Round-robin assignment, `on_call_handoff_notifications`
  -> skipped.
- services: `escalation_policy`, `integrations[]` of type
  `events_api_v2_inbound_integration` -> a service with that policy and a `pagerduty`
  (Events v2) integration. Other integration types (email, Events v1, vendor ones),
  support-hours urgency, auto-resolve and acknowledgement timeouts, teams -> skipped.
- `/schedules/{id}?since&until&time_zone=UTC` `final_schedule.rendered_schedule_entries`
  -> the rota `--verify` compares with.

Read, not documented: PagerDuty's docs do not say how a turn length in seconds or a
restriction's `duration_seconds` meets a DST change. We read both as wall-clock in the
schedule's zone (a 604800 s turn hands off at the same local time each week, as the
web UI's "handoff time" shows; Mon 09:00 + 8 h ends 17:00 local). `--verify` across a
DST change shows it if an account disagrees. A `rotation_virtual_start` after the
layer's `start` is moved back by whole cycles (same turns, same order).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsdesk.console.domain.imports.common import instant, items, seconds, text, zone
from opsdesk.console.domain.imports.model import (
    Bundle,
    BundleError,
    Endpoint,
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

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
OVERRIDE_HORIZON = "{horizon}"
"""The overrides list needs `since` and `until`: from now (or the verify window's start)
to a year on (the fetcher fills in `{now}` and `{horizon}`)."""
EVENTS_V2 = "events_api_v2_inbound_integration"
CONTACT_KINDS = {
    "phone_contact_method": "phone",
    "sms_contact_method": "SMS",
    "push_notification_contact_method": "push",
}
USER_TARGETS = ("user_reference", "user")
SCHEDULE_TARGETS = ("schedule_reference", "schedule")


class PagerDuty:
    product = "pagerduty"
    title = "PagerDuty"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        }

    def endpoints(self, window: Window | None) -> list[Endpoint]:
        def listed(key: str, path: str) -> Endpoint:
            return Endpoint(key, path, "offset", items_key=key, limit=100)

        since, until = "{now}", OVERRIDE_HORIZON
        rendered: dict[str, str] = {}
        if window is not None:
            since = _iso(window.start)
            rendered = {
                "since": _iso(window.start),
                "until": _iso(window.end),
                "time_zone": "UTC",
            }
        return [
            Endpoint(
                "users",
                "/users",
                "offset",
                items_key="users",
                params={"include[]": "contact_methods"},
                limit=100,
            ),
            listed("schedules", "/schedules"),
            Endpoint("schedule", "/schedules/{id}", params=rendered, each="schedules"),
            Endpoint(
                "overrides",
                "/schedules/{id}/overrides",
                items_key="overrides",
                params={"since": since, "until": until},
                each="schedules",
            ),
            listed("escalation_policies", "/escalation_policies"),
            listed("services", "/services"),
        ]

    def parse(self, bundle: Bundle, window: Window | None) -> SourceTeam:
        return _Reader(bundle, window).team()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref_id(value: Json) -> str:
    """The `id` of a reference object (`{"id": ..., "type": ...}`), or ""."""
    return text(value, "id") if isinstance(value, dict) else ""


class _Reader:
    def __init__(self, bundle: Bundle, window: Window | None) -> None:
        self.bundle = bundle
        self.window = window
        self.team_ = SourceTeam(product=PagerDuty.product, final_window=window)
        self.teams_seen: set[str] = set()

    def skip(self, kind: str, source_id: str, why: str) -> None:
        self.team_.skipped.append(Skipped(kind, source_id, why))

    def team(self) -> SourceTeam:
        self.users()
        for listed in items(self.bundle.pages("schedules"), "schedules", "schedules"):
            schedule_id = text(listed, "id")
            if not schedule_id:
                self.skip("schedule", "?", "listed without an id")
                continue
            self.schedule(self.detail(schedule_id))
            self.overrides(schedule_id)
        self.policies()
        self.services()
        return self.team_

    def teams(self, item: Mapping[str, Json]) -> None:
        """Report each team once: opsdesk has roles, not owning teams."""
        listed = item.get("teams")
        for team in listed if isinstance(listed, list) else []:
            team_id = _ref_id(team)
            if team_id and team_id not in self.teams_seen:
                self.teams_seen.add(team_id)
                name = text(team, "summary") or team_id
                self.skip(
                    "team",
                    team_id,
                    f"team {name!r}: opsdesk has no teams (its schedules, policies and "
                    "services are imported without an owner)",
                )

    def users(self) -> None:
        for user in items(self.bundle.pages("users"), "users", "users"):
            user_id = text(user, "id")
            if not user_id:
                self.skip("user", "?", "listed without an id")
                continue
            self.team_.users.append(
                SourceUser(
                    id=user_id,
                    email=text(user, "email"),
                    name=text(user, "name") or text(user, "summary"),
                    timezone=text(user, "time_zone"),
                    phone=self.contacts(user_id, user),
                )
            )

    def contacts(self, user_id: str, user: Mapping[str, Json]) -> str:
        """The user's first phone number (listed with `include[]=contact_methods`); every
        notification rule and every other phone, SMS or push method is reported."""
        rules = user.get("notification_rules")
        for rule in rules if isinstance(rules, list) else []:
            rule_id = _ref_id(rule) or "?"
            self.skip(
                "notification_rule",
                rule_id,
                f"user {user_id}: PagerDuty notification rules are not imported; opsdesk "
                "pages through the person's `notify` rules (set them in [[people]])",
            )
        phone = ""
        methods = user.get("contact_methods")
        for method in methods if isinstance(methods, list) else []:
            if not isinstance(method, dict):
                continue
            kind = text(method, "type").removesuffix("_reference")
            number = _number(method) if kind == "phone_contact_method" else ""
            if number and not phone:
                phone = number
            elif kind in CONTACT_KINDS:
                self.skip(
                    "contact_method",
                    _ref_id(method) or "?",
                    f"user {user_id}: a {CONTACT_KINDS[kind]} contact method is not "
                    "imported (opsdesk keeps one `phone`; pages go by `notify` channels)",
                )
        return phone

    def detail(self, schedule_id: str) -> Mapping[str, Json]:
        key = f"schedule/{schedule_id}"
        pages = self.bundle.pages(key)
        body = pages[0] if pages else None
        schedule = body.get("schedule") if isinstance(body, dict) else None
        if not isinstance(schedule, dict):
            raise BundleError(f"{key}.json: no 'schedule' object (not a GET /schedules/{{id}})")
        return schedule

    def schedule(self, item: Mapping[str, Json]) -> None:
        schedule_id = text(item, "id")
        name = text(item, "name") or text(item, "summary") or schedule_id
        self.teams(item)
        zone_name = text(item, "time_zone")
        tz = zone(zone_name)
        if tz is None:
            self.skip("schedule", schedule_id, f"{name!r}: unknown time zone {zone_name!r}")
            return
        raw = item.get("schedule_layers")
        listed = (
            [layer for layer in raw if isinstance(layer, dict)] if isinstance(raw, list) else []
        )
        layers = []
        for position, layer in enumerate(listed):
            # A GET lists the layer that wins first: the first gets the highest precedence.
            mapped = self.layer(layer, zone_name, tz, len(listed) - position)
            if mapped is not None:
                layers.append(mapped)
        if not layers:
            why = f"{name!r} has no schedule layers" if not listed else f"{name!r}: no layer maps"
            self.skip("schedule", schedule_id, why)
            return
        self.team_.schedules.append(SourceSchedule(schedule_id, name, zone_name, tuple(layers)))
        if self.window is not None:
            self.final(schedule_id, item)

    def layer(
        self, item: Mapping[str, Json], zone_name: str, tz: ZoneInfo, precedence: int
    ) -> SourceLayer | None:
        layer_id = text(item, "id") or "?"
        name = text(item, "name") or layer_id
        virtual = instant(item.get("rotation_virtual_start"))
        start = instant(item.get("start"))
        turn = seconds(item.get("rotation_turn_length_seconds"))
        if virtual is None or start is None or not turn:
            self.skip(
                "schedule_layer",
                layer_id,
                f"{name!r} needs start, rotation_virtual_start and a positive "
                "rotation_turn_length_seconds",
            )
            return None
        end = instant(item.get("end")) if item.get("end") is not None else None
        members = self.members(layer_id, name, item.get("users"))
        if not members:
            return None
        restrictions = self.restrictions(layer_id, name, item.get("restrictions"))
        if restrictions is None:
            return None
        handoff = virtual.astimezone(tz).replace(tzinfo=None)
        begins = start.astimezone(tz).replace(tzinfo=None)
        cycle = turn * len(members)
        if handoff > begins:  # turns before the virtual start: whole cycles back
            handoff -= cycle * -(-(handoff - begins) // cycle)
        return SourceLayer(
            id=layer_id,
            name=name,
            members=members,
            rotation=turn,
            handoff=handoff,
            timezone=zone_name,
            restrictions=restrictions,
            active_from=start,
            until=end,
            precedence=precedence,
        )

    def members(self, layer_id: str, name: str, raw: Json) -> tuple[str, ...]:
        found = []
        for entry in raw if isinstance(raw, list) else []:
            user = entry.get("user") if isinstance(entry, dict) else None
            user_id = _ref_id(user)
            if user_id:
                found.append(user_id)
        if not found:
            self.skip("schedule_layer", layer_id, f"{name!r} has no users")
        return tuple(found)

    def restrictions(self, layer_id: str, name: str, raw: Json) -> tuple[WeeklyRange, ...] | None:
        ranges: list[WeeklyRange] = []
        for restriction in raw if isinstance(raw, list) else []:
            found = _restriction(restriction)
            if isinstance(found, str):
                self.skip("schedule_layer", layer_id, f"{name!r}: {found}; not imported")
                return None
            ranges.extend(found)
        return tuple(ranges)

    def overrides(self, schedule_id: str) -> None:
        key = f"overrides/{schedule_id}"
        if not self.bundle.has(key):
            return
        for item in items(self.bundle.pages(key), "overrides", key):
            override_id = text(item, "id") or "?"
            begin, end = instant(item.get("start")), instant(item.get("end"))
            user_id = _ref_id(item.get("user"))
            if begin is None or end is None or end <= begin or not user_id:
                self.skip("override", override_id, "needs a start before its end and a user")
                continue
            self.team_.overrides.append(
                SourceOverride(override_id, schedule_id, user_id, begin, end)
            )

    def final(self, schedule_id: str, item: Mapping[str, Json]) -> None:
        key = f"schedule/{schedule_id}"
        final = item.get("final_schedule")
        entries = final.get("rendered_schedule_entries") if isinstance(final, dict) else None
        if not isinstance(entries, list):
            raise BundleError(f"{key}.json: no final_schedule.rendered_schedule_entries")
        shifts = []
        for entry in entries:
            begin = instant(entry.get("start")) if isinstance(entry, dict) else None
            end = instant(entry.get("end")) if isinstance(entry, dict) else None
            if begin is None or end is None or end < begin:
                raise BundleError(f"{key}.json: a final_schedule entry without start/end")
            user = _ref_id(entry.get("user"))
            shifts.append(SourceShift(schedule_id, begin, end, (user,) if user else ()))
        self.team_.final_shifts[schedule_id] = shifts

    def policies(self) -> None:
        key = "escalation_policies"
        for item in items(self.bundle.pages(key), key, key):
            policy_id = text(item, "id") or "?"
            name = text(item, "name") or text(item, "summary") or policy_id
            self.teams(item)
            delay = timedelta(0)
            levels: list[SourceLevel] = []
            last_wait: timedelta | None = None
            rules = item.get("escalation_rules")
            for rule in rules if isinstance(rules, list) else []:
                if not isinstance(rule, dict):
                    continue
                rule_id = text(rule, "id") or policy_id
                wait = rule.get("escalation_delay_in_minutes")
                if isinstance(wait, bool) or not isinstance(wait, int) or wait < 0:
                    self.skip(
                        "escalation_rule",
                        rule_id,
                        f"{name!r}: escalation_delay_in_minutes {wait!r} is not a whole "
                        "number of minutes; the policy is not imported",
                    )
                    levels = []
                    break
                targets = self.targets(rule_id, name, rule)
                if targets:
                    levels.append(SourceLevel(delay, targets))
                if _strategy(rule) not in ("", "assign_to_everyone"):
                    self.skip(
                        "escalation_rule",
                        rule_id,
                        f"{name!r}: round-robin assignment (one target each time) has no "
                        "opsdesk equivalent; every target is paged",
                    )
                delay += timedelta(minutes=wait)
                last_wait = timedelta(minutes=wait)
            if not levels:
                self.skip("escalation_policy", policy_id, f"{name!r} has no rule that maps")
                continue
            loops = item.get("num_loops")
            repeat = loops if isinstance(loops, int) and not isinstance(loops, bool) else 0
            handoff = text(item, "on_call_handoff_notifications")
            if handoff:
                self.skip(
                    "escalation_policy",
                    policy_id,
                    f"{name!r}: on_call_handoff_notifications {handoff!r}: opsdesk does not "
                    "notify people when their shift starts or ends",
                )
            self.team_.policies.append(
                SourcePolicy(policy_id, name, tuple(levels), max(repeat, 0), last_wait)
            )

    def targets(self, rule_id: str, name: str, rule: Mapping[str, Json]) -> tuple[Target, ...]:
        found: list[Target] = []
        listed = rule.get("targets")
        for target in listed if isinstance(listed, list) else []:
            kind, target_id = (
                (text(target, "type"), _ref_id(target)) if isinstance(target, dict) else ("", "")
            )
            if kind in USER_TARGETS and target_id:
                found.append(Target("user", target_id))
            elif kind in SCHEDULE_TARGETS and target_id:
                found.append(Target("schedule", target_id))
            else:
                self.skip(
                    "escalation_target",
                    target_id or rule_id,
                    f"{name!r}: a {kind or 'typeless'} target; opsdesk levels page users "
                    "and schedules",
                )
        return tuple(found)

    def services(self) -> None:
        for item in items(self.bundle.pages("services"), "services", "services"):
            service_id = text(item, "id") or "?"
            name = text(item, "name") or text(item, "summary") or service_id
            self.teams(item)
            integrations = []
            listed = item.get("integrations")
            for integration in listed if isinstance(listed, list) else []:
                integration_id = _ref_id(integration)
                kind = text(integration, "type").removesuffix("_reference")
                if kind == EVENTS_V2:
                    summary = text(integration, "summary") or integration_id
                    integrations.append(SourceIntegration(integration_id, summary, "pagerduty"))
                else:
                    self.skip(
                        "integration",
                        integration_id or service_id,
                        f"{name!r}: a {kind or 'typeless'} integration; opsdesk takes "
                        "PagerDuty Events API v2 (and Alertmanager, Grafana, webhook) alerts",
                    )
            self.service_extras(service_id, name, item)
            self.team_.services.append(
                SourceService(
                    service_id,
                    name,
                    _ref_id(item.get("escalation_policy")) or None,
                    text(item, "description"),
                    tuple(integrations),
                )
            )

    def service_extras(self, service_id: str, name: str, item: Mapping[str, Json]) -> None:
        """Service settings opsdesk does not have, each reported when it is on."""
        if item.get("acknowledgement_timeout"):
            self.skip(
                "service",
                service_id,
                f"{name!r}: acknowledgement_timeout (re-trigger after an unresolved ack) "
                "has no opsdesk equivalent",
            )
        if item.get("auto_resolve_timeout"):
            self.skip(
                "service",
                service_id,
                f"{name!r}: auto_resolve_timeout has no opsdesk equivalent",
            )
        rule = item.get("incident_urgency_rule")
        if isinstance(rule, dict) and text(rule, "type") == "use_support_hours":
            self.skip(
                "service",
                service_id,
                f"{name!r}: urgency by support hours has no opsdesk equivalent "
                "(set the priority in the alert)",
            )
        if text(item, "status") == "disabled":
            self.skip(
                "service",
                service_id,
                f"{name!r} is disabled in PagerDuty; imported as an ordinary service",
            )


def _restriction(restriction: Json) -> list[WeeklyRange] | str:
    """A restriction as weekly ranges, or why it cannot be read."""
    kind = text(restriction, "type") if isinstance(restriction, dict) else ""
    if not isinstance(restriction, dict) or kind not in ("daily_restriction", "weekly_restriction"):
        return f"restriction type {kind!r} is not daily_restriction or weekly_restriction"
    begin = _clock(restriction.get("start_time_of_day"))
    length = seconds(restriction.get("duration_seconds"))
    if begin is None or not length:
        return f"a {kind} needs start_time_of_day (HH:MM:SS) and a positive duration_seconds"
    if kind == "daily_restriction":
        if length > DAY:
            return f"a daily_restriction of {length} is longer than a day"
        return [_span(day, begin, length) for day in range(7)]
    day = restriction.get("start_day_of_week")
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
        return f"start_day_of_week {day!r} is not 1 (Monday) to 7 (Sunday)"
    if length > WEEK:
        return f"a weekly_restriction of {length} is longer than a week"
    return [_span(day - 1, begin, length)]


def _number(method: Mapping[str, Json]) -> str:
    """A phone contact method as one string: `+<country code> <address>`."""
    address = text(method, "address")
    code = method.get("country_code")
    if not address:
        return ""
    if isinstance(code, int) and not isinstance(code, bool):
        return f"+{code} {address}"
    return address


def _strategy(rule: Mapping[str, Json]) -> str:
    """A rule's assignment strategy (a string, or `{"type": ...}` in newer answers)."""
    value = rule.get("escalation_rule_assignment_strategy")
    return (
        text(value, "type")
        if isinstance(value, dict)
        else text(rule, "escalation_rule_assignment_strategy")
    )


def _clock(value: Json) -> time | None:
    """`HH:MM:SS` (PagerDuty's start_time_of_day), or None."""
    if not isinstance(value, str):
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _span(day: int, start: time, length: timedelta) -> WeeklyRange:
    """The weekly range starting on `day` (0 Monday) at `start` lasting `length` (wall
    clock; a whole week gives start == end, the whole week)."""
    begin = datetime(2024, 1, 1 + day, start.hour, start.minute, start.second)  # a Monday
    end = begin + length
    return WeeklyRange(day, start, end.weekday(), end.time())
