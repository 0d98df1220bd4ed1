"""On-call rules: wall-clock handoffs across DST in two zones, gaps and ambiguous times,
restrictions across midnight, layers, overrides (newest wins) and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opsdesk.console.config.model import Layer, Restriction, Schedule
from opsdesk.console.domain.rotations import (
    final_rota,
    gaps,
    local_instant,
    on_call_at,
    rotation_shifts,
)
from opsdesk.store.records import Override

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
D = timedelta(days=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def team_cli(
    tmp_path,  # type: ignore[no-untyped-def]
    name: str,
    people: list[str],
    members: list[str],
    *,
    timezone: str = "UTC",
    start: str = "2026-11-01T09:00",
    roles: str = "",
) -> list[str]:
    """Write a one-schedule ("platform", daily rotation) team config named `name`, make sure
    the store exists, and return the global CLI options that use both."""
    import json

    from opsdesk.console.cli import run

    config = tmp_path / f"{name}.toml"
    config.write_text(
        "".join(f'[[people]]\nlogin = "{login}"\n' for login in people)
        + roles
        + f"""
[[schedules]]
name = "platform"
timezone = "{timezone}"
[[schedules.layers]]
name = "primary"
members = {json.dumps(members)}
rotation = "1d"
start = "{start}"
"""
    )
    base = ["--config", str(config), "--store", str(tmp_path / "s.db")]
    assert run([*base, "incident", "new", "--title", "creates the store", "--service", "x"]) == 0
    return base


def daily(
    start: str, members: list[str], restrict: Restriction | None = None, name: str = "primary"
) -> Layer:
    return Layer(
        name=name,
        members=members,
        rotation=D,
        start=datetime.fromisoformat(start),
        restrict=restrict,
    )


def test_local_instant_gap_and_ambiguity() -> None:
    # 2026-03-08 02:30 does not exist in New York: the first instant after the gap is 03:00 EDT.
    assert local_instant(datetime(2026, 3, 8, 2, 30), NY) == utc(2026, 3, 8, 7, 0)
    # 2026-11-01 01:30 happens twice in New York: the first occurrence is EDT.
    assert local_instant(datetime(2026, 11, 1, 1, 30), NY) == utc(2026, 11, 1, 5, 30)
    # Berlin: 2026-03-29 02:30 does not exist; 2026-10-25 02:30 happens twice.
    assert local_instant(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1, 0)
    assert local_instant(datetime(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_daily_handoffs_keep_local_time_across_dst_in_new_york() -> None:
    layer = daily("2026-03-06T09:00", ["ana", "ben"])
    shifts = rotation_shifts(layer, NY, utc(2026, 3, 6, 14), utc(2026, 3, 10, 13))
    starts = [s.start for s in shifts]
    assert starts == [
        utc(2026, 3, 6, 14),
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]
    assert [s.login for s in shifts] == ["ana", "ben", "ana", "ben"]
    # The shift across the change is 23 hours of real time.
    assert shifts[1].end - shifts[1].start == timedelta(hours=23)


def test_handoffs_in_berlin_across_the_autumn_change() -> None:
    layer = daily("2026-10-23T08:00", ["dana", "emil"])
    shifts = rotation_shifts(layer, BERLIN, utc(2026, 10, 23, 6), utc(2026, 10, 27, 7))
    assert [s.start for s in shifts] == [
        utc(2026, 10, 23, 6), utc(2026, 10, 24, 6), utc(2026, 10, 25, 7), utc(2026, 10, 26, 7),
    ]  # fmt: skip
    assert shifts[1].end - shifts[1].start == timedelta(hours=25)


def test_handoff_in_the_spring_gap_and_in_the_autumn_overlap() -> None:
    gap_layer = daily("2026-03-07T02:30", ["ana", "ben"])
    shifts = rotation_shifts(gap_layer, NY, utc(2026, 3, 7), utc(2026, 3, 10))
    assert [s.start for s in shifts][:3] == [
        utc(2026, 3, 7, 7, 30),
        utc(2026, 3, 8, 7, 0),
        utc(2026, 3, 9, 6, 30),
    ]
    overlap_layer = daily("2026-10-31T01:30", ["ana", "ben"])
    shifts = rotation_shifts(overlap_layer, NY, utc(2026, 10, 31), utc(2026, 11, 3))
    assert shifts[1].start == utc(2026, 11, 1, 5, 30)  # first occurrence (EDT)
    assert shifts[2].start == utc(2026, 11, 2, 6, 30)  # EST from then on


def test_restriction_across_midnight_and_gaps() -> None:
    nights = Restriction(from_=time(20), to=time(8))
    schedule = Schedule(
        "apac", "Europe/Berlin", [daily("2026-11-02T20:00", ["goro", "jia"], nights)]
    )
    rota = final_rota(schedule, [], utc(2026, 11, 2, 12), utc(2026, 11, 4, 12))
    covered = [(s.start, s.end, s.login) for s in rota if s.login]
    assert covered == [
        (utc(2026, 11, 2, 19), utc(2026, 11, 3, 7), "goro"),
        (utc(2026, 11, 3, 19), utc(2026, 11, 4, 7), "jia"),
    ]
    assert [(g.start, g.end) for g in gaps(rota)] == [
        (utc(2026, 11, 2, 12), utc(2026, 11, 2, 19)),
        (utc(2026, 11, 3, 7), utc(2026, 11, 3, 19)),
        (utc(2026, 11, 4, 7), utc(2026, 11, 4, 12)),
    ]


def test_higher_layer_wins_where_it_has_someone() -> None:
    weekdays = Restriction(days=["mon", "tue", "wed", "thu", "fri"], from_=time(9), to=time(17))
    schedule = Schedule(
        "platform",
        "America/New_York",
        [
            Layer("base", ["cruz"], timedelta(weeks=1), datetime(2026, 11, 2, 0, 0)),
            daily("2026-11-02T09:00", ["ana", "ben"], weekdays, name="business"),
        ],
    )
    monday_noon, monday_night, saturday = (
        utc(2026, 11, 2, 17),
        utc(2026, 11, 3, 2),
        utc(2026, 11, 7, 17),
    )
    assert on_call_at(schedule, [], monday_noon).login == "ana"
    assert on_call_at(schedule, [], monday_night).login == "cruz"
    now = on_call_at(schedule, [], saturday)
    assert (now.login, now.source) == ("cruz", "base")
    # Monday 09:00 the business layer is back; its rotation kept turning through the
    # weekend it did not cover (ana Mon, ben Tue, ... ben on the next Monday).
    assert now.next_login == "ben"
    assert now.until == utc(2026, 11, 9, 14)


def override(
    id_: int, login: str, start: datetime, end: datetime, schedule: str = "apac"
) -> Override:
    return Override(id_, schedule, login, start, end, "swap", "lead")


def test_override_inside_a_restricted_layer_and_newest_wins() -> None:
    nights = Restriction(from_=time(20), to=time(8))
    schedule = Schedule(
        "apac", "Europe/Berlin", [daily("2026-11-02T20:00", ["goro", "jia"], nights)]
    )
    during_the_day = override(1, "hana", utc(2026, 11, 3, 10), utc(2026, 11, 3, 14))
    into_the_night = override(2, "lena", utc(2026, 11, 3, 12), utc(2026, 11, 3, 21))
    others = override(3, "ivan", utc(2026, 11, 3, 0), utc(2026, 11, 4, 0), schedule="platform")
    rota = final_rota(
        schedule, [during_the_day, into_the_night, others], utc(2026, 11, 3, 8), utc(2026, 11, 4, 0)
    )
    assert [(s.start, s.end, s.login, s.source) for s in rota] == [
        (utc(2026, 11, 3, 8), utc(2026, 11, 3, 10), None, "gap"),
        (utc(2026, 11, 3, 10), utc(2026, 11, 3, 12), "hana", "override"),
        (utc(2026, 11, 3, 12), utc(2026, 11, 3, 21), "lena", "override"),
        (utc(2026, 11, 3, 21), utc(2026, 11, 4, 0), "jia", "primary"),
    ]
    now = on_call_at(schedule, [during_the_day, into_the_night], utc(2026, 11, 3, 13))
    assert (now.login, now.source, now.since, now.until, now.next_login) == (
        "lena", "override", utc(2026, 11, 3, 12), utc(2026, 11, 3, 21), "jia",
    )  # fmt: skip


def test_before_the_layer_starts_nobody_is_on_call() -> None:
    schedule = Schedule("s", "UTC", [daily("2026-11-10T09:00", ["ana"])])
    now = on_call_at(schedule, [], utc(2026, 11, 9, 12))
    assert (now.login, now.source, now.until) == (None, "gap", utc(2026, 11, 10, 9))
    assert now.next_login == "ana"


def test_oncall_now_cli(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from opsdesk.console.cli import run

    base = team_cli(
        tmp_path, "team", ["ana", "ben"], ["ana", "ben"],
        timezone="America/New_York", start="2026-03-06T09:00",
    )  # fmt: skip
    capsys.readouterr()
    assert run([*base, "oncall", "now", "--at", "2026-03-08T12:00Z", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry == {
        "schedule": "platform", "person": "ben", "from": "2026-03-07T14:00:00Z",
        "to": "2026-03-08T13:00:00Z", "next_person": "ana", "source": "primary",
        "since": "2026-03-07T14:00:00Z", "until": "2026-03-08T13:00:00Z",  # older names
    }  # fmt: skip
    assert run([*base, "oncall", "shifts", "--from", "2026-03-07T00:00Z", "--to", "2026-03-09T00:00Z",
                "--person", "ana", "--json"]) == 0  # fmt: skip
    shifts = json.loads(capsys.readouterr().out)
    assert [(s["from"], s["to"]) for s in shifts] == [
        ("2026-03-07T00:00:00Z", "2026-03-07T14:00:00Z"),  # ana's shift from 6 March 09:00 EST
        ("2026-03-08T13:00:00Z", "2026-03-09T00:00:00Z"),  # 09:00 EDT after the change
    ]
    assert run([*base, "oncall", "now", "--schedule", "platfrom"]) == 2
    assert "unknown schedule 'platfrom' (did you mean \"platform\"?)" in capsys.readouterr().err


def test_one_person_on_call_has_no_invented_end(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A one-person layer never hands off: `oncall now` says so instead of showing the edge
    of the window the rota was laid out over as if it were a hand-off."""
    import json

    from opsdesk.console.cli import run

    alone = Schedule("solo", "UTC", [daily("2026-11-01T09:00", ["ana"])])
    now = on_call_at(alone, [], utc(2026, 11, 20, 12))
    assert (now.login, now.until, now.next_login) == ("ana", None, None)
    assert now.since == utc(2026, 11, 1, 9)  # the layer's start is a real beginning
    pair = Schedule("pair", "UTC", [daily("2026-11-01T09:00", ["ana", "ben"])])
    assert on_call_at(pair, [], utc(2026, 11, 20, 12)).until == utc(2026, 11, 21, 9)

    base = team_cli(tmp_path, "team", ["ana"], ["ana"])
    capsys.readouterr()
    assert run([*base, "oncall", "now", "--at", "2026-11-20T12:00Z", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["person"], entry["to"], entry["until"]) == ("ana", None, None)
    assert run([*base, "oncall", "now", "--at", "2026-11-20T12:00Z"]) == 0
    assert "no hand-off within a year" in capsys.readouterr().out


def test_override_cli_roles_and_effect(tmp_path, capsys, me: str) -> None:  # type: ignore[no-untyped-def]
    import json

    from opsdesk.console.cli import run

    people = [me, "ana", "ben"]
    as_engineer = team_cli(tmp_path, "engineer", people, ["ana", "ben"])
    as_lead = team_cli(
        tmp_path, "lead", people, ["ana", "ben"], roles=f'[roles]\nlead = ["{me}"]\n'
    )
    capsys.readouterr()

    window = ["--from", "2026-11-25T10:00Z", "--to", "2026-11-25T18:00Z"]
    assert (
        run(
            [
                *as_engineer,
                "oncall",
                "override",
                "add",
                "--schedule",
                "platform",
                "--person",
                "ana",
                *window,
            ]
        )
        == 1
    )
    assert "putting someone else on call needs the lead role" in capsys.readouterr().err
    assert run([*as_engineer, "oncall", "override", "add", "--schedule", "platform", "--person", me,
                *window, "--reason", "swap with ana", "--json"]) == 0  # fmt: skip
    mine = json.loads(capsys.readouterr().out)
    assert (mine["id"], mine["person"]) == ("OVR-1", me)
    assert run([*as_lead, "oncall", "override", "add", "--schedule", "platform", "--person", "ben",
                "--from", "2026-11-25T12:00Z", "--to", "2026-11-25T13:00Z"]) == 0  # fmt: skip
    capsys.readouterr()

    assert run([*as_engineer, "oncall", "now", "--at", "2026-11-25T12:30Z", "--json"]) == 0
    [now] = json.loads(capsys.readouterr().out)
    assert (now["person"], now["source"], now["next_person"]) == ("ben", "override", me)

    assert run([*as_engineer, "oncall", "override", "remove", "ovr-1"]) == 0
    assert (
        run(
            [
                *as_engineer,
                "oncall",
                "override",
                "add",
                "--schedule",
                "platfrm",
                "--person",
                me,
                *window,
            ]
        )
        == 2
    )
    assert "unknown schedule 'platfrm' (did you mean \"platform\"?)" in capsys.readouterr().err
    assert run([*as_engineer, "oncall", "override", "add", "--schedule", "platform", "--person", me,
                "--from", "2026-11-25T18:00Z", "--to", "2026-11-25T10:00Z"]) == 2  # fmt: skip
    assert "an override must end after it starts" in capsys.readouterr().err
    assert run([*as_engineer, "audit", "--json", "--entity", "OVR-1"]) == 0
    actions = [a["action"] for a in json.loads(capsys.readouterr().out)]
    assert actions == ["override.create", "override.remove"]


async def test_only_creator_person_or_lead_removes_an_override(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from opsdesk.store import Actor, PermissionDenied, Store

    now = utc(2026, 11, 25, 9)
    async with await Store.open(tmp_path / "s.db") as store:
        lead = Actor("lena", frozenset({"lead"}))
        added = await store.overrides.add(lead, "platform", "ben", now, now + D, "cover", now)
        with pytest.raises(
            PermissionDenied, match="removing someone else's override needs the lead role; eve"
        ):
            await store.overrides.remove(Actor("eve"), added.id, now)
        assert (await store.overrides.remove(Actor("ben"), added.id, now)).login == "ben"
        assert await store.overrides.not_ended(now) == []


def test_escalation_resolves_levels_to_people_at_their_page_time() -> None:
    from opsdesk.console.config.loader import parse_text
    from opsdesk.console.domain.rotations import escalation

    config = parse_text(
        """
[[people]]
login = "ana"
name = "Ana Ortiz"
phone = "+1-555-0100"
[[people]]
login = "ben"
[[people]]
login = "dana"
email = "dana@example.com"
[[services]]
name = "payments"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["ana", "ben"]
rotation = "1d"
start = "2026-11-01T09:00"
[[escalation_policies]]
service = "payments"
levels = [{ schedule = "platform", after = "0m" }, { schedule = "platform", after = "30m" },
          { person = "dana", after = "1h" }]
""",
        "test",
    )
    # Shifts alternate daily from 1 Nov 09:00 (ana): 24 Nov 09:00 starts ben's, 25 Nov 09:00 ana's.
    steps = escalation(config, "payments", [], utc(2026, 11, 25, 8, 45))
    assert [(s.level, s.login, s.via, s.paged_at) for s in steps] == [
        (1, "ben", "platform", utc(2026, 11, 25, 8, 45)),
        (2, "ana", "platform", utc(2026, 11, 25, 9, 15)),  # the 09:00 handoff happened meanwhile
        (3, "dana", "person", utc(2026, 11, 25, 9, 45)),
    ]
    assert (steps[1].name, steps[1].phone, steps[2].email) == (
        "Ana Ortiz",
        "+1-555-0100",
        "dana@example.com",
    )


def test_timeline_slots_take_the_majority_and_mark_overrides() -> None:
    from opsdesk.console.domain.rotations import Shift, slots, symbols

    rota = [
        Shift(utc(2026, 11, 25, 0), utc(2026, 11, 25, 4), "ana", "primary"),
        Shift(utc(2026, 11, 25, 4), utc(2026, 11, 25, 5), None, "gap"),
        Shift(utc(2026, 11, 25, 5), utc(2026, 11, 25, 7), "ben", "override"),
        Shift(utc(2026, 11, 25, 7), utc(2026, 11, 25, 12), None, "gap"),
    ]
    got = slots(rota, utc(2026, 11, 25, 0), timedelta(hours=6), 3)
    assert [(s.login, s.override) for s in got] == [("ana", False), (None, False), (None, False)]
    got = slots(rota, utc(2026, 11, 25, 4), timedelta(hours=3), 1)
    assert [(s.login, s.override) for s in got] == [("ben", True)]
    assert symbols(["ana", "anna", "ben", "bob"]) == {
        "ana": "a",
        "anna": "n",
        "ben": "b",
        "bob": "o",
    }


async def test_timeline_view_opens_from_the_oncall_screen(demo_store) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.screens.oncall_timeline import OncallTimelineScreen
    from tests.test_app import SIZE, make_app, settle

    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "v")
        await settle(app, pilot)
        assert isinstance(app.screen, OncallTimelineScreen)
        text = str(app.screen.query_one("#timeline").render())
        lines = text.splitlines()
        assert "platform" in text and "payments" in text
        slot_lines = [line for line in lines if line.startswith("on call")]
        assert len(slot_lines) == 2
        assert all(len(line) == 11 + 14 * 4 for line in slot_lines)
        layer_lines = [
            line for line in lines if line.split(" ")[0] in ("primary", "europe", "apac")
        ]
        assert len(layer_lines) == 3  # one line per layer, under its schedule
        europe = next(line for line in layer_lines if line.startswith("europe"))
        assert "  " in europe[11:]  # its business-hours restriction leaves blanks
        assert "You are in UTC" in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.__class__.__name__ == "OncallScreen"


async def test_handoff_note_reaches_the_next_person_once(demo_store) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.console.domain.rotations import handoff_recipient
    from opsdesk.console.ops.session import Options, open_session
    from opsdesk.screens.dialogs import HandoffNotesScreen
    from opsdesk.store import Store
    from tests.conftest import FIXED_NOW
    from tests.test_app import SIZE, make_app, settle

    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        schedule = next(s for s in session.config.schedules if s.name == "platform")
        overrides = await session.store.overrides.not_ended(FIXED_NOW - timedelta(weeks=4))
        recipient = handoff_recipient(schedule, overrides, FIXED_NOW)
        assert recipient is not None
        await session.store.handoffs.add(
            session.actor,
            "platform",
            recipient,
            "DB failover drill at 14:00; runbook in wiki",
            FIXED_NOW,
        )
    finally:
        await session.close()

    app = make_app(demo_store, login=recipient)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, HandoffNotesScreen)
        assert "DB failover drill" in str(app.screen.query_one("#handoff-body").render())
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, HandoffNotesScreen)
    async with await Store.open(demo_store) as store:
        assert await store.handoffs.unseen_for(recipient) == []
    again = make_app(demo_store, login=recipient)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        assert not isinstance(again.screen, HandoffNotesScreen)


