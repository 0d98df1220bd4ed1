"""Tokens named in config reach their own source and nothing else: not another host a
redirect points at, not an error line, the store, the audit log, the debug log, the CLI's
output or the screen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.vendor_detail import VendorDetailScreen
from tests.conftest import FIXED_NOW
from tests.status_server import status_server
from tests.waits import Messages, settle

SECRET = "s3cr3t-TOKEN-9f8e7d6c"
SUMMARY = "statuspage/github_summary_2020-04-02_major_incident.json"


def team(origin: str, elsewhere: str) -> str:
    def source(name: str, url: str, extra: str = "") -> str:
        return (f'[[sources]]\nname = "{name}"\nplugin = "statuspage"\nurl = "{url}"\n'
                f'vendor = "Acme"\ntimeout = "1s"\nretries = 0\n{extra}\n')  # fmt: skip

    return "[[vendors]]\nname = \"Acme\"\n" + "".join([
        source("redirected", f"{origin}/moved/api/v2/summary.json",
               'token_env = "OPS_TOKEN"\ntoken_header = "X-Api-Key"'),
        source("same-host", f"{origin}/here/api/v2/summary.json",
               'token_env = "OPS_TOKEN"'),
        source("refused", f"{origin}/denied/api/v2/summary.json", 'token_env = "OPS_TOKEN"'),
        source("unreachable", "http://127.0.0.1:9/api/v2/summary.json", 'token_env = "OPS_TOKEN"'),
        source("broken-token", f"{origin}/here/api/v2/summary.json", 'token_env = "BAD_TOKEN"'),
        source("elsewhere", f"{elsewhere}/api/v2/summary.json"),
    ])  # fmt: skip


def rows(app: OpsdeskApp) -> str:
    return "\n".join(" ".join(str(c) for c in r.cells) for r in app.screen.table.loaded_rows())


def test_tokens_stay_with_their_source_and_out_of_every_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPS_TOKEN", SECRET)
    monkeypatch.setenv("BAD_TOKEN", f"{SECRET}\nX-Injected: yes")
    with status_server() as origin, status_server() as other:
        other.serve("/api/v2/summary.json", SUMMARY)
        origin.serve("/moved/api/v2/summary.json", status=302,
                     location=f"{other.base}/api/v2/summary.json")  # fmt: skip
        origin.serve("/here/api/v2/summary.json", SUMMARY)
        origin.serve("/denied/api/v2/summary.json", status=401, body=b"bad token")
        config, store, log = tmp_path / "team.toml", tmp_path / "s.db", tmp_path / "debug.log"
        config.write_text(team(origin.base, other.base))
        base = ["--config", str(config), "--store", str(store), "--log-file", str(log), "-vv"]
        outputs = []
        for argv in (["poll", "--once", "--json"], ["poll", "--once", "--force"],
                     ["vendors", "status", "--json"], ["vendors", "status"], ["vendors", "list"],
                     ["config", "check"], ["info"], ["audit"]):  # fmt: skip
            run([*base, *argv])
            captured = capsys.readouterr()
            outputs.append(captured.out + captured.err)
    sent = {h.get("X-Api-Key") or h.get("Authorization") for h in origin.headers}
    assert f"Bearer {SECRET}" in sent and SECRET in sent  # the token is really used
    assert all(SECRET not in str(h) for h in other.headers)  # but never follows a redirect
    assert "X-Injected" not in str(origin.headers)
    everything = "\n".join(outputs)
    assert "redirected" in everything and "broken-token" in everything
    assert "control characters" in everything  # the bad token is refused, not sent
    assert SECRET not in everything
    assert log.exists() and SECRET not in log.read_text()
    conn = sqlite3.connect(store)
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert SECRET not in dump


async def test_tokens_never_reach_the_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPS_TOKEN", SECRET)
    monkeypatch.setenv("BAD_TOKEN", f"{SECRET}\n")
    with status_server() as origin, status_server() as other:
        other.serve("/api/v2/summary.json", SUMMARY)
        origin.serve("/here/api/v2/summary.json", SUMMARY)
        origin.serve("/denied/api/v2/summary.json", status=401, body=SECRET.encode())
        config = tmp_path / "team.toml"
        config.write_text(team(origin.base, other.base))
        # The console polls every source once as it starts (its timer would poll again
        # an hour later); settle() waits for that poll and looks at the change feed.
        app = OpsdeskApp(Options(config=str(config), store=str(tmp_path / "s.db")),
                         clock=lambda: FIXED_NOW, poll_interval=3600, feed_interval=3600,
                         handle_hangup=False)  # fmt: skip
        messages = Messages()
        async with app.run_test(size=(120, 40), message_hook=messages) as pilot:
            await pilot.press("3")
            await settle(app, pilot)
            screens = [rows(app)]
            app.push_screen(VendorDetailScreen("Acme"))
            await settle(app, pilot)
            screens.append("\n".join(str(w.render()) for w in app.screen.query("Static")))
            said = messages.said()
    text = "\n".join(screens + said)
    assert "control characters" in text and "HTTP 401" in text
    assert SECRET not in text
