"""`opsdesk page`, `opsdesk notify test`, `opsdesk notifications list` and `opsdesk serve`'s
start-up refusals, from the command line: one line and exit 2 for a mistake, 1 for a
refusal, and every page by hand audited."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import time_machine

from opsdesk.console.cli.main import run
from opsdesk.store import Store
from tests.conftest import FIXED_NOW

TEAM = """
[[people]]
login = "ana"
email = "ana@example.com"
ntfy = "ana-pages-7f3k"
[[people]]
login = "ben"
webhook = "https://chat.example/hooks/T0/B0/x"
[[people]]
login = "cruz"
[[services]]
name = "payments"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["ben"]
rotation = "1w"
start = "2026-11-02T00:00"
[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "OPSDESK_TEST_MISSING_SECRET"
"""


@pytest.fixture
def base(tmp_path: Path) -> list[str]:
    config = tmp_path / "team.toml"
    config.write_text(TEAM)
    return ["--config", str(config), "--store", str(tmp_path / "s.db")]


def out_json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_page_a_person_queues_every_method_and_is_audited(
    base: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with time_machine.travel(FIXED_NOW, tick=False):
        assert run([*base, "page", "--person", "ana", "--message", "need eyes on payments",
                    "--json"]) == 0  # fmt: skip
    queued = out_json(capsys)
    assert [(n["login"], n["method"], n["state"]) for n in queued] == [  # type: ignore[union-attr]
        ("ana", "email", "pending"), ("ana", "ntfy", "pending"),
    ]  # fmt: skip
    assert run([*base, "notifications", "list", "--json"]) == 0
    listed = out_json(capsys)
    assert len(listed) == 2  # type: ignore[arg-type]
    assert run([*base, "audit", "--json"]) == 0
    audit = out_json(capsys)
    pages = [row for row in audit if row["action"] == "page"]  # type: ignore[union-attr]
    assert pages and pages[0]["entity_key"] == "ana"
    assert pages[0]["after"]["message"] == "need eyes on payments"


def test_page_a_schedule_reaches_whoever_is_on_call(
    base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(FIXED_NOW, tick=False):
        assert run([*base, "incident", "new", "--title", "card auth down", "--service",
                    "payments"]) == 0  # fmt: skip
        capsys.readouterr()
        assert run([*base, "page", "--schedule", "platform", "--message", "join the bridge",
                    "--incident", "INC-1", "--json"]) == 0  # fmt: skip
    [page] = out_json(capsys)  # type: ignore[misc]
    assert (page["login"], page["method"], page["incident"]) == ("ben", "webhook", "INC-1")
    assert run([*base, "incident", "show", "INC-1", "--json"]) == 0
    shown = out_json(capsys)
    assert shown["notifications"][0]["login"] == "ben"  # type: ignore[index]
    assert shown["timeline"][-1]["kind"] == "paged"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["page", "--person", "zed", "--message", "x"], 2, "unknown login 'zed'"),
        (["page", "--person", "ana", "--message", "  "], 2, "a page needs a message"),
        (["page", "--schedule", "nope", "--message", "x"], 2, "unknown schedule 'nope'"),
        (["page", "--person", "cruz", "--message", "x"], 1, "cruz cannot be reached"),
        (["page", "--message", "x"], 2, "one of the arguments --person --schedule is required"),
        (["notify", "test", "--person", "cruz"], 1, "cruz has no email, ntfy, webhook"),
        (["serve"], 2, "OPSDESK_TEST_MISSING_SECRET is not set"),
        (["serve", "--listen", "8787"], 2, "--listen: expected HOST:PORT"),
    ],
)
def test_mistakes_and_refusals_are_one_line(
    base: list[str], capsys: pytest.CaptureFixture[str], args: list[str], code: int, said: str
) -> None:
    os.environ.pop("OPSDESK_TEST_MISSING_SECRET", None)
    try:
        got = run([*base, *args])
    except SystemExit as exc:  # argparse's own usage errors
        got = exc.code  # type: ignore[assignment]
    assert got == code
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()) == 1, err


def test_notify_test_sends_through_every_method(
    base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([*base, "notify", "test", "--person", "ana", "--json"]) == 0
    queued = out_json(capsys)
    assert [(n["method"], n["reason"]) for n in queued] == [  # type: ignore[union-attr]
        ("email", "test"), ("ntfy", "test"),
    ]  # fmt: skip


async def test_serve_refuses_a_link_key_others_can_read(
    base: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSDESK_TEST_MISSING_SECRET", "x")
    key = tmp_path / "serve.key"
    key.write_text("k" * 64)
    key.chmod(0o644)
    async with await Store.open(tmp_path / "s.db"):
        pass
    import asyncio

    assert await asyncio.to_thread(run, [*base, "serve", "--listen", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "the link key is open to others (mode 644)" in err and "chmod 600" in err
