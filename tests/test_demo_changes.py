"""The demo's changes carry the history the operations would have written: each step is
one the rules allow, taken by someone allowed to take it, in time order, and the change
ends where its history does (not a bare row the change detail has nothing to say about)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from opsdesk.console.config.loader import parse_sources
from opsdesk.console.domain.change_rules import VERBS, rule_for, still_needed
from opsdesk.console.ops.demo_changes import change_history
from opsdesk.console.ops.demo_team import demo_config
from opsdesk.store import Store
from tests.conftest import FIXED_NOW


def _allowed(before: str, after: str) -> bool:
    if before == "submitted" and after == "scheduled":  # the last approval schedules it
        return True
    if before == "draft" and after == "scheduled":  # a standard change is pre-approved
        return True
    return any(before in starts and after == to for starts, to in VERBS.values())


def test_every_demo_change_has_a_history_the_rules_allow(demo_store: Path, me: str) -> None:
    config = parse_sources([("demo config", demo_config(me))])

    async def read() -> list[tuple[object, list[object], list[object]]]:
        async with await Store.open(demo_store) as store:
            out = []
            for change in await store.changes.find(limit=None):
                events = await store.changes.events(change.key)
                approvals = await store.changes.approvals(change.key)
                out.append((change, events, approvals))
            return out

    found = asyncio.run(read())
    assert len(found) >= 40
    states = set()
    for change, events, approvals in found:
        key = change.key  # type: ignore[attr-defined]
        assert events[0].kind == "created" and events[0].actor == change.requester, key  # type: ignore[attr-defined]
        ats = [e.at for e in events]  # type: ignore[attr-defined]
        assert ats == sorted(ats) and ats[-1] <= FIXED_NOW, key
        state = "draft"
        for event in events[1:]:
            if event.state is not None:  # type: ignore[attr-defined]
                assert _allowed(state, event.state), (key, state, event.state)  # type: ignore[attr-defined]
                state = event.state  # type: ignore[attr-defined]
        assert state == change.state, key  # type: ignore[attr-defined]
        writes = [e for e in events if e.kind != "linked"]  # type: ignore[attr-defined]
        assert change.version == len(writes), key  # type: ignore[attr-defined]
        for approval in approvals:
            assert approval.actor not in (change.requester, me), key  # type: ignore[attr-defined]
        rule = rule_for(config, change.type, change.risk)  # type: ignore[attr-defined]
        if change.state in ("scheduled", "in_progress", "completed", "closed"):  # type: ignore[attr-defined]
            assert still_needed(rule, approvals).none, key  # type: ignore[arg-type]
        if change.state == "closed" and rule.review_after:  # type: ignore[attr-defined]
            assert any(a.decision == "review" for a in approvals), key  # type: ignore[attr-defined]
        if change.state == "closed":  # type: ignore[attr-defined]
            assert change.review, key  # type: ignore[attr-defined]
        states.add(change.state)  # type: ignore[attr-defined]
    # The demo shows a change at every stage a team meets.
    assert {"draft", "submitted", "scheduled", "closed", "failed", "rolled_back"} <= states


def test_a_change_waits_when_nobody_left_may_approve_it() -> None:
    """High risk needs 2 CAB and a lead; with the requester and the demo's user left out,
    ana fills the lead seat and cat one CAB seat, and nobody is left for the second: the
    history stops at submitted instead of inventing an approver."""
    config = parse_sources(
        [
            (
                "team",
                {
                    "people": [{"login": n} for n in ("me", "ana", "ben", "cat")],
                    "roles": {"lead": ["me", "ana"], "cab": ["me", "ana", "cat"]},
                    "changes": {
                        "approval_rules": [
                            {"type": "normal", "risk": ["high"], "cab": 2, "lead": 1}
                        ]
                    },
                },
            )
        ]
    )
    now = FIXED_NOW.timestamp()
    history = change_history(
        config, index=0, kind="normal", risk="high", requester="ben", implementer="ben",
        created=now - 86400 * 5, planned=now - 86400, end=now - 80000, now=now,
        state="closed", exclude=frozenset({"me"}),
    )  # fmt: skip
    assert history.state == "submitted"
    assert [a[0] for a in history.approvals] == ["ana", "cat"]


def test_change_show_tells_the_timeline_as_the_console_does(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from opsdesk.console.cli import run

    async def closed_emergency() -> str:
        async with await Store.open(demo_store) as store:
            found = await store.changes.find(states=("closed",), limit=None)
            return next(c.key for c in found if c.type == "emergency")

    key = asyncio.run(closed_emergency())
    capsys.readouterr()
    assert run(["--store", str(demo_store), "change", "show", key]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [line.split("  ", 2)[2].split(" — ")[0] for line in lines if line[:2] == "20"]
    assert steps[0] == "created" and steps[-1] == "closed", steps
    assert "approved → scheduled" in steps and "reviewed after the fact" in steps, steps
    assert steps.index("in progress") < steps.index("completed") < steps.index("closed")


def test_demo_changes_are_audited_as_the_operations_audit_them(demo_store: Path) -> None:
    async def actions() -> set[str]:
        async with await Store.open(demo_store) as store:
            rows = await store.audit.entries(entity="change", limit=100_000)
            return {row.action for row in rows}

    operations = {f"change.{verb}" for verb in VERBS} | {
        "change.create", "change.approve", "change.review", "change.link"
    }  # fmt: skip
    found = asyncio.run(actions())
    assert found <= operations, found - operations
    assert {"change.submit", "change.approve", "change.start", "change.close"} <= found
