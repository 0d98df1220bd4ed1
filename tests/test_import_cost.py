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


# What listing incidents never needs, yet once loaded at every start (about half the CPU
# of `incident list`, README "Performance"): the other record kinds' repositories and
# records, escalation and paging, problems and reviews, the service review, the report
# and the importers. Each is imported by the operation that needs it. Each entry is a
# prefix of module names ("opsdesk.console.ops.import" covers importing, import_fetch...).
NOT_FOR_INCIDENT_LIST = (
    "opsdesk.store.problems", "opsdesk.store.problem_records", "opsdesk.store.reviews",
    "opsdesk.store.review_queries", "opsdesk.store.review_records", "opsdesk.store.actions",
    "opsdesk.store.changes", "opsdesk.store.overrides", "opsdesk.store.handoffs",
    "opsdesk.store.notifications", "opsdesk.store.stats", "opsdesk.store.bulk",
    "opsdesk.console.domain.paging", "opsdesk.console.domain.rotations",
    "opsdesk.console.domain.problem_rules", "opsdesk.console.domain.service_review",
    "opsdesk.console.domain.review_rules", "opsdesk.console.domain.review_resources",
    "opsdesk.console.domain.imports", "opsdesk.console.domain.change_rules",
    "opsdesk.console.ops.pager", "opsdesk.console.ops.paging", "opsdesk.console.ops.poller",
    "opsdesk.console.ops.review", "opsdesk.console.ops.import",
    "opsdesk.console.ops.service_review", "opsdesk.console.ops.problems",
    "opsdesk.console.ops.changes", "opsdesk.console.cli.report", "opsdesk.console.cli.imports",
    "opsdesk.console.cli.problems", "opsdesk.console.cli.changes", "importlib.resources",
)  # fmt: skip


def _not_for_incident_list(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.startswith(NOT_FOR_INCIDENT_LIST))


@pytest.mark.parametrize("json", [False, True])
def test_incident_list_loads_no_http_rich_or_textual(
    tmp_path: Path, demo_store: Path, json: bool
) -> None:
    loaded = _incident_list(tmp_path, demo_store, TEAM, json)
    assert not _heavy(loaded)
    # Only the incident commands' module: not the pager's, the poller's nor the changes'.
    assert not {"opsdesk.console.ops.paging", "opsdesk.console.ops.poller"} & loaded
    assert "opsdesk.console.cli.changes" not in loaded
    assert not _not_for_incident_list(loaded)


def test_the_incident_list_check_can_fail() -> None:
    """The list above catches what it names, and only that."""
    caught = {
        "opsdesk.store.problems", "opsdesk.console.domain.imports.csv_rows",
        "opsdesk.console.ops.review_html", "opsdesk.console.ops.import_fetch",
        "opsdesk.console.ops.reviews", "importlib.resources.readers",
    }  # fmt: skip
    kept = {"opsdesk.store.incidents", "opsdesk.console.ops.incidents", "opsdesk.store.meta"}
    assert _not_for_incident_list(caught | kept) == sorted(caught)


def test_incident_list_with_sources_loads_no_http(tmp_path: Path, demo_store: Path) -> None:
    loaded = _incident_list(tmp_path, demo_store, TEAM + SOURCES, json=False)
    assert not _heavy(loaded)
    assert not _not_for_incident_list(loaded)
    # It polls nothing: its sources' options are left to the commands that poll, so no
    # plugin and no package metadata loads (console/cli/common.py SOURCELESS).
    assert not [m for m in loaded if m.startswith(("opsdesk.plugins", "importlib.metadata"))]


def test_vendors_with_sources_checks_their_options(tmp_path: Path, demo_store: Path) -> None:
    """A command about sources checks them: it loads the plugins the sources name, and
    only those (not the alertmanager, prometheus or slack plugins)."""
    path = tmp_path / "team.toml"
    path.write_text(TEAM + SOURCES, encoding="utf-8")
    loaded, _ = _modules_loaded_by(
        ["--config", str(path), "--store", str(demo_store), "vendors", "list"]
    )
    plugins = {m for m in loaded if m.startswith("opsdesk.plugins.")}
    assert {"opsdesk.plugins.statuspage", "opsdesk.plugins.http"} <= plugins
    assert not {"opsdesk.plugins.alertmanager", "opsdesk.plugins.prometheus"} & plugins
    # Reading feeds is for polling: checking the rss plugin's options loads no XML parser.
    assert "xml.etree.ElementTree" not in loaded


# What the quick commands load only when they need it, on the demo store (the demo team
# is built in: no config file is read). Each of these was once loaded at every start of
# `incident list` (120 ms of CPU then, 1.5 times `import textual`; README "Performance").
# Prefixes of module names, as NOT_FOR_INCIDENT_LIST.
LAZY = (
    "opsdesk.store.audit",  # the audit chain's hashing and the audit records: for writes
    "hashlib",
    "opsdesk.store.change_records", "opsdesk.store.oncall_records",  # other records,
    "opsdesk.store.status_records", "opsdesk.store.banner_records",  # store/records.py
    "opsdesk.plugins", "importlib.metadata",  # sources' plugins: for the commands that poll
    "tomllib",  # no config file to parse
    "opsdesk.console.config.keymap",  # no [keys] to check
    "difflib",  # no mistake to find a did-you-mean for
    "csv",  # no --csv
    "opsdesk.console.cli.paging", "opsdesk.console.cli.figures",  # incident show, metrics
    "opsdesk.console.domain.roster_checks",  # oncall lint and oncall diff
)  # fmt: skip