def test_handoff_cli(tmp_path, capsys, me: str) -> None:  # type: ignore[no-untyped-def]
    import json

    from opsdesk.console.cli import run

    base = team_cli(tmp_path, "team", [me, "ana"], [me, "ana"], start="2026-01-01T09:00")
    assert (
        run([*base, "oncall", "handoff", "add", "--schedule", "platform", "pager quiet; VPN flaky"])
        == 0
    )
    assert "handoff note for" in capsys.readouterr().out
    assert run([*base, "oncall", "handoff", "list", "--json"]) == 0
    [note] = json.loads(capsys.readouterr().out)
    assert (
        note["author"] == me
        and note["text"] == "pager quiet; VPN flaky"
        and note["seen_at"] is None
    )
    assert note["for_login"] in (me, "ana")
    assert run([*base, "oncall", "handoff", "add", "--schedule", "nope", "x"]) == 2


async def test_oncall_screen_shows_your_shift_and_both_zones(demo_store) -> None:  # type: ignore[no-untyped-def]
    from tests.test_app import SIZE, make_app, settle, table_text

    app = make_app(demo_store, login="goro")  # Asia/Tokyo in the demo config
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        rows = table_text(app.screen)  # type: ignore[arg-type]
        mine = [r for r in rows if "YOU NOW" in r or "you next" in r]
        assert mine and rows.index(mine[0]) == 0  # the viewer's own shift comes first
        assert "JST" in mine[0]
        summary = str(app.screen.query_one("#summary").render())
        assert "Asia/Tokyo" in summary
        zone_rows = [r for r in rows if "its zone" in r]
        assert any("America/New_York" in r and ("EST" in r or "EDT" in r) for r in zone_rows)
        assert any("Europe/Berlin" in r and ("CET" in r or "CEST" in r) for r in zone_rows)


