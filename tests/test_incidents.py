"""Incident operations through the CLI, with the clock pinned by time-machine, on both
backends (`cli_store` below)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.incidents import IncidentOps, Refused
from opsdesk.store import Actor
from tests.conftest import START
from tests.store_backends import cli_store_as, open_as

REQUIRED = {
    "key", "title", "service", "impact", "urgency", "priority", "state", "assignee",
    "created_at", "acknowledged_at", "resolved_at", "response_due", "resolve_due",
    "response_breached", "resolve_breached", "version",
}  # fmt: skip


@pytest.fixture
def cli_store(store_location: str, me: str) -> str:
    """conftest's `cli` on SQLite and on PostgreSQL, as `me`."""
    return cli_store_as(store_location, me)


def test_lifecycle_with_sla_clocks(cli, me: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False) as clock:
        code, created = cli("incident", "new", "--title", "Card auth failing", "--service",
                            "payments", "--impact", "1", "--urgency", "1", "--json")  # fmt: skip
        assert code == 0
        assert set(created) >= REQUIRED
        assert (created["key"], created["priority"], created["state"]) == ("INC-1", "P1", "new")
        assert created["response_due"] == "2026-11-23T14:15:00Z"
        assert created["resolve_due"] == "2026-11-23T18:00:00Z"

        clock.shift(timedelta(minutes=10))
        code, acked = cli("incident", "ack", "INC-1", "--json")
        assert acked["state"] == "acknowledged" and acked["assignee"] == me
        assert acked["acknowledged_at"] == "2026-11-23T14:10:00Z"
        assert acked["response_breached"] is False and acked["response_due"] is None

        code, err = cli("incident", "resume", "INC-1")
        assert code == 1
        assert (
            err
            == "opsdesk: INC-1 is acknowledged; cannot resume it. Allowed: start, hold, resolve\n"
        )

        clock.shift(timedelta(minutes=50))
        assert cli("incident", "hold", "INC-1", "--reason", "awaiting_vendor")[0] == 0
        clock.shift(timedelta(hours=2))
        code, shown = cli("incident", "show", "INC-1", "--json")
        resolve = shown["resolve_clock"]
        assert resolve["state"] == "paused"
        assert resolve["reason"] == "paused: on hold (awaiting vendor)"
        assert resolve["elapsed"] == "1h"
        assert shown["resolve_due"] is None

        assert cli("incident", "resume", "INC-1")[0] == 0
        code, shown = cli("incident", "show", "INC-1", "--json")
        assert shown["resolve_due"] == "2026-11-23T20:00:00Z"  # 3 h left, paused for 2 h

        clock.shift(timedelta(hours=4))
        code, listed = cli("incident", "list", "--breached", "--json")
        assert [i["key"] for i in listed] == ["INC-1"]
        assert listed[0]["resolve_breached"] is True

        code, resolved = cli("incident", "resolve", "INC-1", "--code", "fixed", "--note",
                             "failed over to the standby", "--json")  # fmt: skip
        assert resolved["state"] == "resolved"
        assert resolved["resolve_breached"] is True
        assert cli("incident", "csat", "INC-1", "4")[0] == 0
        clock.shift(timedelta(days=8))
        code, err = cli("incident", "reopen", "INC-1")
        assert code == 1 and "resolved 8 days ago; incidents can be reopened for 7 days" in err
        assert cli("incident", "close", "INC-1")[0] == 0
        code, shown = cli("incident", "show", "INC-1", "--json")
        kinds = [(e["kind"], e["state"]) for e in shown["timeline"]]
        assert kinds == [("created", "new"), ("state", "acknowledged"), ("state", "on_hold"),
                         ("state", "in_progress"), ("state", "resolved"), ("csat", None),
                         ("state", "closed")]  # fmt: skip
        assert shown["csat"] == 4 and shown["version"] == 7


