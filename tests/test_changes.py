"""The change workflow through the CLI with a pinned clock: the state machine, each
approval rule, self-approval refused in the store, every conflict kind with its reason,
acknowledgement recorded, reviews required to close. The workflow runs on both backends
(`store_location`): on PostgreSQL each person acts through their own login, holding in the
database the roles TEAM's [roles] gives them on SQLite."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from opsdesk.console.cli import run
from opsdesk.console.config.loader import parse_text
from opsdesk.console.domain.change_rules import (
    ChangeRefused,
    check_verb,
    conflicts,
    risk_from,
    rule_for,
    still_needed,
)
from opsdesk.console.ops.changes import ChangeOps, ChangePlan
from opsdesk.console.ops.identity import actor_for
from opsdesk.store import PermissionDenied, Store
from opsdesk.store.records import ChangeApproval, ChangeRequest
from tests.store_backends import cli_store_as, open_as

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

TEAM = """
[[people]]
login = "{me}"
[[people]]
login = "carla"
[[people]]
login = "leo"
[[people]]
login = "cam"
[roles]  # the requester is CAB too: still never for their own change
cab = ["carla", "cam", "{me}"]
lead = ["leo"]
[[services]]
name = "payments"
vendors = ["Stripe"]
[[services]]
name = "wiki"
[[vendors]]
name = "Stripe"
[[changes.approval_rules]]
type = "standard"
[[changes.approval_rules]]
type = "normal"
risk = ["low", "medium"]
cab = 1
[[changes.approval_rules]]
type = "normal"
risk = ["high"]
cab = 1
lead = 1
[[changes.approval_rules]]
type = "emergency"
lead = 1
review_after = true
[[changes.risk_questions]]
id = "customer_facing"
text = "Customer facing?"
weight = 2
[[changes.risk_questions]]
id = "untested"
text = "Untested?"
weight = 4
[changes.risk_thresholds]
medium = 2
high = 6
[[freeze_windows]]
name = "black friday"
start = 2026-11-27T00:00:00Z
end = 2026-11-30T00:00:00Z
services = ["payments"]
[[schedules]]
name = "ops"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["{me}"]
rotation = "1d"
start = "2026-11-01T00:00"
restrict = {{ days = ["sat", "sun"], from = "00:00", to = "00:00" }}
"""


@pytest.fixture
def change_cli(tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str], store_location: str):  # type: ignore[no-untyped-def]
    """`opsdesk change ...` as the test's own user, plus `as_(login)`: the same store and
    config through ChangeOps for someone else (approvers)."""
    config = tmp_path / "team.toml"
    config.write_text(TEAM.format(me=me))
    team = parse_text(config.read_text(), "team")
    store = cli_store_as(store_location, me, actor_for(team, me).roles)

    def call(*args: str) -> tuple[int, Any]:
        code = run(["--config", str(config), "--store", store, *args])
        out, err = capsys.readouterr()
        if "--json" in args and code == 0:
            return code, json.loads(out)
        return code, err or out

    def as_(login: str, work: Any) -> Any:
        actor = actor_for(team, login)

        async def go() -> Any:
            async with await open_as(store_location, login, actor.roles) as opened:
                return await work(ChangeOps(opened, team, actor))

        return asyncio.run(go())

    call.as_ = as_  # type: ignore[attr-defined]
    assert run(["--config", str(config), "--store", store, "incident", "new", "--title",
                "creates the store", "--service", "wiki"]) == 0  # fmt: skip
    capsys.readouterr()
    return call


def planned(
    number: int,
    title: str,
    kind: str,
    services: tuple[str, ...],
    start: datetime,
    length: timedelta,
    implementer: str,
    state: str,
) -> ChangeRequest:
    return ChangeRequest(number, title, kind, "low", services, start, start + length,
                         implementer, implementer, state, 1)  # fmt: skip


def new_change(cli, *extra: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    code, created = cli(
        "change", "new", "--title", "Upgrade db", "--type", "normal", "--service", "wiki",
        "--start", "2026-11-26T10:00Z", "--end", "2026-11-26T11:00Z", "--test-plan", "staging",
        "--backout", "restore snapshot", *extra, "--json",
    )  # fmt: skip
    assert code == 0, created
    return created  # type: ignore[no-any-return]


def test_state_machine_names_what_is_allowed() -> None:
    assert check_verb("CHG-1", "draft", "submit") == "submitted"
    with pytest.raises(ChangeRefused, match=r"CHG-1 is draft; cannot start it. Allowed: submit"):
        check_verb("CHG-1", "draft", "start")
    with pytest.raises(ChangeRefused, match="Allowed: approve, reject"):
        check_verb("CHG-1", "submitted", "close")
    with pytest.raises(ChangeRefused, match="Nothing more can happen to it"):
        check_verb("CHG-1", "closed", "start")


def test_risk_and_approval_rules() -> None:
    config = parse_text(TEAM.format(me="me"), "team")
    assert risk_from(config, {}) == "low"
    assert risk_from(config, {"customer_facing": True}) == "medium"
    assert risk_from(config, {"customer_facing": True, "untested": True}) == "high"
    with pytest.raises(ChangeRefused, match="unknown risk question"):
        risk_from(config, {"customerfacing": True})
    high = rule_for(config, "normal", "high")
    cab = ChangeApproval("carla", frozenset({"cab"}), "approve", "", NOW)
    lead = ChangeApproval("leo", frozenset({"lead"}), "approve", "", NOW)
    assert (still_needed(high, [cab]).cab, still_needed(high, [cab]).lead) == (0, 1)
    assert still_needed(high, [cab, lead]).none
    assert still_needed(rule_for(config, "standard", "low"), []).none
    assert still_needed(rule_for(config, "emergency", "high"), []).review_after


def test_each_conflict_kind_has_a_reason() -> None:
    config = parse_text(TEAM.format(me="me"), "team")
    start = datetime(2026, 11, 28, 10, tzinfo=UTC)  # a Saturday, inside the freeze
    change = planned(1, "Deploy", "emergency", ("payments",), start, timedelta(hours=2), "me",
                     "draft")  # fmt: skip
    other = planned(2, "Other deploy", "normal", ("payments",), start + timedelta(hours=1),
                    timedelta(hours=2), "sam", "scheduled")  # fmt: skip
    busy = planned(3, "Wiki", "normal", ("wiki",), start, timedelta(hours=1), "me", "scheduled")
    from opsdesk.console.domain.change_rules import OpenIncident

    found = conflicts(
        change, [other, busy], config,
        [OpenIncident("INC-9", "P2", "payments", "Card auth slow"),
         OpenIncident("INC-8", "P4", "payments", "typo")],
        [("ops", "me", start - timedelta(hours=10), start + timedelta(days=1))],
        {"Stripe": "partial_outage"}, NOW,
    )  # fmt: skip
    kinds = {c.kind: c.reason for c in found}
    assert set(kinds) == {"change", "implementer_busy", "freeze", "incident", "on_call", "vendor"}
    assert "CHG-2 (Other deploy) is planned" in kinds["change"]
    assert "an emergency change may go ahead" in kinds["freeze"]
    assert "INC-9 (P2" in kinds["incident"] and "INC-8" not in kinds["incident"]
    assert kinds["vendor"] == "Stripe, which payments depends on, is partial outage"
    assert kinds["on_call"].startswith("me is on call for ops")


def test_normal_high_risk_needs_cab_and_lead_then_runs_to_close(
    change_cli, store_location: str
) -> None:  # type: ignore[no-untyped-def]
    cli = change_cli
    with time_machine.travel(NOW, tick=False):
        created = new_change(cli, "--yes", "customer_facing", "--yes", "untested")
        assert (created["key"], created["state"], created["risk"]) == ("CHG-1", "draft", "high")
        code, submitted = cli("change", "submit", "CHG-1", "--json")
        assert submitted["state"] == "submitted"
        code, err = cli("change", "approve", "CHG-1")
        assert code == 1 and "your own change" in err  # refused in the store
        code, view = cli("change", "show", "CHG-1", "--json")
        assert view["approvals_needed"] == {"cab": 1, "lead": 1, "review_after": False}

        after_cab = cli.as_("carla", lambda ops: ops.decide("CHG-1", "approve", "ok", NOW))
        assert after_cab.state == "submitted"  # the lead has not approved yet
        with pytest.raises(PermissionDenied, match="needs the cab or lead role"):
            cli.as_("cruz", lambda ops: ops.decide("CHG-1", "approve", "", NOW))
        done = cli.as_("leo", lambda ops: ops.decide("CHG-1", "approve", "go", NOW))
        assert done.state == "scheduled"

        assert cli("change", "start", "CHG-1")[0] == 0
        code, err = cli("change", "close", "CHG-1")
        assert code == 1 and "Allowed: complete, fail, rollback" in err
        assert cli("change", "fail", "CHG-1")[0] == 0
        code, err = cli("change", "close", "CHG-1")
        assert code == 1 and "needs a post-implementation review" in err
        code, closed = cli("change", "close", "CHG-1", "--review", "lock timeout; retry", "--json")
        assert (closed["state"], closed["review"]) == ("closed", "lock timeout; retry")
        code, view = cli("change", "show", "CHG-1", "--json")
        kinds = [e["kind"] for e in view["timeline"]]
        assert kinds == ["created", "state", "approve", "approve", "state", "state", "state"]


def test_conflicts_need_acknowledgement_which_is_recorded(change_cli) -> None:  # type: ignore[no-untyped-def]
    cli = change_cli
    with time_machine.travel(NOW, tick=False):
        new_change(cli)
        new_change(cli)
        cli.as_("carla", lambda ops: ops.submit("CHG-2", NOW, ack_conflicts=True))
        code, err = cli("change", "submit", "CHG-1")
        assert code == 1 and "1 conflict(s): CHG-2 (Upgrade db) is planned" in err
        code, submitted = cli("change", "submit", "CHG-1", "--ack-conflicts", "--json")
        assert submitted["state"] == "submitted"
        assert submitted["conflicts_acknowledged"][0].startswith("CHG-2 (Upgrade db)")
        assert cli("change", "link", "CHG-1", "INC-1")[0] == 0
        code, view = cli("change", "show", "CHG-1", "--json")
        assert view["linked_incidents"] == ["INC-1"]
        assert "1 conflict(s) acknowledged" in view["timeline"][1]["detail"]


def test_standard_is_preapproved_and_emergency_needs_a_review_to_close(
    change_cli, store_location: str
) -> None:  # type: ignore[no-untyped-def]
    cli = change_cli
    with time_machine.travel(NOW, tick=False):
        code, std = cli("change", "new", "--title", "Rotate certs", "--type", "standard",
                        "--service", "wiki", "--start", "2026-11-26T10:00Z",
                        "--end", "2026-11-26T10:30Z", "--json")  # fmt: skip
        code, sub = cli("change", "submit", std["key"], "--json")
        assert sub["state"] == "scheduled"
        emergency = new_change(cli, "--type", "emergency")
        key = emergency["key"]
        cli("change", "submit", key, "--ack-conflicts")
        cli.as_("leo", lambda ops: ops.decide(key, "approve", "do it", NOW))
        for verb in ("start", "complete"):
            assert cli("change", verb, key)[0] == 0
        code, err = cli("change", "close", key, "--review", "went fine")
        assert code == 1 and "needs its CAB review" in err
        cli.as_("cam", lambda ops: ops.decide(key, "approve", "reviewed", NOW))
        assert cli("change", "close", key, "--review", "went fine")[0] == 0


def test_creating_checks_plans_services_window_and_hand_set_risk(change_cli) -> None:  # type: ignore[no-untyped-def]
    cli = change_cli
    base = ["change", "new", "--title", "x", "--service", "wiki", "--start", "2026-11-26T10:00Z"]
    code, err = cli(*base, "--type", "normal", "--end", "2026-11-26T11:00Z")
    assert code == 2 and "needs a test plan and a backout plan" in err
    code, err = cli(*base, "--type", "standard", "--end", "2026-11-26T09:00Z")
    assert code == 2 and "end must be after the planned start" in err
    code, err = cli("change", "new", "--title", "x", "--service", "wikki", "--type", "standard",
                    "--start", "2026-11-26T10:00Z", "--end", "2026-11-26T11:00Z")  # fmt: skip
    assert code == 2 and "unknown service 'wikki'" in err
    code, err = cli(*base, "--type", "standard", "--end", "2026-11-26T11:00Z", "--risk", "high")
    assert code == 2 and "needs a justification" in err


async def test_changes_screen_filters_and_approves_from_the_keyboard(demo_store: Path) -> None:
    from opsdesk.console.ops.session import Options, open_session
    from opsdesk.screens.change_detail import ChangeDetailScreen
    from opsdesk.screens.changes import ChangesScreen
    from opsdesk.screens.forms import Ask
    from tests.conftest import FIXED_NOW
    from tests.test_app import SIZE, make_app, settle, table_text

    session = await open_session(Options(store=str(demo_store)), login="ben")
    try:
        ops = ChangeOps(session.store, session.config, session.actor)
        start = FIXED_NOW + timedelta(days=3)
        plan = ChangePlan("Resize wiki volume", "normal", ("wiki",), start,
                          start + timedelta(hours=1), "staging", "shrink back")  # fmt: skip
        target = await ops.create(plan, FIXED_NOW)
        await ops.submit(target.key, FIXED_NOW, ack_conflicts=True)
    finally:
        await session.close()
    app = make_app(demo_store, login="ana")  # CAB and lead in the demo team
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ChangesScreen)
        await pilot.press("f")
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")  # waiting for my approval
        await settle(app, pilot)
        assert screen.quick == "approve"
        assert any(row.startswith(target.key + " ") for row in table_text(screen))
        assert "waiting for my approval" in str(screen.query_one("#summary").render())
        assert screen.table.move_to_key(target.key)
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, ChangeDetailScreen)
        assert "still needed" in str(detail.query_one("#change").render())
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, Ask)
        await pilot.press(*"looks safe", "enter")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        approvals = await store.changes.approvals(target.key)
        assert [(a.actor, a.decision, a.comment) for a in approvals][-1] == (
            "ana",
            "approve",
            "looks safe",
        )


def test_calendar_marks_changes_freezes_and_changes_inside_freezes() -> None:
    from opsdesk.screens.change_calendar import calendar_text

    config = parse_text(TEAM.format(me="me"), "team")
    start = datetime(2026, 11, 28, 10, tzinfo=UTC)  # inside the payments freeze
    change = planned(7, "Deploy", "emergency", ("payments", "wiki"), start, timedelta(hours=1),
                     "me", "scheduled")  # fmt: skip
    for days in (14, 30):
        text = calendar_text(config, [change], NOW.date(), days)
        lines = str(text).splitlines()
        assert all(len(line) <= 80 for line in lines)
        payments = next(line for line in lines if line.startswith("payments"))
        wiki = next(line for line in lines if line.startswith("wiki"))
        width = 4 if days == 14 else 2

        def cell(line: str, n: int, width: int = width) -> str:
            return line[11 + n * width : 11 + (n + 1) * width]

        assert cell(payments, 2).strip() == "░" * width  # the 27th: frozen, no change
        assert cell(payments, 3).strip() == "1" and cell(wiki, 3).strip() == "1"
        assert cell(wiki, 2).strip() == "·"
        spans = [s for s in text.spans if "reverse" in str(s.style)]
        assert len(spans) == 1  # only the payments change sits inside the freeze


async def test_new_change_form_validates_then_creates_a_draft(demo_store: Path) -> None:
    from opsdesk.screens.change_form import NewChangeForm
    from opsdesk.screens.changes import ChangesScreen
    from tests.test_app import SIZE, make_app, settle

    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangesScreen)
        await pilot.press("n")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewChangeForm)
        values = {"title": "Resize disks", "type": "normal", "services": "wiki, payments",
                  "start": "2026-11-27 10:00", "end": "2026-11-27 09:00"}  # fmt: skip
        for name, value in values.items():
            form.query_one(f"#{name}").value = value  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        problem = str(form.query_one("#problem").render())
        assert problem == "the end must be after the start"
        form.query_one("#end").value = "2026-11-27 11:00"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert "needs a test plan and a backout plan" in str(form.query_one("#problem").render())
        form.query_one("#test_plan").value = "staging first"  # type: ignore[attr-defined]
        form.query_one("#backout_plan").value = "restore snapshot"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangesScreen)
    async with await Store.open(demo_store) as store:
        [created] = [c for c in await store.changes.find() if c.title == "Resize disks"]
        assert (created.state, created.services, created.requester) == (
            "draft", ("wiki", "payments"), "ana",
        )  # fmt: skip


def test_a_freeze_over_the_repeated_autumn_hour_is_exactly_one_real_hour() -> None:
    """Windows are instants: a freeze from 01:30 EDT to 01:30 EST (New York, 1 November
    2026) lasts one hour, and a change is inside it or not by the real clock."""
    config = parse_text(
        TEAM.format(me="me")
        + '[[freeze_windows]]\nname = "dst"\nstart = 2026-11-01T01:30:00-04:00\n'
        "end = 2026-11-01T01:30:00-05:00\n",
        "team",
    )
    inside = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST, the second 01:00
    after = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST

    def kinds(start: datetime) -> list[str]:
        change = planned(1, "x", "normal", ("wiki",), start, timedelta(minutes=10), "me", "draft")
        return [c.kind for c in conflicts(change, [], config, [], [], {}, NOW)]

    assert kinds(inside) == ["freeze"]
    assert kinds(after) == []


async def test_a_draft_is_edited_in_the_same_form(demo_store: Path) -> None:
    from opsdesk.console.ops.session import Options, open_session
    from opsdesk.screens.change_detail import ChangeDetailScreen
    from opsdesk.screens.change_form import NewChangeForm
    from tests.conftest import FIXED_NOW
    from tests.test_app import SIZE, make_app, settle

    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        ops = ChangeOps(session.store, session.config, session.actor)
        start = FIXED_NOW + timedelta(days=2)
        plan = ChangePlan("Tune cache", "standard", ("wiki",), start, start + timedelta(hours=1))
        draft = await ops.create(plan, FIXED_NOW)
    finally:
        await session.close()
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ChangeDetailScreen(draft.key))
        await settle(app, pilot)
        await pilot.press("e")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, NewChangeForm)
        assert form.query_one("#services").value == "wiki"  # type: ignore[attr-defined]
        form.query_one("#title").value = "Tune cache sizes"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        await pilot.press("S")  # submit: a standard change is pre-approved
        await settle(app, pilot)
        await pilot.press("y")
        await settle(app, pilot)
    async with await Store.open(demo_store) as store:
        edited = await store.changes.get(draft.key)
        assert (edited.title, edited.version, edited.state) == ("Tune cache sizes", 3, "scheduled")
        kinds = [e.kind for e in await store.changes.events(draft.key)]
        assert kinds == ["created", "edited", "state"]
