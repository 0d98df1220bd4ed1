"""Keys that do not apply now stay in the footer greyed (not hidden) and say why when
pressed and on `?`; on the change detail the reason is the one the workflow refuses with,
naming this change and this person ("you already approved CHG-7: it needs 2 CAB and 1
lead approvals, has 1 (hana)"), from the same rule."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets._footer import FooterKey

from opsdesk.console.domain.change_rules import (
    approval_progress,
    decision_refusal,
    edit_refusal,
    rule_for,
    step_refusal,
)
from opsdesk.console.ops.changes import ChangeOps, ChangePlan, Refused
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.dialogs import HelpScreen
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.oncall import OncallScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.vendors import VendorsScreen
from opsdesk.store import PermissionDenied, Store
from opsdesk.store.records import ChangeApproval, ChangeRequest
from tests.conftest import FIXED_NOW
from tests.test_app import make_app
from tests.test_dialogs_daily import help_rows
from tests.waits import Messages, settle

SMALL = (80, 24)


def footer_keys(app: object) -> dict[str, bool]:
    """The footer's keys by description: True when enabled, False when greyed."""
    screen = app.screen  # type: ignore[attr-defined]
    return {k.description: not k.has_class("-disabled") for k in screen.query(FooterKey)}


# --- the rules, as pure functions -------------------------------------------------------


def _change(state: str, requester: str = "ben", type_: str = "normal") -> ChangeRequest:
    start = FIXED_NOW + timedelta(days=1)
    return ChangeRequest(
        id=7, title="Resize", type=type_, risk="high", services=("wiki",),  # type: ignore[arg-type]
        planned_start=start, planned_end=start + timedelta(hours=1), implementer=requester,
        requester=requester, state=state, version=1,
    )  # fmt: skip


def _approved(*logins: str) -> list[ChangeApproval]:
    return [ChangeApproval(who, frozenset({"cab"}), "approve", "", FIXED_NOW) for who in logins]


def test_reasons_name_the_change_the_count_and_who_approved(demo_config_rules: object) -> None:
    rule = rule_for(demo_config_rules, "normal", "high")  # type: ignore[arg-type]
    submitted = _change("submitted")
    assert approval_progress(rule, []) == "needs 2 CAB and 1 lead approvals, has none"
    assert step_refusal(submitted, "start", rule, _approved("hana")) == (
        "CHG-7 is not approved yet: it needs 2 CAB and 1 lead approvals, has 1 (hana)"
    )
    assert decision_refusal(submitted, "approve", "hana", rule, _approved("hana")) == (
        "you already approved CHG-7: it needs 2 CAB and 1 lead approvals, has 1 (hana)"
    )
    assert decision_refusal(submitted, "approve", "dana", rule, _approved("hana")) == ""
    assert decision_refusal(_change("scheduled"), "reject", "dana", rule, []) == (
        "CHG-7 is scheduled; only submitted changes are approved or rejected"
    )
    assert edit_refusal(_change("in_progress")) == (
        "CHG-7 is in progress; only drafts and rejected changes are edited"
    )
    assert edit_refusal(_change("rejected")) == ""
    assert step_refusal(_change("draft"), "submit", rule, []) == ""
    eased = rule_for(demo_config_rules, "standard", "low")  # type: ignore[arg-type]
    assert step_refusal(submitted, "start", eased, []) == (
        "CHG-7 is not approved yet: its rule needs no more approvals now, so one approve "
        "(by a CAB member or a lead) schedules it"
    )
    assert step_refusal(_change("closed"), "close", rule, []).startswith("CHG-7 is closed")


def test_a_change_that_needs_its_review_afterwards_says_so_on_close(
    demo_config_rules: object,
) -> None:
    rule = rule_for(demo_config_rules, "emergency", "high")  # type: ignore[arg-type]
    done = _change("completed", type_="emergency")
    assert step_refusal(done, "close", rule, []) == (
        "CHG-7 needs its CAB review (change approve) first"
    )
    review = ChangeApproval("dana", frozenset({"lead"}), "review", "", FIXED_NOW)
    assert step_refusal(done, "close", rule, [review]) == ""
    assert decision_refusal(done, "approve", "dana", rule, []) == ""  # that review


@pytest.fixture
def demo_config_rules(demo_store: Path) -> object:
    import asyncio

    async def load() -> object:
        session = await open_session(Options(store=str(demo_store)), login="ana")
        try:
            return session.config
        finally:
            await session.close()

    return asyncio.run(load())


# --- the change detail: the same words as the refusal -----------------------------------


async def _submitted_by_dana_approved_by_hana(demo_store: Path) -> str:
    start = FIXED_NOW + timedelta(days=3)
    plan = ChangePlan(
        "Resize wiki volume", "normal", ("wiki",), start, start + timedelta(hours=1),
        "staging", "shrink back", risk_answers={"untested": True, "no_backout": True},
    )  # fmt: skip
    for login in ("dana", "hana"):
        session = await open_session(Options(store=str(demo_store)), login=login)
        try:
            ops = ChangeOps(session.store, session.config, session.actor)
            if login == "dana":  # a lead and CAB member: still not for her own change
                change = await ops.create(plan, FIXED_NOW)
                assert change.risk == "high"
                await ops.submit(change.key, FIXED_NOW, ack_conflicts=True)
            else:
                await ops.decide(change.key, "approve", "fine by me", FIXED_NOW)
        finally:
            await session.close()
    return change.key