def test_take_assign_priority_note_and_audit(cli, me: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False):
        cli("incident", "new", "--title", "Wiki slow", "--service", "wiki")
        code, taken = cli("incident", "take", "INC-1", "--json")
        assert (taken["state"], taken["assignee"]) == ("acknowledged", me)
        assert cli("incident", "assign", "INC-1", "ana")[0] == 0
        code, err = cli("incident", "assign", "INC-1", "anna")
        assert (code, err) == (2, "opsdesk: unknown login 'anna' (did you mean \"ana\"?)\n")
        code, raised = cli(
            "incident", "priority", "INC-1", "--impact", "1", "--urgency", "2", "--json"
        )
        assert raised["priority"] == "P2"
        assert cli("incident", "note", "INC-1", "Restarted the cache \x1b[2J")[0] == 0
        code, shown = cli("incident", "show", "INC-1", "--json")
        timeline = [(e["kind"], e["actor"], e["detail"]) for e in shown["timeline"]]
        assert ("assigned", me, "ana") in timeline
        assert ("priority", me, "P4 → P2 (impact 1, urgency 2)") in timeline
        assert ("note", me, "Restarted the cache ") in timeline  # escape sequence removed
        code, text = cli("incident", "show", "INC-1")
        assert "\x1b" not in text
        code, audit = cli("audit", "--entity", "INC-1", "--json")
        actions = [a["action"] for a in audit]
        assert actions == ["incident.create", "incident.take", "incident.assign",
                           "incident.priority", "incident.note"]  # fmt: skip
        assert audit[2]["before"]["assignee"] == me and audit[2]["after"]["assignee"] == "ana"


def test_unknown_things_are_one_line_errors(cli) -> None:  # type: ignore[no-untyped-def]
    code, err = cli("incident", "new", "--title", "x", "--service", "paymnts")
    assert (code, err) == (2, "opsdesk: unknown service 'paymnts' (did you mean \"payments\"?)\n")
    code, err = cli("incident", "show", "INC-404")
    assert (code, err) == (1, "opsdesk: INC-404: no such incident\n")
    code, err = cli("incident", "ack", "banana")
    assert (code, err) == (1, "opsdesk: 'banana' is not an incident key (expected INC-<number>)\n")
    with pytest.raises(SystemExit) as done:
        cli("incident", "new", "--title", "x", "--service", "wiki", "--impact", "5")
    assert done.value.code == 2


def test_list_filters_and_urgency_order(cli, me: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False) as clock:
        cli("incident", "new", "--title", "low", "--service", "wiki")
        cli(
            "incident",
            "new",
            "--title",
            "urgent",
            "--service",
            "payments",
            "--impact",
            "1",
            "--urgency",
            "1",
        )
        cli(
            "incident",
            "new",
            "--title",
            "50% off bug",
            "--service",
            "payments",
            "--impact",
            "2",
            "--urgency",
            "2",
        )
        cli("incident", "take", "INC-3")
        clock.shift(timedelta(minutes=20))
        _, listed = cli("incident", "list", "--json")
        assert [i["key"] for i in listed] == ["INC-2", "INC-3", "INC-1"]  # triage: P1, P3, P4
        assert listed[0]["response_breached"] is True
        _, listed = cli("incident", "list", "--sort", "urgency", "--json")
        assert [i["key"] for i in listed] == ["INC-2", "INC-1", "INC-3"]  # by nearest due
        assert [i["key"] for i in cli("incident", "list", "--mine", "--json")[1]] == ["INC-3"]
        assert [i["key"] for i in cli("incident", "list", "--priority", "P1", "--json")[1]] == [
            "INC-2"
        ]
        assert [i["key"] for i in cli("incident", "list", "--search", "50%", "--json")[1]] == [
            "INC-3"
        ]
        assert [i["key"] for i in cli("incident", "list", "--search", "inc-1", "--json")[1]] == [
            "INC-1"
        ]
        by_title = cli("incident", "list", "--sort", "title", "--json")[1]
        assert [i["title"] for i in by_title] == ["50% off bug", "low", "urgent"]
        newest = cli("incident", "list", "--sort", "key", "--reverse", "--json")[1]
        assert [i["key"] for i in newest] == ["INC-3", "INC-2", "INC-1"]
        cli("incident", "resolve", "INC-1", "--code", "duplicate", "--note", "dup of INC-2")
        assert "INC-1" not in [i["key"] for i in cli("incident", "list", "--json")[1]]
        assert "INC-1" in [i["key"] for i in cli("incident", "list", "--all", "--json")[1]]


async def test_a_stale_version_is_refused_and_nothing_is_lost(store_location: str) -> None:
    config = parse_text('[[services]]\nname = "payments"\n', "test")
    async with (
        await open_as(store_location, "ana") as store,
        await open_as(store_location, "ben") as bens,
    ):
        ana = IncidentOps(store, config, Actor("ana"))
        ben = IncidentOps(bens, config, Actor("ben"))
        created = await ana.create("db down", "payments", START)
        seen_by_ben = (await ben.view(created.key, START)).incident.version
        await ana.take(created.key, START + timedelta(minutes=1))
        with pytest.raises(Refused, match="INC-1 was changed by ana since you looked"):
            await ben.transition(
                created.key, "resolve", START, code="fixed", note="x", version=seen_by_ben
            )
        fresh = await store.incidents.get(created.key)
        assert (fresh.state, fresh.assignee) == ("acknowledged", "ana")