async def test_now_moves_on_by_itself_at_a_handoff(demo_store) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.store import Actor, Store
    from tests.conftest import FIXED_NOW
    from tests.test_app import NEVER, SIZE, settle, table_text
    from tests.waits import Messages

    async with await Store.open(demo_store) as store:
        lead = Actor("lead", frozenset({"lead"}))
        await store.overrides.add(
            lead, "platform", "zed", FIXED_NOW - timedelta(hours=1),
            FIXED_NOW + timedelta(seconds=1.5), "covering", FIXED_NOW,
        )  # fmt: skip
    now = [FIXED_NOW]  # the console's clock: it moves when the test moves it
    app = OpsdeskApp(
        Options(store=str(demo_store)),
        clock=lambda: now[0],
        feed_interval=NEVER,  # nothing but the screen's own timer reloads it
        handle_hangup=False,
        poll_interval=0,
    )

    def platform_now() -> str:
        return next(r for r in table_text(app.screen) if r.startswith("platform NOW"))  # type: ignore[arg-type]

    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        assert " zed " in platform_now()
        now[0] = FIXED_NOW + timedelta(seconds=2)  # past the end of zed's override
        # No key is pressed: the screen's own timer, set for that end, reloads it.
        await messages.until(
            lambda: " zed " not in platform_now(), "the On-call screen to move past zed"
        )
        assert " zed " not in platform_now() and "override" not in platform_now()
