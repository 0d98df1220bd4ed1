"""First run and daily use from a shell: right after `opsdesk init` every read answers
(empty) without making a store file and every write makes it; input mistakes exit 2 and
refusals 1; a store path that is a folder and a config path nobody can write are one
line each; every command takes --json; ids read the same everywhere (INC-, CHG-, OVR-,
HND-)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from opsdesk.console.cli import run

Capture = pytest.CaptureFixture[str]
Cli = Callable[..., tuple[int, object]]

WINDOW = ["--start", "2026-12-01T10:00Z", "--end", "2026-12-01T11:00Z"]


@pytest.fixture
def team(tmp_path: Path, me: str, capsys: Capture) -> tuple[Cli, Path]:
    """A team config (two people, two services, one schedule, two risk questions) and a
    store path that does not exist yet; `call(*argv)` runs the CLI on both."""
    config = tmp_path / "team.toml"
    config.write_text(
        f"""
[[people]]
login = "{me}"
[[people]]
login = "ana"
[[services]]
name = "payments"
[[services]]
name = "wiki"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["{me}", "ana"]
rotation = "1d"
start = "2026-01-01T09:00"
[[changes.risk_questions]]
id = "customer_facing"
text = "Does it touch a customer-facing service?"
weight = 3
[[changes.risk_questions]]
id = "untested"
text = "Is it untested in staging?"
weight = 3
"""
    )
    store = tmp_path / "data" / "team.db"

    def call(*argv: str) -> tuple[int, object]:
        code = run(["--config", str(config), "--store", str(store), *argv])
        captured = capsys.readouterr()
        if "--json" in argv and code == 0:
            return code, json.loads(captured.out)
        return code, (captured.out if code == 0 else captured.err)

    return call, store


READS = [
    (["incident", "list", "--json"], []),
    (["incident", "list", "--all", "--json"], []),
    (["oncall", "override", "list", "--json"], []),
    (["oncall", "handoff", "list", "--json"], []),
    (["change", "list", "--json"], []),
    (["change", "list", "--to-approve", "--json"], []),
    (["vendors", "list", "--json"], []),
    (["audit", "--json"], []),
]


@pytest.mark.parametrize(("argv", "expected"), READS, ids=lambda v: " ".join(v) if v else "")
def test_reads_on_a_missing_store_answer_empty_and_make_no_file(
    team: tuple[Cli, Path], argv: list[str], expected: object
) -> None:
    call, store = team
    assert call(*argv) == (0, expected)
    assert not store.exists() and not store.parent.exists()


def test_other_reads_on_a_missing_store(team: tuple[Cli, Path], me: str) -> None:
    call, store = team
    code, banner = call("banner", "show", "--json")
    assert code == 0 and banner["text"] == "" and banner["version"] == 0  # type: ignore[index]
    code, now = call("oncall", "now", "--at", "2026-11-25T12:00Z", "--json")
    assert code == 0 and [n["schedule"] for n in now] == ["platform"]  # type: ignore[union-attr]
    code, shifts = call("oncall", "shifts", "--from", "2026-11-25", "--to", "2026-11-26", "--json")
    assert code == 0 and {s["person"] for s in shifts} <= {me, "ana"}  # type: ignore[union-attr]
    code, metrics = call("incident", "metrics", "--json")
    assert code == 0 and metrics["open"] == 0  # type: ignore[index]
    assert call("audit", "--verify") == (0, "audit: 0 entries, chain intact\n")
    assert call("incident", "show", "INC-1") == (1, "opsdesk: INC-1: no such incident\n")
    assert call("change", "show", "CHG-1")[0] == 1
    assert not store.exists()


def test_after_init_reads_answer_and_the_first_write_creates_the_store(
    tmp_path: Path, capsys: Capture
) -> None:
    assert run(["init"]) == 0
    capsys.readouterr()
    for argv in (["incident", "list"], ["oncall", "now"], ["change", "list"], ["audit"],
                 ["banner", "show"], ["vendors", "list"], ["oncall", "override", "list"]):  # fmt: skip
        assert run(argv) == 0, argv
        assert "no store here" not in capsys.readouterr().err
    assert run(["info", "--json"]) == 0
    store = Path(json.loads(capsys.readouterr().out)["store"])
    assert not store.exists()
    assert run(["change", "new", "--title", "patch", "--type", "standard", "--service",
                "website", *WINDOW, "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["key"] == "CHG-1"
    assert store.is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["oncall", "override", "add", "--schedule", "platform", "--person", "{me}",
         "--from", "2026-11-25T10:00Z", "--to", "2026-11-25T18:00Z"],
        ["oncall", "handoff", "add", "--schedule", "platform", "all quiet"],
        ["change", "new", "--title", "patch", "--type", "standard", "--service", "wiki", *WINDOW],
        ["incident", "new", "--title", "down", "--service", "wiki"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)  # fmt: skip
def test_writes_create_the_store(team: tuple[Cli, Path], me: str, argv: list[str]) -> None:
    call, store = team
    code, said = call(*[a.replace("{me}", me) for a in argv])
    assert code == 0, said
    assert store.is_file()
    assert call("audit", "--json")[1] != []


def test_input_mistakes_exit_2_and_refusals_exit_1(team: tuple[Cli, Path], me: str) -> None:
    call, _ = team
    window = ["--from", "2026-11-25T10:00Z", "--to", "2026-11-25T18:00Z"]
    backwards = ["--from", "2026-11-25T18:00Z", "--to", "2026-11-25T10:00Z"]
    mistakes = [
        (["oncall", "now", "--schedule", "platfrom"], "unknown schedule 'platfrom'"),
        (["oncall", "shifts", *backwards], "--to must be after --from"),
        (["oncall", "shifts", "--from", "2026-01-01", "--to", "2027-06-01"], "at most a year"),
        (["oncall", "escalation", "payments"], "no escalation policy for service 'payments'"),
        (["oncall", "override", "add", "--schedule", "platform", "--person", "anna", *window],
         "unknown login 'anna' (did you mean \"ana\"?)"),
        (["oncall", "override", "add", "--schedule", "platform", "--person", me, *backwards],
         "an override must end after it starts"),
        (["oncall", "override", "remove", "banana"], "is not an override id"),
        (["oncall", "handoff", "add", "--schedule", "nope", "x"], "unknown schedule 'nope'"),
        (["oncall", "lint", "--days", "0"], "--days must be between"),
    ]  # fmt: skip
    for argv, said in mistakes:
        code, err = call(*argv)
        assert (code, err.count("\n")) == (2, 1), (argv, err)  # type: ignore[union-attr]
        assert said in err, (argv, err)  # type: ignore[operator]
    assert call("oncall", "override", "add", "--schedule", "platform", "--person", me,
                *window)[0] == 0  # fmt: skip
    refusals = [
        (["oncall", "override", "remove", "OVR-9"], "OVR-9: no such override"),
        (["oncall", "override", "add", "--schedule", "platform", "--person", "ana", *window],
         "needs the lead role"),
    ]  # fmt: skip
    for argv, said in refusals:
        code, err = call(*argv)
        assert code == 1 and said in err, (argv, err)  # type: ignore[operator]


def test_a_store_path_that_is_a_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for argv in (["incident", "list"], ["incident", "new", "--title", "t", "--service", "s"],
                 ["info"]):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "opsdesk.console", "--store", str(folder), *argv],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert done.stderr == (
            f"opsdesk: {folder}: is a folder, not a store file (name a file in it, e.g. "
            f"{folder / 'opsdesk.db'})\n"
        )
    assert list(folder.iterdir()) == []


def test_a_failed_sqlite_open_leaves_no_thread_traceback(tmp_path: Path) -> None:
    """aiosqlite stops its worker thread after a failed connect without waiting for it; the
    thread then reported to a closed event loop. The store waits for it."""
    folder = tmp_path / "folder"
    folder.mkdir()
    code = (
        "import asyncio, pathlib\n"
        "from opsdesk.store.db import Database\n"
        "from opsdesk.store.errors import StoreOpenError\n"
        "try:\n"
        f"    asyncio.run(Database._connect(pathlib.Path({str(folder)!r}), False, None))\n"
        "except StoreOpenError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "cannot open the store" in done.stdout
    assert done.stderr == ""


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_init_where_nothing_can_be_written_is_one_line(tmp_path: Path, capsys: Capture) -> None:
    assert run(["init", "/proc/x.toml"]) == 1
    assert capsys.readouterr().err == (
        "opsdesk: /proc/x.toml: cannot write it (No such file or directory in /proc)\n"
    )
    assert run(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == f"opsdesk: {tmp_path}: is a folder; name the config file, e.g. {tmp_path}/config.toml\n"
    )


def test_every_write_takes_json_and_ids_read_alike(team: tuple[Cli, Path], me: str) -> None:
    call, _ = team
    assert call("incident", "new", "--title", "down", "--service", "wiki")[0] == 0
    code, note = call("incident", "note", "inc-1", "looking", "--json")
    assert code == 0
    assert note == {"key": "INC-1", "at": note["at"], "actor": me, "kind": "note",  # type: ignore[index]
                    "detail": "looking"}  # fmt: skip
    assert call("incident", "note", "1", "again") == (0, "INC-1 note added\n")

    code, handoff = call("oncall", "handoff", "add", "--schedule", "platform", "quiet", "--json")
    assert code == 0 and handoff["id"] == "HND-1" and handoff["text"] == "quiet"  # type: ignore[index]
    code, handoffs = call("oncall", "handoff", "list", "--json")
    assert [h["id"] for h in handoffs] == ["HND-1"]  # type: ignore[union-attr]
    code, said = call("oncall", "handoff", "add", "--schedule", "platform", "still quiet")
    assert code == 0 and said.startswith("HND-2: handoff note for")  # type: ignore[union-attr]

    window = ["--from", "2026-11-25T10:00Z", "--to", "2026-11-25T18:00Z"]
    assert call("oncall", "override", "add", "--schedule", "platform", "--person", me,
                *window)[0] == 0  # fmt: skip
    code, removed = call("oncall", "override", "remove", "ovr-1", "--json")
    assert code == 0 and (removed["id"], removed["person"]) == ("OVR-1", me)  # type: ignore[index]

    assert call("change", "new", "--title", "patch", "--type", "standard", "--service", "wiki",
                *WINDOW)[0] == 0  # fmt: skip
    code, linked = call("change", "link", "chg-1", "1", "--json")
    assert (code, linked) == (0, {"key": "CHG-1", "incident": "INC-1"})


def test_change_edit_changes_a_draft(team: tuple[Cli, Path]) -> None:
    call, _ = team
    code, created = call("change", "new", "--title", "patch", "--type", "standard",
                         "--service", "wiki", *WINDOW, "--json")  # fmt: skip
    assert code == 0 and created["risk"] == "low"  # type: ignore[index]
    code, edited = call("change", "edit", "CHG-1", "--title", "patch wiki", "--service", "payments",
                        "--service", "wiki", "--yes", "customer_facing", "--json")  # fmt: skip
    assert code == 0, edited
    assert edited["title"] == "patch wiki"  # type: ignore[index]
    assert edited["services"] == ["payments", "wiki"]  # type: ignore[index]
    assert edited["risk"] == "medium" and edited["version"] == 2  # type: ignore[index]
    assert edited["planned_start"] == "2026-12-01T10:00:00Z"  # type: ignore[index]
    code, said = call("change", "edit", "chg-1", "--yes", "untested")
    assert code == 0 and said == "CHG-1 edited (state draft, v3)\n"
    code, shown = call("change", "show", "CHG-1", "--json")
    assert shown["risk"] == "high"  # type: ignore[index]
    assert shown["risk_answers"] == {"customer_facing": True, "untested": True}  # type: ignore[index]
    code, said = call("change", "edit", "CHG-1", "--no", "untested", "--end", "2026-12-01T12:00Z")
    assert code == 0
    code, shown = call("change", "show", "CHG-1", "--json")
    assert shown["risk"] == "medium" and shown["planned_end"] == "2026-12-01T12:00:00Z"  # type: ignore[index]

    code, err = call("change", "edit", "CHG-1")
    assert code == 2 and "give what to change" in err  # type: ignore[operator]
    code, err = call("change", "edit", "CHG-1", "--type", "normal")
    assert code != 0 and "needs a test plan and a backout plan" in err  # type: ignore[operator]
    code, err = call("change", "edit", "CHG-1", "--yes", "nonsense")
    assert code != 0 and "unknown risk question(s): nonsense" in err  # type: ignore[operator]
    assert call("change", "submit", "CHG-1", "--ack-conflicts")[0] == 0
    code, err = call("change", "edit", "CHG-1", "--title", "late")
    assert code == 1 and "only drafts and rejected changes are edited" in err  # type: ignore[operator]
    code, err = call("change", "edit", "CHG-9", "--title", "x")
    assert code == 1 and "no such change" in err  # type: ignore[operator]


def test_config_set_json_says_what_was_set_and_where(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from opsdesk.console.cli import run

    assert run(["config", "set", "ui.theme", "nord", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["key"] == "ui.theme" and out["value"] == "nord"
    assert out["file"].endswith("conf.d/90-settings.toml")
    assert "nord" in Path(out["file"]).read_text()
