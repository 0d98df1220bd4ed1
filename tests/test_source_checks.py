"""Whose config load checks the sources' options against their plugins. The commands that
poll or are about sources (the console, `poll`, `vendors`, `plugins`, `serve`, `config
check`) check them and refuse a mistake in one line, exit 2; the commands that never poll
(incidents, problems, changes, on-call, the banner, the audit log, the report) leave them
to those, so they load no plugin at start and a mistake in a vendor's source never stops
`opsdesk incident ack` during an outage (README "Performance")."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.cli.common import SOURCELESS
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.session import Options

Capture = pytest.CaptureFixture[str]

BAD_OPTION = """
[[people]]
login = "ana"
[[services]]
name = "payments"
[[sources]]
name = "site"
plugin = "http"
url = "https://example.com/health"
expect_statuss = [200]
"""
MISTAKE = 'sources[1 "site"].expect_statuss: unknown key (did you mean "expect_status"?)'


@pytest.fixture
def bad(write_config) -> Path:  # type: ignore[no-untyped-def]
    path: Path = write_config(BAD_OPTION)
    return path


def test_commands_that_never_poll_run_with_a_bad_source_option(
    bad: Path, tmp_path: Path, capsys: Capture
) -> None:
    store = str(tmp_path / "s.db")
    for argv in (["incident", "list"], ["oncall", "now"], ["change", "list"], ["problem", "list"]):
        assert run(["--config", str(bad), "--store", store, *argv]) == 0, argv
        assert MISTAKE not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["config", "check"], ["vendors", "list"], ["poll", "--once"], ["plugins", "list"]]
)
def test_commands_about_sources_refuse_it_in_one_line(
    bad: Path, tmp_path: Path, capsys: Capture, argv: list[str]
) -> None:
    code = run(["--config", str(bad), "--store", str(tmp_path / "s.db"), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.splitlines() == [f"opsdesk: {bad}: {MISTAKE}"]


def test_the_console_refuses_it_before_drawing(bad: Path) -> None:
    from opsdesk.console.tui.start import run_tui

    with pytest.raises(ConfigError, match=r"expect_statuss: unknown key"):
        run_tui(Options(config=str(bad), store=str(bad.with_suffix(".db"))), mouse=None)


def test_the_sourceless_commands_are_real_command_modules() -> None:
    """A renamed module would silently start checking sources again (slower, not wrong):
    each name must be a module whose commands the CLI defines."""
    from opsdesk.console.cli.main import build_parser

    handlers: set[str] = set()
    pending = [build_parser()]
    while pending:
        parser = pending.pop()
        handler = parser.get_default("handler")
        handlers.add(getattr(handler, "__module__", ""))
        for action in parser._actions:
            if isinstance(action.choices, dict):
                pending.extend(action.choices.values())
    assert handlers >= SOURCELESS
    assert not {"opsdesk.console.cli.status", "opsdesk.console.cli.settings"} & SOURCELESS
