"""Consistent Grafana OnCall cases for `opsdesk import --verify`: the source's rules, and
its own final rota written out by hand (UTC), so a correct import shows no difference.

- "Primary" (Europe/Berlin): a weekly rotation of three handing off Monday 09:00 local,
  across the change to summer time on 2026-03-29 (the second turn is 167 hours).
- "Support" (UTC): a 24/7 weekly base layer with a daily 09:00–17:00 weekday layer of
  higher level on top (over two weekends), and an override crossing midnight.
- "Nights" (Europe/Berlin): a weekly base rotation handing off on Wednesday 10:00, with a
  22:00–06:00 night layer on top (a window crossing midnight, and the night of the DST
  change is seven hours long).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = (datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 4, 13, tzinfo=UTC))
NOW = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)

USERS = {
    "U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave", "U5": "xena",
    "U6": "yuri", "U7": "olga", "U8": "nina", "U9": "pete", "U10": "quinn",
}  # fmt: skip


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def users() -> list[dict[str, Any]]:
    return [
        {"id": uid, "email": f"{name}@example.com", "username": name, "role": "user",
         "timezone": "Europe/Berlin", "teams": []}
        for uid, name in USERS.items()
    ]  # fmt: skip


def schedules() -> list[dict[str, Any]]:
    def web(sid: str, name: str, zone: str) -> dict[str, Any]:
        return {"id": sid, "name": name, "type": "web", "team_id": None, "time_zone": zone,
                "on_call_now": [], "shifts": [], "slack": None}  # fmt: skip

    found = [
        web("S1", "Primary", "Europe/Berlin"),
        web("S2", "Support", "UTC"),
        web("S3", "Nights", "Europe/Berlin"),
    ]
    for schedule in found:  # as OnCall lists them: the schedule names its shifts
        schedule["shifts"] = [s["id"] for s in shifts() if s.pop("schedule") == schedule["id"]]
    return found


def rolling(sid: str, shift: str, groups: list[list[str]], **fields: Any) -> dict[str, Any]:
    base = {"id": shift, "name": shift, "type": "rolling_users", "schedule": sid,
            "team_id": None, "time_zone": None, "level": 0, "interval": 1, "until": None,
            "week_start": "MO", "by_day": None, "by_month": None, "by_monthday": None,
            "rolling_users": groups, "start_rotation_from_user_index": 0}  # fmt: skip
    return {**base, **fields}


def shifts() -> list[dict[str, Any]]:
    week = 604800
    return [
        rolling("S1", "R1 weekly three", [["U1"], ["U2"], ["U3"]], frequency="weekly",
                start="2026-03-16T09:00:00", rotation_start="2026-03-16T09:00:00",
                duration=week),
        rolling("S2", "R2 base", [["U5"], ["U6"]], frequency="weekly",
                start="2026-03-16T00:00:00", duration=week),
        rolling("S2", "R3 office hours", [["U4"]], frequency="daily", level=1,
                by_day=["MO", "TU", "WE", "TH", "FR"], start="2026-03-16T09:00:00",
                duration=8 * 3600),
        {"id": "O1", "name": "Override-1", "type": "override", "schedule": "S2",
         "team_id": None, "time_zone": "UTC", "level": 0, "start": "2026-03-18T22:00:00",
         "rotation_start": "2026-03-18T22:00:00", "duration": 4 * 3600, "users": ["U7"]},
        rolling("S3", "R4 Wednesday handoff", [["U9"], ["U10"]], frequency="weekly",
                start="2026-03-18T10:00:00", duration=week),
        {"id": "R5", "name": "R5 nights", "type": "recurrent_event", "schedule": "S3",
         "team_id": None, "time_zone": None, "level": 1, "start": "2026-03-16T22:00:00",
         "duration": 8 * 3600, "frequency": "daily", "interval": 1, "until": None,
         "week_start": "MO", "by_day": None, "by_month": None, "by_monthday": None,
         "users": ["U8"]},
    ]  # fmt: skip


def chains() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    chain = [{"id": "C1", "name": "payments", "team_id": None}]
    steps = [
        {"id": "E0", "escalation_chain_id": "C1", "position": 0, "type": "notify_persons",
         "persons_to_notify": ["U1"]},
        {"id": "E1", "escalation_chain_id": "C1", "position": 1, "type": "wait",
         "duration": 300},
        {"id": "E2", "escalation_chain_id": "C1", "position": 2,
         "type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": "S1"},
        {"id": "E3", "escalation_chain_id": "C1", "position": 3, "type": "notify_persons",
         "persons_to_notify": ["U2", "U3"]},
        {"id": "E4", "escalation_chain_id": "C1", "position": 4, "type": "wait",
         "duration": 90},
        {"id": "E5", "escalation_chain_id": "C1", "position": 5,
         "type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": "S2"},
        {"id": "E6", "escalation_chain_id": "C1", "position": 6, "type": "repeat_escalation"},
    ]  # fmt: skip
    return chain, steps


def integrations() -> list[dict[str, Any]]:
    return [
        {"id": "I1", "name": "payments", "team_id": None, "type": "alertmanager",
         "link": "https://oncall.example/integrations/v1/alertmanager/x/",
         "default_route": {"id": "RT0", "escalation_chain_id": "C1"}},
    ]  # fmt: skip


# The source's own final rotas, by hand. (start, end, username), UTC.
PRIMARY = [
    (z("2026-03-16T08:00"), z("2026-03-23T08:00"), "alice"),
    (z("2026-03-23T08:00"), z("2026-03-30T07:00"), "bob"),  # 167 h: summer time began
    (z("2026-03-30T07:00"), z("2026-04-06T07:00"), "carol"),
    (z("2026-04-06T07:00"), z("2026-04-13T07:00"), "alice"),
]


def support() -> list[tuple[datetime, datetime, str]]:
    base = [
        (z("2026-03-16T00:00"), z("2026-03-23T00:00"), "xena"),
        (z("2026-03-23T00:00"), z("2026-03-30T00:00"), "yuri"),
        (z("2026-03-30T00:00"), z("2026-04-06T00:00"), "xena"),
        (z("2026-04-06T00:00"), z("2026-04-13T00:00"), "yuri"),
    ]
    office = [
        (datetime(2026, 3, day, 9, tzinfo=UTC), datetime(2026, 3, day, 17, tzinfo=UTC), "dave")
        for day in (16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30, 31)
    ] + [
        (datetime(2026, 4, day, 9, tzinfo=UTC), datetime(2026, 4, day, 17, tzinfo=UTC), "dave")
        for day in (1, 2, 3, 6, 7, 8, 9, 10)
    ]
    override = [(z("2026-03-18T22:00"), z("2026-03-19T02:00"), "olga")]
    return overlay(base, office, override)


def nights() -> list[tuple[datetime, datetime, str]]:
    base = [
        (z("2026-03-18T09:00"), z("2026-03-25T09:00"), "pete"),  # Wednesday 10:00 CET
        (z("2026-03-25T09:00"), z("2026-04-01T08:00"), "quinn"),
        (z("2026-04-01T08:00"), z("2026-04-08T08:00"), "pete"),  # 10:00 CEST
        (z("2026-04-08T08:00"), z("2026-04-15T08:00"), "quinn"),
    ]
    night = []
    day = datetime(2026, 3, 16)
    while day < datetime(2026, 4, 13):
        begin = (day + timedelta(hours=22)).replace(tzinfo=BERLIN).astimezone(UTC)
        end = (day + timedelta(days=1, hours=6)).replace(tzinfo=BERLIN).astimezone(UTC)
        night.append((begin, end, "nina"))
        day += timedelta(days=1)
    assert (z("2026-03-28T21:00"), z("2026-03-29T04:00"), "nina") in night  # 7 h night
    return overlay(base, night)


def overlay(*layers: list[tuple[datetime, datetime, str]]) -> list[tuple[datetime, datetime, str]]:
    """Later lists win where they have someone; adjacent pieces of one person merged."""
    edges = sorted({t for layer in layers for s, e, _ in layer for t in (s, e)})
    out: list[tuple[datetime, datetime, str]] = []
    for begin, end in itertools.pairwise(edges):
        who = None
        for layer in layers:
            for s, e, name in layer:
                if s <= begin < e:
                    who = name
        if who is None:
            continue
        if out and out[-1][1] == begin and out[-1][2] == who:
            out[-1] = (out[-1][0], end, who)
        else:
            out.append((begin, end, who))
    return out


def final_items(rota: list[tuple[datetime, datetime, str]]) -> list[dict[str, Any]]:
    ids = {name: uid for uid, name in USERS.items()}
    return [
        {"user_pk": ids[who], "user_email": f"{who}@example.com", "user_username": who,
         "shift_start": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
         "shift_end": e.strftime("%Y-%m-%dT%H:%M:%SZ")}
        for s, e, who in rota
    ]  # fmt: skip


def finals() -> dict[str, list[tuple[datetime, datetime, str]]]:
    return {"S1": PRIMARY, "S2": support(), "S3": nights()}


def serve(
    server: Any, final: dict[str, list[tuple[datetime, datetime, str]]] | None = None
) -> None:
    """Put the cases on an `import_server.ApiServer`, paginated two items a page."""
    chain, steps = chains()
    server.collection("/api/v1/users/", users())
    server.collection("/api/v1/schedules/", schedules())
    # The public API does not say which schedule a shift is in: the schedule lists it.
    public = [{k: v for k, v in s.items() if k != "schedule"} for s in shifts()]
    server.collection("/api/v1/on_call_shifts/", public)
    server.collection("/api/v1/escalation_chains/", chain)
    server.collection("/api/v1/escalation_policies/", steps)
    server.collection("/api/v1/integrations/", integrations())
    server.collection("/api/v1/routes/", [])
    for sid, rota in (final or finals()).items():
        server.collection(f"/api/v1/schedules/{sid}/final_shifts/", final_items(rota))
