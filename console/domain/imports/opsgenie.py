"""Opsgenie (REST API v2) as a `SourceTeam`.

What the API says (opsgenie/opsgenie-oas `definitions/{schedule,scheduleRotation,
scheduleOverride,escalation,teamRoutingRule,integration,user,common}.yaml`, the
Atlassian support article "Manage on-call schedules and rotations") and how it maps:

- auth `Authorization: GenieKey <key>` (EU accounts: api.eu.opsgenie.com) -> the fetcher
  sends it; a wrong key is 401, rate limiting 429 (`X-RateLimit-State: THROTTLED`).
- `/v2/users` pages by `offset`/`limit` with the next page's URL at `paging.next`;
  schedules (`?expand=rotation`), overrides, escalations, teams, routing rules and
  integrations come in one answer each.
- users `id`, `username` (an email), `fullName`, `timeZone` -> people (login from
  `--map`, else the username's local part).
- schedule `timezone`, `enabled`, `rotations[]` -> a schedule (a disabled one: skipped).
- rotations are CUMULATIVE: "when a schedule is used to determine who is notified, all
  on-call users from different rotations are notified". Rotations that never cover the
  same instant -> layers of one schedule (order does not matter then). Rotations that do
  -> one opsdesk schedule per rotation ("<schedule> / <rotation>"), and whatever pages the
  Opsgenie schedule pages every one of them, so the same people are paged.
- rotation `type` daily/weekly/hourly x `length` -> rotation length (wall clock in the
  schedule's zone); `startDate` -> handoff anchor and `active_from`; `endDate` -> `until`.
- `participants` in turn order: `user` -> member; `none` -> a turn of nobody; `team`,
  `escalation`, `group` -> a turn of nobody, skipped with why.
- `timeRestriction` `time-of-day` (ONE `restriction` {startHour, startMin, endHour,
  endMin}, crossing midnight when the end is not after the start) -> a weekly range on
  each day; `weekday-and-time-of-day` (`restrictions[]`, up to 15, each ONE span from
  startDay startHour:startMin to endDay endHour:endMin: Monday 09:00 -> Friday 17:00 is
  one stretch, nights included) -> one weekly range each.
- `/v2/schedules/{id}/overrides`: `alias`, `user`, `startDate`, `endDate`, `rotations`
  (none: every rotation) -> overrides (on each split schedule it applies to); an
  override scoped to some rotations of a merged schedule -> skipped with why.
- `/v2/escalations` `rules[]`: `delay` {timeAmount, timeUnit} measured from the alert's
  creation, `recipient` user/schedule with `notifyType: default` -> levels at that exact
  delay; `condition: if-not-closed` (pages on after an ack), `notifyType` next/previous/
  users/admins/all, team and other recipients -> skipped. `repeat` {waitInterval minutes,
  count} -> `repeat_after`, `repeat`; `closeAlertAfterAll`, `resetRecipientStates` ->
  skipped when on.
- teams + `/v2/teams/{id}/routing-rules`: the default rule's `notify` (an escalation or a
  schedule) -> a service named after the team, paged by that policy; other rules (they
  route by alert criteria) -> skipped. `/v2/integrations` of type Prometheus
  (Alertmanager) and Grafana -> that team's service's integration; others skipped.
- `/v2/schedules/{id}/timeline?date&interval&intervalUnit=days`
  `finalTimeline.rotations[].periods[]` (recipient per period) -> the rota `--verify`
  compares with (all rotations together, or each split schedule's own).

Read, not documented: how `hourly` turns and restrictions meet a DST change; we read them
as wall-clock in the schedule's zone, and `--verify` across the change shows it if not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import NOBODY, Layer
from opsdesk.console.domain.imports.common import instant, items, text, zone
from opsdesk.console.domain.imports.mapping import day_windows
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
from opsdesk.console.domain.rotations import layer_shifts

UNITS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7)}
DELAY_UNITS = {
    "milliseconds": timedelta(milliseconds=1),
    "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
INTEGRATION_KINDS: dict[str, IntegrationKind] = {
    "prometheus": "alertmanager",
    "alertmanager": "alertmanager",
    "grafana": "grafana",
}
OVERLAP_HORIZON = timedelta(days=366)
"""How far overlapping coverage is looked for (rotations repeat within their cycles)."""


class Opsgenie:
    product = "opsgenie"
    title = "Opsgenie"

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"GenieKey {token}"}

    def endpoints(self, window: Window | None) -> list[Endpoint]:
        found = [
            Endpoint(
                "users",
                "/v2/users",
                "next_url",
                items_key="data",
                next_key="paging.next",
                params={"limit": "100"},
            ),
            Endpoint("schedules", "/v2/schedules", items_key="data", params={"expand": "rotation"}),
            Endpoint(
                "overrides", "/v2/schedules/{id}/overrides", items_key="data", each="schedules"
            ),
            Endpoint("escalations", "/v2/escalations", items_key="data"),
            Endpoint("teams", "/v2/teams", items_key="data"),
            Endpoint(
                "routing_rules", "/v2/teams/{id}/routing-rules", items_key="data", each="teams"
            ),
            Endpoint("integrations", "/v2/integrations", items_key="data"),
        ]
        if window is not None:
            days = math.ceil((window.end - window.start) / timedelta(days=1))
            found.append(
                Endpoint(
                    "timeline",
                    "/v2/schedules/{id}/timeline",
                    params={
                        "date": window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "interval": str(days),
                        "intervalUnit": "days",
                    },
                    each="schedules",
                )
            )
        return found

    def parse(self, bundle: Bundle, window: Window | None) -> SourceTeam:
        return _Reader(bundle, window).team()


def _listed(bundle: Bundle, key: str) -> list[Mapping[str, Json]]:
    return items(bundle.pages(key), "data", key)


class _Reader:
    def __init__(self, bundle: Bundle, window: Window | None) -> None:
        self.bundle = bundle
        self.window = window
        self.team_ = SourceTeam(product=Opsgenie.product, final_window=window)
        self.by_username: dict[str, str] = {}
        self.split: dict[str, list[str]] = {}
        """Opsgenie schedule id -> the source schedule ids it became (one, or one per
        rotation when rotations overlap)."""
        self.rotation_ids: dict[str, dict[str, str]] = {}
        """Opsgenie schedule id -> rotation id -> split schedule id (split ones only)."""

    def skip(self, kind: str, source_id: str, why: str) -> None:
        self.team_.skipped.append(Skipped(kind, source_id, why))

    def team(self) -> SourceTeam:
        self.users()
        for schedule in _listed(self.bundle, "schedules"):
            self.schedule(schedule)
        self.policies()
        self.services()
        return self.team_

    def users(self) -> None:
        for user in _listed(self.bundle, "users"):
            user_id = text(user, "id")
            if not user_id:
                self.skip("user", "?", "listed without an id")
                continue
            username = text(user, "username")
            self.by_username[username.lower()] = user_id
            self.team_.users.append(
                SourceUser(
                    id=user_id,
                    email=username if "@" in username else "",
                    username=username,
                    name=text(user, "fullName"),
                    timezone=text(user, "timeZone"),
                )
            )

    def user_id(self, recipient: Mapping[str, Json]) -> str:
        """A user recipient's id (by `username` when the answer leaves the id out)."""
        return text(recipient, "id") or self.by_username.get(
            (text(recipient, "username") or text(recipient, "name")).lower(), ""
        )

    def schedule(self, item: Mapping[str, Json]) -> None:
        schedule_id = text(item, "id") or "?"
        name = text(item, "name") or schedule_id
        if item.get("enabled") is False:
            self.skip("schedule", schedule_id, f"{name!r} is disabled in Opsgenie")
            return
        zone_name = text(item, "timezone")
        tz = zone(zone_name)
        if tz is None:
            self.skip("schedule", schedule_id, f"{name!r}: unknown time zone {zone_name!r}")
            return
        raw = item.get("rotations")
        listed = [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []
        layers = []
        for order, rotation in enumerate(listed):
            layer = self.layer(rotation, name, zone_name, tz, order)
            if layer is not None:
                layers.append(layer)
        if not layers:
            why = f"{name!r} has no rotations" if not listed else f"{name!r}: no rotation maps"
            self.skip("schedule", schedule_id, why)
            return
        if len(layers) > 1 and _overlap(layers, tz):
            schedules = [
                SourceSchedule(
                    f"{schedule_id}/{layer.id}", f"{name} / {layer.name}", zone_name, (layer,)
                )
                for layer in layers
            ]
            self.rotation_ids[schedule_id] = {
                layer.id: s.id for layer, s in zip(layers, schedules, strict=True)
            }
        else:
            schedules = [SourceSchedule(schedule_id, name, zone_name, tuple(layers))]
        self.split[schedule_id] = [s.id for s in schedules]
        self.team_.schedules.extend(schedules)
        self.overrides(schedule_id, name, {layer.id for layer in layers})
        if self.window is not None:
            self.timeline(schedule_id)

    def layer(
        self, item: Mapping[str, Json], schedule: str, zone_name: str, tz: ZoneInfo, order: int
    ) -> SourceLayer | None:
        rotation_id = text(item, "id") or "?"
        name = text(item, "name") or rotation_id
        kind = text(item, "type")
        length = item.get("length", 1)
        start = instant(item.get("startDate"))
        if kind not in UNITS or not isinstance(length, int) or isinstance(length, bool):
            self.skip(
                "rotation",
                rotation_id,
                f"{schedule} / {name}: type {kind!r} x length "
                f"{length!r} is not daily, weekly or hourly x a whole number",
            )
            return None
        if length < 1 or start is None:
            self.skip(
                "rotation",
                rotation_id,
                f"{schedule} / {name}: needs a startDate and a length of at least 1",
            )
            return None
        end = instant(item.get("endDate")) if item.get("endDate") else None
        members = self.members(rotation_id, f"{schedule} / {name}", item.get("participants"))
        if members is None:
            return None
        restrictions = _restrictions(item.get("timeRestriction"))
        if isinstance(restrictions, str):
            self.skip("rotation", rotation_id, f"{schedule} / {name}: {restrictions}; not imported")
            return None
        return SourceLayer(
            id=rotation_id,
            name=name,
            members=members,
            rotation=UNITS[kind] * length,
            handoff=start.astimezone(tz).replace(tzinfo=None),
            timezone=zone_name,
            restrictions=restrictions,
            active_from=start,
            until=end,
            precedence=order,
        )

    def members(self, rotation_id: str, label: str, raw: Json) -> tuple[str, ...] | None:
        turns: list[str] = []
        for number, participant in enumerate(raw if isinstance(raw, list) else [], start=1):
            kind = text(participant, "type") if isinstance(participant, dict) else ""
            user = self.user_id(participant) if kind == "user" else ""
            if kind == "none":
                turns.append(NOBODY_MEMBER)
            elif user:
                turns.append(user)
            else:
                who = (
                    (text(participant, "name") or text(participant, "id"))
                    if isinstance(participant, dict)
                    else ""
                )
                self.skip(
                    "rotation",
                    rotation_id,
                    f"{label}: turn {number} is a {kind or 'typeless'} participant "
                    f"{who!r}; opsdesk turns are one person, so that turn is empty",
                )
                turns.append(NOBODY_MEMBER)
        if not any(turns):
            self.skip("rotation", rotation_id, f"{label} has no user participants")
            return None
        return tuple(turns)

    def overrides(self, schedule_id: str, name: str, rotations: set[str]) -> None:
        key = f"overrides/{schedule_id}"
        if not self.bundle.has(key):
            return
        split = self.rotation_ids.get(schedule_id)
        for item in _listed(self.bundle, key):
            alias = text(item, "alias") or "?"
            user = item.get("user")
            user_id = self.user_id(user) if isinstance(user, dict) else ""
            begin, end = instant(item.get("startDate")), instant(item.get("endDate"))
            if begin is None or end is None or end <= begin or not user_id:
                self.skip(
                    "override", alias, f"{name}: needs a startDate before its endDate and a user"
                )
                continue
            scoped = item.get("rotations")
            named = (
                {text(r, "id") for r in scoped if isinstance(r, dict)}
                if isinstance(scoped, list)
                else set()
            )
            named &= rotations
            everywhere = not named or named == rotations
            if split is not None:
                targets = [split[r] for r in (rotations if everywhere else named)]
            elif everywhere:
                targets = [schedule_id]
            else:
                self.skip(
                    "override",
                    alias,
                    f"{name}: applies to rotation(s) {', '.join(sorted(named))} only; an "
                    "opsdesk override covers the whole schedule",
                )
                continue
            for target in sorted(targets):
                source_id = alias if target == schedule_id else f"{alias}/{target}"
                self.team_.overrides.append(SourceOverride(source_id, target, user_id, begin, end))

    def timeline(self, schedule_id: str) -> None:
        key = f"timeline/{schedule_id}"
        if not self.bundle.has(key):
            return
        pages = self.bundle.pages(key)
        data = pages[0].get("data") if pages and isinstance(pages[0], dict) else None
        final = data.get("finalTimeline") if isinstance(data, dict) else None
        rotations = final.get("rotations") if isinstance(final, dict) else None
        if not isinstance(rotations, list):
            raise BundleError(f"{key}.json: no data.finalTimeline.rotations (not a timeline)")
        split = self.rotation_ids.get(schedule_id)
        for made in self.split[schedule_id]:
            self.team_.final_shifts[made] = []
        for rotation in rotations:
            if not isinstance(rotation, dict):
                continue
            target: str | None = schedule_id
            if split is not None:
                target = split.get(text(rotation, "id"))
            if target is None:
                continue  # a rotation that was not imported (skipped with why)
            periods = rotation.get("periods")
            for period in periods if isinstance(periods, list) else []:
                shift = self.period(key, target, period)
                if shift is not None:
                    self.team_.final_shifts[target].append(shift)

    def period(self, key: str, target: str, period: Json) -> SourceShift | None:
        if not isinstance(period, dict):
            return None
        if text(period, "type") in ("historical", "forwarding"):
            return None
        begin, end = instant(period.get("startDate")), instant(period.get("endDate"))
        if begin is None or end is None or end < begin:
            raise BundleError(f"{key}.json: a timeline period without startDate/endDate")
        recipient = period.get("recipient")
        who = ""
        if isinstance(recipient, dict):
            who = (self.user_id(recipient) if text(recipient, "type") == "user" else "") or (
                text(recipient, "id") if text(recipient, "type") not in ("none", "") else ""
            )
        return SourceShift(target, begin, end, (who,) if who else ())

    def policies(self) -> None:
        for item in _listed(self.bundle, "escalations"):
            policy_id = text(item, "id") or "?"
            name = text(item, "name") or policy_id
            levels: dict[timedelta, list[Target]] = {}
            rules = item.get("rules")
            for number, rule in enumerate(rules if isinstance(rules, list) else [], start=1):
                found = self.rule(policy_id, name, number, rule)
                if found is not None:
                    delay, targets = found
                    levels.setdefault(delay, []).extend(targets)
            if not levels:
                self.skip("escalation", policy_id, f"{name!r} has no rule that maps")
                continue
            repeat, repeat_after = self.repeat(policy_id, name, item.get("repeat"))
            self.team_.policies.append(
                SourcePolicy(
                    policy_id,
                    name,
                    tuple(SourceLevel(d, tuple(levels[d])) for d in sorted(levels)),
                    repeat,
                    repeat_after,
                )
            )

    def rule(
        self, policy_id: str, name: str, number: int, rule: Json
    ) -> tuple[timedelta, list[Target]] | None:
        label = f"{name!r} rule {number}"
        if not isinstance(rule, dict):
            return None
        condition = text(rule, "condition") or "if-not-acked"
        notify = text(rule, "notifyType") or "default"
        recipient = rule.get("recipient")
        kind = text(recipient, "type") if isinstance(recipient, dict) else ""
        delay = _delay(rule.get("delay"))
        if delay is None:
            self.skip("escalation", policy_id, f"{label}: delay is not a timeAmount and a timeUnit")
            return None
        if condition != "if-not-acked":
            self.skip(
                "escalation",
                policy_id,
                f"{label}: condition {condition!r} keeps paging "
                "after an acknowledgement; opsdesk stops at the acknowledgement",
            )
            return None
        if notify != "default":
            self.skip(
                "escalation",
                policy_id,
                f"{label}: notifyType {notify!r} (not the "
                f"on-call {kind or 'recipient'} itself) has no opsdesk equivalent",
            )
            return None
        assert isinstance(recipient, dict)
        if kind == "user" and self.user_id(recipient):
            return delay, [Target("user", self.user_id(recipient))]
        if kind == "schedule" and text(recipient, "id"):
            ids = self.split.get(text(recipient, "id"), [text(recipient, "id")])
            return delay, [Target("schedule", i) for i in ids]
        who = text(recipient, "name") or text(recipient, "id")
        self.skip(
            "escalation",
            policy_id,
            f"{label}: a {kind or 'typeless'} recipient "
            f"{who!r}; opsdesk levels page users and schedules",
        )
        return None

    def repeat(self, policy_id: str, name: str, raw: Json) -> tuple[int, timedelta | None]:
        if not isinstance(raw, dict):
            return 0, None
        count, wait = raw.get("count"), raw.get("waitInterval")
        if raw.get("closeAlertAfterAll"):
            self.skip(
                "escalation",
                policy_id,
                f"{name!r}: closeAlertAfterAll (close the alert "
                "after the last repeat) has no opsdesk equivalent",
            )
        if raw.get("resetRecipientStates"):
            self.skip(
                "escalation",
                policy_id,
                f"{name!r}: resetRecipientStates; opsdesk stops repeating once anyone acknowledges",
            )
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            return 0, None
        if not isinstance(wait, int) or isinstance(wait, bool) or wait < 0:
            self.skip(
                "escalation",
                policy_id,
                f"{name!r}: repeat without a waitInterval in minutes; not repeated",
            )
            return 0, None
        return count, timedelta(minutes=wait)

    def services(self) -> None:
        if not self.bundle.has("teams"):
            return
        integrations: dict[str, list[SourceIntegration]] = {}
        if self.bundle.has("integrations"):
            for item in _listed(self.bundle, "integrations"):
                integration_id, kind = text(item, "id") or "?", text(item, "type")
                mapped = INTEGRATION_KINDS.get(kind.lower())
                if mapped is None or item.get("enabled") is False:
                    why = (
                        "disabled"
                        if mapped
                        else f"type {kind!r}: opsdesk takes Alertmanager, "
                        "Grafana, PagerDuty Events v2 and webhook alerts"
                    )
                    self.skip("integration", integration_id, f"{text(item, 'name')!r}: {why}")
                    continue
                integrations.setdefault(text(item, "teamId"), []).append(
                    SourceIntegration(integration_id, text(item, "name") or integration_id, mapped)
                )
        policies = {p.id for p in self.team_.policies}
        for team in _listed(self.bundle, "teams"):
            team_id = text(team, "id") or "?"
            name = text(team, "name") or team_id
            policy = self.routing(team_id, name, policies)
            self.team_.services.append(
                SourceService(
                    team_id,
                    name,
                    policy,
                    text(team, "description"),
                    tuple(integrations.get(team_id, ())),
                )
            )

    def routing(self, team_id: str, name: str, policies: set[str]) -> str | None:
        """The policy a team's default routing rule pages (a schedule becomes a policy of
        one level); other rules are reported."""
        key = f"routing_rules/{team_id}"
        if not self.bundle.has(key):
            return None
        chosen: str | None = None
        for rule in _listed(self.bundle, key):
            rule_id = text(rule, "id") or "?"
            notify = rule.get("notify")
            kind = text(notify, "type") if isinstance(notify, dict) else ""
            target = text(notify, "id") if isinstance(notify, dict) else ""
            if not rule.get("isDefault"):
                self.skip(
                    "routing_rule",
                    rule_id,
                    f"team {name!r}: rule {text(rule, 'name')!r} "
                    "routes alerts by their fields; opsdesk routes by service (add an "
                    "integration for that service instead)",
                )
                continue
            if rule.get("timeRestriction"):
                self.skip(
                    "routing_rule",
                    rule_id,
                    f"team {name!r}: the default rule's time "
                    "restriction has no opsdesk equivalent; it pages at all times",
                )
            if kind == "escalation" and target in policies:
                chosen = target
            elif kind == "schedule" and target in self.split:
                chosen = f"routing/{rule_id}"
                level = SourceLevel(
                    timedelta(0), tuple(Target("schedule", i) for i in self.split[target])
                )
                self.team_.policies.append(SourcePolicy(chosen, f"{name} routing", (level,)))
            elif kind != "none":
                self.skip(
                    "routing_rule",
                    rule_id,
                    f"team {name!r}: the default rule notifies "
                    f"a {kind or 'typeless'} {target!r} that was not imported",
                )
        return chosen


def _delay(raw: Json) -> timedelta | None:
    if not isinstance(raw, dict):
        return None
    amount, unit = raw.get("timeAmount"), raw.get("timeUnit") or "minutes"
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        return None
    return DELAY_UNITS[unit] * amount if isinstance(unit, str) and unit in DELAY_UNITS else None


def _clock(hour: Json, minute: Json) -> time | None:
    if isinstance(hour, bool) or isinstance(minute, bool):
        return None
    if not isinstance(hour, int) or not isinstance(minute, int):
        return None
    return time(hour, minute) if 0 <= hour <= 23 and 0 <= minute <= 59 else None


def _restrictions(raw: Json) -> tuple[WeeklyRange, ...] | str:
    """A rotation's `timeRestriction` as weekly ranges, or why it cannot be read."""
    if raw is None:
        return ()
    kind = text(raw, "type") if isinstance(raw, dict) else ""
    if not isinstance(raw, dict) or kind not in ("time-of-day", "weekday-and-time-of-day"):
        return f"timeRestriction type {kind!r} is not time-of-day or weekday-and-time-of-day"
    if kind == "time-of-day":
        one = raw.get("restriction")
        if (
            one is None
            and isinstance(raw.get("restrictions"), list)
            and len(raw["restrictions"]) == 1
        ):
            one = raw["restrictions"][0]  # some clients send the list form
        begin = _clock(one.get("startHour"), one.get("startMin")) if isinstance(one, dict) else None
        end = _clock(one.get("endHour"), one.get("endMin")) if isinstance(one, dict) else None
        if begin is None or end is None:
            return "a time-of-day restriction needs startHour, startMin, endHour, endMin"
        return tuple(
            WeeklyRange(day, begin, day if end > begin else (day + 1) % 7, end) for day in range(7)
        )
    listed = raw.get("restrictions")
    if not isinstance(listed, list) or not listed:
        return "a weekday-and-time-of-day restriction without restrictions"
    ranges = []
    for span in listed:
        if not isinstance(span, dict):
            return "a restriction that is not an object"
        start_day, end_day = text(span, "startDay").lower(), text(span, "endDay").lower()
        begin = _clock(span.get("startHour"), span.get("startMin"))
        end = _clock(span.get("endHour"), span.get("endMin"))
        if start_day not in WEEKDAYS or end_day not in WEEKDAYS or begin is None or end is None:
            return f"restriction {dict(span)!r:.100} needs startDay/endDay and hours and minutes"
        ranges.append(WeeklyRange(WEEKDAYS.index(start_day), begin, WEEKDAYS.index(end_day), end))
    return tuple(ranges)


def _overlap(layers: Sequence[SourceLayer], tz: ZoneInfo) -> bool:
    """Whether two rotations ever cover the same instant (from when they are all active,
    over their common cycle of turns and weeks, at most `OVERLAP_HORIZON`)."""
    begin = max((layer.active_from or datetime.min.replace(tzinfo=UTC)) for layer in layers)
    cycle = timedelta(weeks=1)
    for layer in layers:
        cycle = _lcm(cycle, layer.rotation * len(layer.members))
    end = begin + min(OVERLAP_HORIZON, cycle)
    covered = [
        [(s.start, s.end) for s in layer_shifts(_as_layer(layer), tz, begin, end)]
        for layer in layers
    ]
    for first, second in combinations(covered, 2):
        one, two = 0, 0
        while one < len(first) and two < len(second):
            if first[one][0] < second[two][1] and second[two][0] < first[one][1]:
                return True
            if first[one][1] <= second[two][1]:
                one += 1
            else:
                two += 1
    return False


def _lcm(a: timedelta, b: timedelta) -> timedelta:
    seconds = math.lcm(int(a.total_seconds()), int(b.total_seconds()))
    return timedelta(seconds=min(seconds, int(OVERLAP_HORIZON.total_seconds())))


def _as_layer(source: SourceLayer) -> Layer:
    """Enough of an opsdesk layer to lay out when a rotation covers (members stand-ins)."""
    tz = ZoneInfo(source.timezone)
    return Layer(
        name=source.id,
        members=[NOBODY if m == NOBODY_MEMBER else f"m{i}" for i, m in enumerate(source.members)],
        rotation=source.rotation,
        start=source.handoff,
        restrictions=[w for r in source.restrictions for w in day_windows(r)],
        active_from=None if source.active_from is None else _naive(source.active_from, tz),
        until=None if source.until is None else _naive(source.until, tz),
    )


def _naive(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)