def _loaded_lazies(loaded: set[str], needed: tuple[str, ...] = ()) -> list[str]:
    return sorted(m for m in loaded if m.startswith(LAZY) and not m.startswith(needed))


@pytest.mark.parametrize(
    ("command", "needed"),
    [
        (["incident", "list", "--limit", "1"], ()),
        (["oncall", "now"], ("opsdesk.store.oncall_records",)),  # it reads overrides
    ],
)
def test_quick_commands_on_the_demo_store_load_only_what_they_use(
    demo_store: Path, command: list[str], needed: tuple[str, ...]
) -> None:
    loaded, out = _modules_loaded_by(["--store", str(demo_store), *command])
    assert out.strip()  # it did answer
    assert not _heavy(loaded)
    assert not _loaded_lazies(loaded, needed)


def test_the_lazy_check_can_fail() -> None:
    """The list above catches each of its modules coming back, and nothing else."""
    caught = {
        "opsdesk.store.audit", "opsdesk.store.audit_records", "hashlib",
        "opsdesk.store.change_records", "opsdesk.store.oncall_records",
        "opsdesk.store.status_records", "opsdesk.store.banner_records",
        "opsdesk.plugins.api", "opsdesk.plugins.registry", "importlib.metadata", "tomllib",
        "opsdesk.console.config.keymap", "difflib", "csv", "opsdesk.console.cli.paging",
        "opsdesk.console.cli.figures", "opsdesk.console.domain.roster_checks",
    }  # fmt: skip
    kept = {"opsdesk.store.records", "opsdesk.store.incidents", "opsdesk.console.cli.csv_out"}
    assert _loaded_lazies(caught | kept) == sorted(caught)
    assert _loaded_lazies({"opsdesk.store.oncall_records"}, ("opsdesk.store.oncall_records",)) == []


def test_help_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """Help defines the commands it lists (their modules load only then)."""
    from opsdesk.console.cli import run

    with pytest.raises(SystemExit):
        run(["--help"])
    out = capsys.readouterr().out
    for name in ("incident", "change", "oncall", "poll", "serve", "banner", "config"):
        assert f"\n    {name} " in out
    assert "incidents: create, list, show and work them" in out


def test_the_console_loads_the_review_screen_only_when_it_is_shown() -> None:
    """The Review screen's model, sections and charts cost every console ~20 ms of its
    start (bench.metrics): the app imports them when `6` is first pressed."""
    script = (
        "import sys\n"
        "import opsdesk.console.tui.app as app\n"
        "before = {m for m in sys.modules if 'service_review' in m or 'review_sections' in m}\n"
        "screen = app.OpsdeskApp.MODES['review']()\n"
        "after = {m for m in sys.modules if 'service_review' in m}\n"
        "print(sorted(before), type(screen).__name__, 'opsdesk.screens.service_review' in after)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[]", "ServiceReviewScreen", "True"], done.stdout


def test_collection_pauses_for_start_up_only() -> None:
    """`opsdesk` pauses the garbage collector while the command loads and freezes what
    loading made; the command itself, which for `serve` and `poll` runs for days, runs with
    collection on, and the process exits with its objects frozen."""
    script = textwrap.dedent(
        """
        import gc, sys
        from opsdesk.console.cli import main as cli
        main_module = sys.modules["opsdesk.console.cli.main"]
        seen = {}
        def handler(args):
            seen["enabled"] = gc.isenabled()
            seen["frozen"] = gc.get_freeze_count()
            return 0
        real_run = main_module.run
        def run(argv=None, *, parsed=None):
            def parsed_then_handler(args):
                seen["paused while loading"] = not gc.isenabled()
                parsed(args)
            import opsdesk.console.cli.settings as settings
            settings.info = handler
            return real_run(["info"], parsed=parsed_then_handler)
        main_module.run = run
        try:
            main_module.main()
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        seen["frozen at exit"] = gc.get_freeze_count() >= seen["frozen"]
        print(seen)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = eval(done.stdout)  # a dict literal printed by the script above
    assert seen["paused while loading"] and seen["enabled"]
    assert seen["frozen"] > 10_000  # the modules' objects: never walked again
    assert seen["frozen at exit"]


async def test_the_console_collects_once_its_first_frame_is_drawn(tmp_path: Path) -> None:
    """The console starts with collection still paused (its imports and first frame are
    most of its start-up) and resumes it after the first refresh; a console that was
    never paused (run_test here) is left as it was."""
    import gc

    from opsdesk.console import collection
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp

    config = tmp_path / "team.toml"
    config.write_text(TEAM)
    options = Options(config=str(config), store=str(tmp_path / "s.db"))
    frozen = gc.get_freeze_count()
    collection.pause()
    try:
        assert not gc.isenabled()
        async with OpsdeskApp(options).run_test() as pilot:
            await pilot.pause()
            assert gc.isenabled()
            assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.enable()
    collection.resume()  # nothing paused: nothing frozen
    assert gc.get_freeze_count() == 0