async def _refusal(demo_store: Path, login: str, call: str, key: str) -> str:
    session = await open_session(Options(store=str(demo_store)), login=login)
    try:
        ops = ChangeOps(session.store, session.config, session.actor)
        attempt = (
            ops.transition(key, "start", FIXED_NOW)
            if call == "start"
            else ops.decide(key, "approve", "", FIXED_NOW)
        )
        with pytest.raises((Refused, PermissionDenied)) as refused:
            await attempt
        return str(refused.value)
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("login", "key_pressed", "binding", "why"),
    [
        ("hana", "a", "change.approve", "you already approved {key}: it needs 2 CAB and 1 lead "
         "approvals, has 1 (hana)"),
        ("dana", "a", "change.approve", "{key} is your own change; someone else decides"),
        ("dana", "w", "change.start", "{key} is not approved yet: it needs 2 CAB and 1 lead "
         "approvals, has 1 (hana)"),
        ("ben", "a", "change.approve", "approving changes needs the cab or lead role; ben has "
         "neither"),
    ],
)  # fmt: skip
async def test_change_detail_keys_are_greyed_and_say_exactly_why(
    demo_store: Path, login: str, key_pressed: str, binding: str, why: str
) -> None:
    key = await _submitted_by_dana_approved_by_hana(demo_store)
    why = why.format(key=key)
    # The workflow itself refuses with these words...
    assert await _refusal(demo_store, login, binding.split(".")[1], key) == why
    # ... and the console shows them before anyone tries.
    app = make_app(demo_store, login=login)
    messages = Messages()
    async with app.run_test(size=SMALL, message_hook=messages) as pilot:
        await settle(app, pilot)
        app.push_screen(ChangeDetailScreen(key))
        await settle(app, pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        described = {"change.approve": "Approve", "change.start": "Start"}[binding]
        assert footer_keys(app)[described] is False  # in the footer, greyed
        await pilot.press(key_pressed)
        await settle(app, pilot)
        assert f"{key_pressed}: {why}" in messages.said()
        assert isinstance(app.screen, ChangeDetailScreen)  # nothing was asked or done
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = {row[2]: row for row in help_rows(app)}
        assert rows[binding][3] == why and "dim" in rows[binding][4]
        assert ("dim" in rows["change.reject"][4]) is (login != "hana")  # hana may reject


async def test_a_cab_member_who_has_not_decided_sees_approve_enabled(demo_store: Path) -> None:
    key = await _submitted_by_dana_approved_by_hana(demo_store)
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SMALL) as pilot:
        await settle(app, pilot)
        app.push_screen(ChangeDetailScreen(key))
        await settle(app, pilot)
        keys = footer_keys(app)
        assert keys["Approve"] is True and keys["Reject"] is True
        assert keys["Start"] is False  # this stage's next step, greyed: not approved yet
        assert "Submit" not in keys and "Edit" not in keys  # another stage's: left out


async def test_a_closed_change_keeps_help_and_quit_in_an_80_column_footer(
    demo_store: Path,
) -> None:
    app = make_app(demo_store, login="ana")
    messages = Messages()
    async with app.run_test(size=SMALL, message_hook=messages) as pilot:
        await settle(app, pilot)
        async with await Store.open(demo_store) as store:
            closed = (await store.changes.find(states=("closed",)))[0]
        app.push_screen(ChangeDetailScreen(closed.key))
        await settle(app, pilot)
        keys = footer_keys(app)
        assert {"Back", "Help", "Quit"} <= set(keys)
        assert not {"Submit", "Approve", "Start", "Close"} & set(keys)
        for key in ("Help", "Quit"):  # drawn inside the 80 columns, not cut off
            widget = next(k for k in app.screen.query(FooterKey) if k.description == key)
            assert widget.region.right <= SMALL[0] and widget.region.width > 0
        await pilot.press("S")  # still says why
        await settle(app, pilot)
        assert f"S: {closed.key} is closed; cannot submit it. Nothing more can happen to it" in (
            messages.said()
        )


# --- every screen: greyed in the footer, not hidden -------------------------------------


async def test_incident_actions_stay_in_the_footer_greyed_on_a_resolved_incident(
    demo_store: Path,
) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        app.run_command("inc INC-299")  # resolved
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        keys = footer_keys(app)
        assert keys["Ack"] is False and keys["Resolve"] is False  # there, greyed
        assert keys["Take"] is True and keys["New"] is True


async def test_a_read_only_console_greys_every_write_key_and_says_why(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana", read_only=True)
    messages = Messages()
    async with app.run_test(size=(120, 30), message_hook=messages) as pilot:
        await settle(app, pilot)
        expected = {
            "1": (QueueScreen, ["Ack", "Take", "Resolve", "New"], "a"),
            "2": (OncallScreen, ["Override", "Handoff note"], "n"),
            "3": (VendorsScreen, ["Re-poll"], "r"),
            "4": (ChangesScreen, ["New"], "n"),
        }
        for number, (kind, greyed, press) in expected.items():
            await pilot.press(number)
            await settle(app, pilot)
            assert isinstance(app.screen, kind)
            keys = footer_keys(app)
            for description in greyed:
                assert keys.get(description) is False, (kind.__name__, description, keys)
            assert keys["Filter"] is True
            before = len(messages.said())
            await pilot.press(press)
            await settle(app, pilot)
            assert isinstance(app.screen, kind)  # no form opened
            said = messages.said()[before:]
            assert any(m.startswith(f"{press}: the store is read-only") for m in said), said
        await pilot.press("b")
        await settle(app, pilot)
        assert any(m.startswith("b: this console is read-only") for m in messages.said()), (
            messages.said()
        )


async def test_remove_override_says_to_select_an_override(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    messages = Messages()
    async with app.run_test(size=(120, 30), message_hook=messages) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, OncallScreen)
        screen.table.move_to_key(next(r.key for r in screen.rows if not r.key.startswith("OVR-")))
        await pilot.press("d")
        await settle(app, pilot)
        assert "d: removing works on an override: select an OVR- row" in messages.said()
        assert isinstance(app.screen, OncallScreen)
