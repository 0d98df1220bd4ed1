"""`opsdesk problem ...`, `opsdesk action ...` and the problem in `incident show`, through
the real command line on a store in tmp_path with the clock pinned: the lifecycle with
refusals that name the allowed moves, closing by a lead only, candidates from recurring
incidents accepted in one step, known errors shown on a new incident, action items, and
the --json shapes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from opsdesk.console.cli import run
from tests.conftest import FIXED_NOW

Call = Callable[..., tuple[int, Any]]

TEAM = """
[[people]]
login = "{me}"
[[people]]
login = "ana"
{roles}
[[services]]
name = "checkout"
[[services]]
name = "wiki"
[problems]
min_incidents = 3
window = "30d"
title_similarity = 0.5
[reviews]
required_for = []
"""


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(FIXED_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opsdesk(tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str], clock: Any) -> Call:
    """Run opsdesk as the current OS user: a lead (`as_lead=True`) or an engineer."""
    lead = tmp_path / "lead.toml"
    lead.write_text(TEAM.format(me=me, roles=f'[roles]\nlead = ["{me}"]'), encoding="utf-8")
    engineer = tmp_path / "engineer.toml"
    engineer.write_text(TEAM.format(me=me, roles=""), encoding="utf-8")
    store = tmp_path / "s.db"

    def call(*argv: str, as_lead: bool = False) -> tuple[int, Any]:
        config = lead if as_lead else engineer
        try:
            code = run(["--config", str(config), "--store", str(store), *argv])
        except SystemExit as exc:  # argparse: a usage mistake
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        if "--json" in argv and code == 0:
            return code, json.loads(captured.out)
        return code, (captured.out if code == 0 else captured.err)

    return call


def new_incident(opsdesk: Call, title: str, service: str = "checkout") -> str:
    code, out = opsdesk("incident", "new", "--title", title, "--service", service, "--json")
    assert code == 0, out
    return str(out["key"])


def test_the_whole_problem_flow(opsdesk: Call, me: str) -> None:
    first = new_incident(opsdesk, "Checkout 502 after deploy")
    second = new_incident(opsdesk, "Wiki search slow", "wiki")

    code, made = opsdesk(
        "problem", "new", "--title", "Checkout 502s", "--service", "checkout",
        "--owner", "ana", "--incident", first, "--json",
    )  # fmt: skip
    assert code == 0, made
    assert made["key"] == "PRB-1" and made["state"] == "new" and made["owner"] == "ana"
    assert [i["key"] for i in made["incidents"]] == [first]
    assert made["timeline"][0]["kind"] == "created"

    code, out = opsdesk("problem", "link", "PRB-1", second)
    assert code == 0 and out.strip() == "PRB-1 linked to INC-2 (state new, v1)"
    code, out = opsdesk("problem", "link", "PRB-1", second)
    assert code == 1 and "already linked to this problem" in out
    code, out = opsdesk("problem", "unlink", "PRB-1", second, "--json")
    assert code == 0 and [i["key"] for i in out["incidents"]] == [first]

    # A refused move names the allowed ones; an unknown state is a usage mistake.
    code, out = opsdesk("problem", "move", "PRB-1", "resolved")
    assert code == 1
    assert out.strip() == (
        "opsdesk: PRB-1 is new; cannot move it to resolved. Allowed: under_investigation, closed"
    )
    code, out = opsdesk("problem", "move", "PRB-1", "fixed")
    assert code == 2 and "not a problem state" in out

    code, out = opsdesk("problem", "move", "PRB-1", "under-investigation", "--json")
    assert code == 0 and out["state"] == "under_investigation" and out["version"] == 2
    # A stale version is refused with who changed it.
    code, out = opsdesk("problem", "assign", "PRB-1", me, "--version", "1")
    assert code == 1 and "since you looked" in out
    code, out = opsdesk("problem", "assign", "PRB-1", "nobody")
    assert code == 2 and "unknown login" in out
    code, out = opsdesk("problem", "assign", "PRB-1", me, "--version", "2")
    assert code == 0 and f"assigned to {me}" in out

    code, out = opsdesk("problem", "move", "PRB-1", "known_error")
    assert code == 1 and "needs a workaround" in out
    code, out = opsdesk(
        "problem", "edit", "PRB-1", "--root-cause", "pool too small",
        "--workaround", "restart the web tier", "--json",
    )  # fmt: skip
    assert code == 0 and out["workaround"] == "restart the web tier"
    code, out = opsdesk("problem", "edit", "PRB-1")
    assert code == 2 and "give what to change" in out
    code, out = opsdesk("problem", "edit", "PRB-1", "--fix", "CHG-9")
    assert code == 1 and "no such change" in out

    for state in ("root_cause_known", "known_error", "resolved"):
        code, out = opsdesk("problem", "move", "PRB-1", state, "--note", f"now {state}")
        assert code == 0, out
    code, out = opsdesk("problem", "note", "PRB-1", "fix deployed everywhere")
    assert code == 0 and "note added" in out

    # Closing needs the lead role: an engineer is refused (exit 1), a lead closes it.
    code, out = opsdesk("problem", "close", "PRB-1")
    assert code == 1 and "lead" in out
    code, out = opsdesk("problem", "close", "PRB-1", "--note", "done", "--json", as_lead=True)
    assert code == 0 and out["state"] == "closed" and out["closed_at"]
    code, out = opsdesk("problem", "move", "PRB-1", "under_investigation")
    assert code == 1 and "Allowed: nothing (it is closed)" in out

    code, shown = opsdesk("problem", "show", "PRB-1", "--json")
    assert code == 0
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[:3] == ["created", "linked", "unlinked"] and "note" in kinds
    assert set(shown) >= {"key", "title", "services", "state", "owner", "root_cause",
                          "workaround", "fix", "incidents", "timeline", "actions", "version"}  # fmt: skip

    code, text = opsdesk("problem", "show", "PRB-1")
    assert code == 0
    assert "PRB-1  closed  Checkout 502s" in text
    assert "restart the web tier" in text and "pool too small" in text
    assert "fix deployed everywhere" in text

    # Listing: open ones by default, closed ones with --all or --state.
    code, out = opsdesk("problem", "list", "--json")
    assert code == 0 and out == []
    code, out = opsdesk("problem", "list", "--all", "--json")
    assert [p["key"] for p in out] == ["PRB-1"] and out[0]["incident_count"] == 1
    code, out = opsdesk("problem", "list", "--state", "closed")
    assert code == 0 and "PRB-1" in out and "incidents" in out.splitlines()[0]

    # The incident shows the problem it belongs to, and its workaround.
    code, out = opsdesk("incident", "show", first, "--json")
    assert out["problem"] == {
        "key": "PRB-1", "title": "Checkout 502s", "state": "closed",
        "workaround": "restart the web tier",
    }  # fmt: skip
    assert out["known_error"] is None
    code, out = opsdesk("incident", "show", second, "--json")
    assert out["problem"] is None and out["known_error"] is None
    code, text = opsdesk("incident", "show", first)
    assert "problem PRB-1 (closed): Checkout 502s" in text
    assert "workaround: restart the web tier" in text


def test_candidates_from_recurring_incidents_accepted_in_one_step(
    opsdesk: Call, clock: Any
) -> None:
    titles = [
        "Checkout latency p95 above 2s on web-1",
        "checkout latency p95 above 2s (web-2)",
        "Checkout latency p95 above 2s on web-7",
    ]
    keys = []
    for days, title in zip((3, 2, 1), titles, strict=True):
        clock.move_to(FIXED_NOW - timedelta(days=days))
        keys.append(new_incident(opsdesk, title))
    new_incident(opsdesk, "Wiki page missing", "wiki")
    clock.move_to(FIXED_NOW)

    code, found = opsdesk("problem", "candidates", "--json")
    assert code == 0
    [candidate] = found
    assert candidate["id"] == "C-1" and candidate["incidents"] == keys
    assert candidate["kind"] == "title" and candidate["fingerprint"] is None
    assert candidate["reason"] == (
        "3 incidents on checkout in 30 days whose titles share 'checkout latency p95 above 2s'"
    )
    code, text = opsdesk("problem", "candidates")
    assert "C-1: 3 incidents on checkout in 30 days" in text
    assert "INC-1, INC-2, INC-3" in text

    code, out = opsdesk("problem", "accept", "C-9")
    assert code == 2 and "no candidate 'C-9'" in out
    code, made = opsdesk(
        "problem", "accept", "c-1", "--title", "Checkout latency", "--owner", "ana", "--json"
    )
    assert code == 0, made
    assert made["title"] == "Checkout latency" and made["services"] == ["checkout"]
    assert [i["key"] for i in made["incidents"]] == keys
    assert "accepted candidate C-1: 3 incidents on checkout" in made["timeline"][0]["detail"]

    # Its incidents are in a problem now: no candidate any more, nothing to accept twice.
    code, found = opsdesk("problem", "candidates", "--json")
    assert found == []
    code, text = opsdesk("problem", "candidates")
    assert "no candidates" in text
    code, out = opsdesk("problem", "accept", "C-1")
    assert code == 2 and "there are no candidates now" in out


def test_a_new_incident_like_a_known_error_shows_its_workaround(opsdesk: Call) -> None:
    opsdesk("problem", "new", "--title", "Checkout latency p95", "--service", "checkout")
    opsdesk("problem", "move", "PRB-1", "under_investigation")
    opsdesk("problem", "edit", "PRB-1", "--workaround", "drain web-7\x1b[31m and restart")
    assert opsdesk("problem", "move", "PRB-1", "known_error")[0] == 0

    key = new_incident(opsdesk, "Checkout latency p95 above 2s")
    _code, out = opsdesk("incident", "show", key, "--json")
    assert out["problem"] is None
    assert out["known_error"] == {
        "key": "PRB-1", "title": "Checkout latency p95", "state": "known_error",
        "workaround": "drain web-7 and restart",
        "reason": "on checkout, its title shares 'checkout latency p95' with PRB-1",
    }  # fmt: skip
    _, text = opsdesk("incident", "show", key)
    assert "looks like known error PRB-1" in text
    assert "workaround: drain web-7 and restart" in text
    assert "\x1b" not in text


def test_untrusted_text_in_problem_tables_is_one_line(opsdesk: Call) -> None:
    title = "Evil\x1b]0;pwned\x07 title\u202e with bidi"
    code, _ = opsdesk("problem", "new", "--title", title, "--service", "checkout")
    assert code == 0
    opsdesk("problem", "note", "PRB-1", "line one\nline two\x1b[2J")
    for argv in (("problem", "list"), ("problem", "show", "PRB-1")):
        code, text = opsdesk(*argv)
        assert code == 0
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    code, text = opsdesk("problem", "show", "PRB-1")
    assert "line one line two" in text  # a note is one line on the timeline


def test_action_items_add_list_overdue_done(opsdesk: Call, me: str) -> None:
    key = new_incident(opsdesk, "Checkout down")
    opsdesk("problem", "new", "--title", "Checkout down", "--service", "checkout")

    code, late = opsdesk(
        "action", "add", "--title", "Alert on pool saturation", "--type", "detect",
        "--owner", "ana", "--incident", key, "--due", "2026-11-20", "--json",
    )  # fmt: skip
    assert code == 0, late
    assert late["key"] == "ACT-1" and late["overdue"] is True and late["state"] == "open"
    assert late["incident"] == key and late["due"] == "2026-11-20"
    code, soon = opsdesk(
        "action", "add", "--title", "Bigger pool", "--type", "prevent", "--owner", me,
        "--problem", "PRB-1", "--due", "2026-12-20", "--json",
    )  # fmt: skip
    assert code == 0 and soon["overdue"] is False and soon["problem"] == "PRB-1"

    code, out = opsdesk("action", "add", "--title", "x", "--type", "prevent", "--owner", "ana")
    assert code == 2 and "--incident" in out
    code, out = opsdesk(
        "action", "add", "--title", "x", "--type", "prevent", "--owner", "zed", "--incident", key
    )
    assert code == 2 and "unknown login" in out
    code, out = opsdesk("action", "add", "--title", "x", "--type", "fix", "--owner", "ana")
    assert code == 2
    code, out = opsdesk(
        "action", "add", "--title", "x", "--type", "prevent", "--owner", "ana", "--due", "soon"
    )
    assert code == 2 and "expected a date" in out

    code, out = opsdesk("action", "list", "--json")
    assert [a["key"] for a in out] == ["ACT-1", "ACT-2"]  # earliest due first
    code, out = opsdesk("action", "list", "--overdue", "--json")
    assert [a["key"] for a in out] == ["ACT-1"]
    code, out = opsdesk("action", "list", "--mine", "--json")
    assert [a["key"] for a in out] == ["ACT-2"]
    code, out = opsdesk("action", "list", "--problem", "PRB-1", "--json")
    assert [a["key"] for a in out] == ["ACT-2"]
    code, text = opsdesk("action", "list")
    assert "OVERDUE 2026-11-20" in text and "Alert on pool saturation" in text

    code, out = opsdesk("action", "done", "ACT-1", "--json")
    assert code == 0 and out["state"] == "done" and out["overdue"] is False
    code, out = opsdesk("action", "done", "ACT-1")
    assert code == 1 and "already done" in out
    code, out = opsdesk("action", "list", "--json")
    assert [a["key"] for a in out] == ["ACT-2"]
    code, out = opsdesk("action", "list", "--state", "all", "--json")
    assert [a["key"] for a in out] == ["ACT-1", "ACT-2"]
    code, out = opsdesk("action", "list", "--state", "done", "--json")
    assert [a["key"] for a in out] == ["ACT-1"]

    code, out = opsdesk("action", "edit", "ACT-2", "--no-due", "--owner", "ana", "--json")
    assert code == 0 and out["due"] is None and out["owner"] == "ana" and out["version"] == 2
    code, out = opsdesk("action", "edit", "ACT-2", "--title", "Bigger", "--version", "1")
    assert code == 1 and "since you looked" in out
    code, out = opsdesk("action", "edit", "ACT-2")
    assert code == 2 and "nothing to change" in out

    # The problem shows its action items.
    code, out = opsdesk("problem", "show", "PRB-1", "--json")
    assert [a["key"] for a in out["actions"]] == ["ACT-2"]


def test_reading_commands_leave_no_store_behind(opsdesk: Call, tmp_path: Path) -> None:
    for argv in (
        ("problem", "list", "--json"), ("problem", "candidates", "--json"),
        ("action", "list", "--json"), ("review", "due", "--json"),
    ):  # fmt: skip
        code, out = opsdesk(*argv)
        assert code == 0 and out == []
    assert not (tmp_path / "s.db").exists()
