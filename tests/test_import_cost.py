"""What the quick commands load. `opsdesk --version` and `opsdesk incident list` must not
pay for the HTTP client (httpx, which brings rich and click), the console (Textual) or
the receiver (starlette, uvicorn): each command module is imported only when its command
is chosen, and what only some handlers need (the pager, HTTP) only inside them. A new
eager import anywhere on the way makes this fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = ("httpx", "httpcore", "rich", "click", "textual", "starlette", "uvicorn", "apprise")
HEAVY += ("prometheus_client",)


def _modules_loaded_by(argv: list[str]) -> tuple[set[str], str]:
    """The modules loaded by `opsdesk ARGV` in a fresh interpreter, and what it printed."""
    script = textwrap.dedent(
        f"""
        import sys
        from opsdesk.console.cli import run
        try:
            code = run({argv!r})
        except SystemExit as exc:
            code = exc.code
        assert code in (0, None), code
        sys.stderr.write(" ".join(sorted(sys.modules)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stderr.split()), done.stdout


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] in HEAVY)


def test_version_loads_no_command_module() -> None:
    loaded, out = _modules_loaded_by(["--version"])
    assert out.startswith("opsdesk ")
    assert not _heavy(loaded)
    assert not [m for m in loaded if m.startswith(("opsdesk.store", "opsdesk.console.ops"))]
    assert "asyncio" not in loaded


TEAM = """
[[people]]
login = "ana"
[[services]]
name = "payments"
"""

SOURCES = """
[[sources]]
name = "github"
plugin = "statuspage"
url = "https://www.githubstatus.com"
[[sources]]
name = "site"
plugin = "http"
url = "https://example.com/health"
"""


def _incident_list(folder: Path, store: Path, config: str, json: bool) -> set[str]:
    path = folder / "team.toml"
    path.write_text(config, encoding="utf-8")
    argv = ["--config", str(path), "--store", str(store), "incident", "list", "--limit", "1"]
    loaded, out = _modules_loaded_by(argv + (["--json"] if json else []))
    assert "INC-" in out  # it did list an incident
    return loaded


@pytest.mark.parametrize("json", [False, True])
def test_incident_list_loads_no_http_rich_or_textual(
    tmp_path: Path, demo_store: Path, json: bool
) -> None:
    loaded = _incident_list(tmp_path, demo_store, TEAM, json)
    assert not _heavy(loaded)
    # Only the incident commands' module: not the pager's, the poller's nor the changes'.
    assert not {"opsdesk.console.ops.paging", "opsdesk.console.ops.poller"} & loaded
    assert "opsdesk.console.cli.changes" not in loaded


def test_incident_list_with_sources_loads_no_http(tmp_path: Path, demo_store: Path) -> None:
    loaded = _incident_list(tmp_path, demo_store, TEAM + SOURCES, json=False)
    assert "opsdesk.plugins.statuspage" in loaded  # their options were checked
    assert not _heavy(loaded)


def test_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """Help defines the commands it lists (their modules load only then)."""
    from opsdesk.console.cli import run

    with pytest.raises(SystemExit):
        run(["--help"])
    out = capsys.readouterr().out
    for name in ("incident", "change", "oncall", "poll", "serve", "banner", "config"):
        assert f"\n    {name} " in out
    assert "incidents: create, list, show and work them" in out
