"""`opsdesk review ...` through the real command line, clock pinned: the review gate on
closing a P1 (refused, naming the review, until a lead accepts one), what is due and
overdue in business days, the prefilled facts, the --json shape, and the Markdown
document rendering untrusted text literally."""

from __future__ import annotations

import json
import re
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
[reviews]
required_for = ["P1", "P2"]
due_business_days = 2
"""


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(FIXED_NOW, tick=False) as traveller:  # a Wednesday
        yield traveller


@pytest.fixture
def opsdesk(tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str], clock: Any) -> Call:
    lead = tmp_path / "lead.toml"
    lead.write_text(TEAM.format(me=me, roles=f'[roles]\nlead = ["{me}"]'), encoding="utf-8")
    engineer = tmp_path / "engineer.toml"
    engineer.write_text(TEAM.format(me=me, roles=""), encoding="utf-8")
    store = tmp_path / "s.db"

    def call(*argv: str, as_lead: bool = False) -> tuple[int, Any]:
        config = lead if as_lead else engineer
        try:
            code = run(["--config", str(config), "--store", str(store), *argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        if "--json" in argv and code == 0:
            return code, json.loads(captured.out)
        return code, (captured.out if code == 0 else captured.err)

    return call


def resolved_p1(opsdesk: Call, title: str = "Checkout down for everyone") -> str:
    code, out = opsdesk(
        "incident", "new", "--title", title, "--service", "checkout",
        "--impact", "1", "--urgency", "1", "--json",
    )  # fmt: skip
    assert code == 0 and out["priority"] == "P1", out
    key = str(out["key"])
    assert opsdesk("incident", "ack", key)[0] == 0
    assert opsdesk("incident", "resolve", key, "--code", "fixed", "--note", "rolled back")[0] == 0
    return key


def test_closing_a_p1_needs_an_accepted_review(opsdesk: Call, clock: Any) -> None:
    key = resolved_p1(opsdesk)

    code, out = opsdesk("incident", "close", key)
    assert code == 1
    assert "needs an accepted post-incident review" in out and "no review yet" in out
    assert f"opsdesk review show {key}" in out

    code, out = opsdesk("review", "accept", key, as_lead=True)
    assert code == 1 and "no review yet" in out

    code, out = opsdesk(
        "review", "edit", key, "--customers", "all EU shoppers", "--duration-minutes", "42",
        "--sla-breached", "yes", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert out["state"] == "draft" and out["version"] == 1
    assert out["customers"] == "all EU shoppers" and out["duration_minutes"] == 42
    assert out["sla_breached"] is True

    code, out = opsdesk("incident", "close", key)
    assert code == 1 and "its review is a draft" in out
    code, out = opsdesk("review", "accept", key, as_lead=True)
    assert code == 1 and "no summary" in out

    code, out = opsdesk(
        "review", "edit", key, "--summary", "A bad deploy broke checkout.",
        "--root-cause", "a config typo", "--contributing-factors", "no canary",
        "--went-well", "fast rollback", "--lucky", "low traffic", "--version", "1",
    )  # fmt: skip
    assert code == 0 and f"review of {key} saved (draft, v2)" in out
    code, out = opsdesk("review", "edit", key, "--lucky", "late", "--version", "1")
    assert code == 1
    code, out = opsdesk("review", "edit", key, "--duration-minutes", "-3")
    assert code == 2

    # Accepting needs the lead role: an engineer is refused, a lead accepts.
    code, out = opsdesk("review", "accept", key)
    assert code == 1 and "lead" in out
    code, out = opsdesk("review", "accept", key, "--json", as_lead=True)
    assert code == 0 and out["state"] == "accepted" and out["accepted_at"]
    code, out = opsdesk("review", "edit", key, "--summary", "rewritten")
    assert code == 1 and "it is final" in out

    code, out = opsdesk("incident", "close", key)
    assert code == 0 and "closed" in out


def test_review_show_prefills_the_facts(opsdesk: Call, clock: Any) -> None:
    key = resolved_p1(opsdesk)
    code, text = opsdesk("review", "show", key)
    assert code == 0
    assert f"review of {key}  P1  Checkout down for everyone" in text
    assert "review due" in text and "acknowledged after" in text
    assert "summary: —" in text
    assert "rolled back" in text  # the incident's timeline

    code, doc = opsdesk("review", "show", key, "--json")
    assert code == 0
    assert set(doc) >= {
        "incident", "status", "time_to_acknowledge_seconds", "time_to_resolve_seconds",
        "timeline", "pages", "linked_changes", "changes_before", "vendor_status", "problem",
        "review", "actions",
    }  # fmt: skip
    assert doc["incident"]["key"] == key and doc["review"] is None
    assert doc["status"]["state"] == "due"
    assert doc["time_to_resolve_seconds"] == 0  # the clock is pinned
    code, _out = opsdesk("review", "show", key, "--json", "--markdown")
    assert code == 2

    code, _ = opsdesk(
        "action", "add", "--title", "Canary deploys", "--type", "prevent", "--owner", "ana",
        "--incident", key,
    )  # fmt: skip
    assert code == 0
    code, doc = opsdesk("review", "show", key, "--json")
    assert [a["key"] for a in doc["actions"]] == ["ACT-1"]
    code, text = opsdesk("review", "show", key)
    assert "Canary deploys" in text


def test_review_due_lists_overdue_first(opsdesk: Call, clock: Any) -> None:
    clock.move_to(FIXED_NOW - timedelta(days=7))
    old = resolved_p1(opsdesk, "Old outage")
    clock.move_to(FIXED_NOW)
    new = resolved_p1(opsdesk, "New outage")
    code, out = opsdesk("incident", "new", "--title", "minor", "--service", "checkout", "--json")
    assert out["priority"] not in ("P1", "P2")

    code, due = opsdesk("review", "due", "--json")
    assert code == 0
    assert [(d["incident"], d["state"]) for d in due] == [(old, "overdue"), (new, "due")]
    # Two business days after Wednesday the 25th: the end of Friday the 27th (UTC).
    assert due[1]["due"] == "2026-11-28T00:00:00Z"
    code, text = opsdesk("review", "due")
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["incident", "pri", "review", "due"]
    assert "OVERDUE" in lines[1] and old in lines[1]


def test_markdown_renders_untrusted_text_literally(opsdesk: Call) -> None:
    title = "`rm -rf` [click](javascript:alert(1)) <script>x</script> \x1b[31mred\x1b]0;pwn\x07"
    key = resolved_p1(opsdesk, title)
    code, out = opsdesk(
        "review", "edit", key, "--summary", "<img src=x onerror=alert(1)> | # not a heading",
        "--root-cause", "*bold* _it_ \x1b[2J",
    )  # fmt: skip
    assert code == 0, out

    code, doc = opsdesk("review", "show", key, "--markdown")
    assert code == 0
    assert "\x1b" not in doc and "\x07" not in doc
    assert "<script>" not in doc and "<img" not in doc
    assert "&lt;script&gt;" in doc and "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;" in doc
    assert "\\`rm \\-rf\\` \\[click\\]\\(javascript\\:alert\\(1\\)\\)" in doc
    assert "\\*bold\\* \\_it\\_" in doc
    heading = doc.splitlines()[0]
    assert heading.startswith(f"# Post-incident review: {key.replace('-', chr(92) + '-')} ")
    assert "\\| \\# not a heading" in doc
    # No raw Markdown link, code span or HTML tag survives anywhere.
    assert not re.search(r"(?<!\\)\[click(?<!\\)\]", doc)
    assert not re.search(r"(?<!\\)`", doc)

    # The terminal view and JSON are clean too.
    code, text = opsdesk("review", "show", key)
    assert code == 0 and "\x1b" not in text
    code, data = opsdesk("review", "show", key, "--json")
    assert "\x1b" not in json.dumps(data)
