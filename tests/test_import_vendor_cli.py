"""`opsdesk import pagerduty|opsgenie` end to end: from a real HTTP server on 127.0.0.1
paged as each API pages, into a checked drop-in and the store; from a saved folder; the
skipped-items report refusing to write without --allow-partial; an altered source rota
named difference by difference."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.cli import imports as cli_imports
from opsdesk.console.cli import run
from tests.import_server import api_server
from tests.import_vendor_cases import load_case, serve_opsgenie, serve_pagerduty

Capture = pytest.CaptureFixture[str]
SERVE: dict[str, Callable[..., None]] = {"pagerduty": serve_pagerduty, "opsgenie": serve_opsgenie}
HEADER = {"pagerduty": "Token token=s3cret", "opsgenie": "GenieKey s3cret"}
ZERO = timedelta(0)


@pytest.fixture
def team_config(tmp_path: Path, me: str) -> Path:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[roles]\nadmin = ["{me}"]\n[[people]]\nlogin = "{me}"\n')
    return config


def opsdesk(config: Path, tmp_path: Path, *argv: str) -> int:
    return run(["--config", str(config), "--store", str(tmp_path / "s.db"), *argv])


def pin(monkeypatch: pytest.MonkeyPatch, case: dict[str, Any], later: timedelta = ZERO) -> None:
    """Pin the clock at the case's `now` (+ `later`). `--verify` compares whole UTC days
    from that day's midnight, so the weeks compared must lie inside the case's."""
    at = datetime.fromisoformat(case["now"].replace("Z", "+00:00")) + later
    monkeypatch.setattr(cli_imports, "now", lambda: at)


@pytest.mark.parametrize(
    ("product", "name", "schedules"),
    [
        ("pagerduty", "weekly-dst", ["Platform weekly"]),
        ("opsgenie", "weekly-dst", ["Platform_weekly"]),
    ],
)
def test_imports_from_the_api_and_again_from_the_saved_folder(
    product: str,
    name: str,
    schedules: list[str],
    team_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Capture,
) -> None:
    case = load_case(product, name)
    pin(monkeypatch, case, timedelta(hours=1))  # compares 2027-03-22 to 2027-03-29, DST inside
    monkeypatch.setenv("VENDOR_TOKEN", "s3cret")
    saved = tmp_path / "export"
    with api_server(token=HEADER[product]) as server:
        SERVE[product](server, case, page_size=1)
        argv = ["import", product, "--url", server.base, "--token-env", "VENDOR_TOKEN",
                "--save-dir", str(saved), "--verify", "--weeks", "1", "--json", "--allow-partial"]  # fmt: skip
        code = opsdesk(team_config, tmp_path, *argv)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, json.dumps(report)
    assert report["verify"]["differences"] == []
    assert sorted(report["verify"]["schedules"]) == schedules
    assert report["written"] is True
    written = tomllib.loads((team_config.parent / f"conf.d/50-import-{product}.toml").read_text())
    assert sorted(s["name"] for s in written["schedules"]) == schedules
    assert opsdesk(team_config, tmp_path, "config", "check") == 0
    capsys.readouterr()
    # The saved folder imports the same, fetching nothing.
    argv = ["import", product, "--from-dir", str(saved), "--verify", "--dry-run", "--json",
            "--allow-partial"]  # fmt: skip
    assert opsdesk(team_config, tmp_path, *argv) == 0
    assert json.loads(capsys.readouterr().out)["verify"]["differences"] == []


def test_skipped_items_refuse_the_write_until_allow_partial(
    team_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    case = load_case("pagerduty", "weekly-dst")
    case["users"][0]["notification_rules"] = [
        {"id": "PNRULE1", "type": "assignment_notification_rule_reference", "summary": "Default"}
    ]
    pin(monkeypatch, case)
    monkeypatch.setenv("VENDOR_TOKEN", "s3cret")
    with api_server(token=HEADER["pagerduty"]) as server:
        serve_pagerduty(server, case)
        argv = ["import", "pagerduty", "--url", server.base, "--token-env", "VENDOR_TOKEN"]
        assert opsdesk(team_config, tmp_path, *argv) == 1
        out = capsys.readouterr().out
        assert "notification_rule PNRULE1" in out
        assert "escalation_policy PEWEEK1" in out  # on_call_handoff_notifications
        assert not (team_config.parent / "conf.d/50-import-pagerduty.toml").exists()
        assert opsdesk(team_config, tmp_path, *argv, "--allow-partial") == 0
    assert (team_config.parent / "conf.d/50-import-pagerduty.toml").is_file()


def test_an_altered_source_rota_exits_1_naming_each_difference(
    team_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    case = load_case("opsgenie", "business-hours-weekend")
    periods = case["timelines"]["s-biz"]["finalTimeline"]["rotations"][0]["periods"]
    periods[5]["startDate"] = "2027-03-29T08:00:00Z"  # as if DST moved the window
    periods[5]["endDate"] = "2027-03-29T16:00:00Z"
    pin(monkeypatch, case)
    monkeypatch.setenv("VENDOR_TOKEN", "s3cret")
    with api_server(token=HEADER["opsgenie"]) as server:
        serve_opsgenie(server, case)
        argv = ["import", "opsgenie", "--url", server.base, "--token-env", "VENDOR_TOKEN",
                "--verify", "--weeks", "2", "--dry-run"]  # fmt: skip
        assert opsdesk(team_config, tmp_path, *argv) == 1
    out = capsys.readouterr().out
    assert (
        "Service_desk: 2027-03-29 07:00–2027-03-29 08:00 UTC (60 min): source has nobody, "
        "opsdesk has erin"
    ) in out
    assert (
        "Service_desk: 2027-03-29 15:00–2027-03-29 16:00 UTC (60 min): source has erin, "
        "opsdesk has nobody"
    ) in out
