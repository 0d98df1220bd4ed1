"""The opsdesk command: global options anywhere, exit codes, one-line errors, JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.config.loader import default_config_path
from tests.store_backends import cli_store_as

Capture = pytest.CaptureFixture[str]


def test_version_and_help(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as done:
        run(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("opsdesk ")
    with pytest.raises(SystemExit):
        run(["--help"])
    out = capsys.readouterr().out
    for command in ("init", "config", "info", "demo", "audit", "banner"):
        assert command in out


def test_usage_errors_are_one_line_exit_2(capsys: Capture) -> None:
    with pytest.raises(SystemExit) as done:
        run(["audit", "--limit", "lots"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "argument --limit: expected a whole number, got 'lots'" in err
    with pytest.raises(SystemExit) as done:
        run(["frobnicate"])
    assert done.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_init_writes_then_refuses_to_overwrite(capsys: Capture, me: str) -> None:
    assert run(["init"]) == 0
    path = default_config_path()
    data = tomllib.loads(path.read_text())
    assert data["roles"]["admin"] == [me]
    assert (path.parent / "conf.d").is_dir()
    assert run(["init"]) == 1
    assert "already exists; use --force" in capsys.readouterr().err
    path.write_text("# hand edited\n")
    assert run(["init", "--force"]) == 0
    assert "hand edited" not in path.read_text()
    assert run(["config", "check"]) == 0


def test_config_set_writes_a_validated_dropin(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    main = write_config("# my comments stay\n[ui]\nbell = true\n")
    before = main.read_text()
    assert run(["config", "set", "ui.theme", "textual-light", "--config", str(main)]) == 0
    assert run(["--config", str(main), "config", "set", "ui.bell", "false"]) == 0
    dropin = main.parent / "conf.d" / "90-settings.toml"
    assert tomllib.loads(dropin.read_text()) == {"ui": {"theme": "textual-light", "bell": False}}
    assert main.read_text() == before
    assert run(["config", "set", "ui.bell", "maybe", "--config", str(main)]) == 2
    assert 'ui.bell: expected true or false, got "maybe"' in capsys.readouterr().err
    assert tomllib.loads(dropin.read_text())["ui"]["bell"] is False


def test_global_options_before_or_after_the_command(
    tmp_path: Path, capsys: Capture, me: str
) -> None:
    store = tmp_path / "x.db"
    assert run(["--store", str(store), "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] is None
    assert run(["demo", "--no-ui", "--incidents", "20", "--store", str(store)]) == 0
    assert run(["banner", "show", "--store", str(store)]) == 0
    assert capsys.readouterr().out == "no banner\n"
    assert run(["--store", str(store), "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["store"] == str(store)
    assert info["schema_version"] >= 1
    assert info["demo"] is True
    assert info["counts"]["incidents"] == 20
    assert info["config_source"] == f"{store} (demo store: the built-in demo team, made by {me})"
    assert info["role_sources"]["admin"] == info["config_source"]


def test_banner_needs_lead_and_is_audited(
    store_location: str, write_config, capsys: Capture, me: str
) -> None:  # type: ignore[no-untyped-def]
    # On SQLite the config grants lead; on PostgreSQL only the database does (cli_store_as
    # makes `me` a member of opsdesk_lead), and the config's [roles] count for nothing.
    store = cli_store_as(store_location, me)
    plain = write_config(f"[[people]]\nlogin = '{me}'\n", name="plain.toml")
    assert run(["--config", str(plain), "--store", store, "banner", "set", "hello"]) == 1
    err = capsys.readouterr().err
    assert err == f"opsdesk: setting the banner needs the lead role; {me} does not have it\n"
    store = cli_store_as(store_location, me, {"lead"})
    lead = write_config(f"[[people]]\nlogin = '{me}'\n[roles]\nlead = ['{me}']\n", name="lead.toml")
    assert (
        run(["--config", str(lead), "--store", store, "banner", "set", "bridge \x1b]0;x\x07up"])
        == 0
    )
    assert run(["--store", store, "--config", str(lead), "banner", "--json"]) == 0
    banner = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert banner["text"] == "bridge up"
    assert run(["--store", store, "--read-only", "--config", str(lead), "banner", "clear"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert run(["--store", store, "audit", "--json", "--entity", "BANNER"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["actor"] == me
    assert entry["action"] == "banner.set"
    assert entry["at"].endswith("Z")


def test_audit_on_missing_store_does_not_create_it(tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "missing.db"
    assert run(["audit", "--store", str(missing), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not missing.exists()


def test_store_errors_are_one_line(tmp_path: Path, capsys: Capture) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database" * 200)
    assert run(["--store", str(garbage), "banner"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"opsdesk: {garbage}: not an opsdesk store")
    assert err.count("\n") == 1


def test_installed_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[ui]\nmouse = 3\n")
    done = subprocess.run(
        [sys.executable, "-m", "opsdesk.console", "--config", str(bad), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"opsdesk: {bad}: ui.mouse: expected true or false, got int 3\n"
    assert "Traceback" not in done.stderr


def test_relative_store_path_is_relative_to_the_config_file(write_config, capsys: Capture) -> None:  # type: ignore[no-untyped-def]
    config = write_config('[store]\npath = "data/team.db"\n')
    assert run(["--config", str(config), "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == str(config.parent / "data" / "team.db")


def test_info_reports_a_pending_upgrade_without_touching_the_store(
    tmp_path: Path, capsys: Capture
) -> None:
    import sqlite3

    old = tmp_path / "old.db"
    assert run(["demo", "--no-ui", "--incidents", "5", "--store", str(old)]) == 0
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert run(["--store", str(old), "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema_version"] == 1
    assert "upgraded" in info["note"]
    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()
