"""Bad input that used to crash: bytes that are not UTF-8 in a CLI argument, TOML nested
thousands deep, and names (logins, schedules, services, vendors, sources) holding CR/LF
or other control characters, in config or on the command line. Each is refused with
exit 2 and one line that names the argument or `file: key` and says what is wrong;
never a traceback or "internal error"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from tests.conftest import ROOT
from tests.hostile_text import toml_string, unsafe_in


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run `argv` in-process: it must exit 2 with one clean line on stderr; that line."""
    assert run(argv) == 2
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and err.startswith("opsdesk: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert unsafe_in(err) == [], err
    return err.strip()


@pytest.fixture
def team(tmp_path: Path) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(
        '[[people]]\nlogin = "ana"\n[[services]]\nname = "payments"\n'
        '[[schedules]]\nname = "platform"\ntimezone = "UTC"\n',
        encoding="utf-8",
    )
    return path


def base(team: Path) -> list[str]:
    return ["--config", str(team), "--store", str(team.parent / "s.db")]


# Invalid UTF-8 on the command line -------------------------------------------------------

# Python hands argv bytes that are not UTF-8 over as lone surrogates ("\udcff" for 0xff).
UNDECODABLE = "\udcff"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["incident", "new", "--title", UNDECODABLE, "--service", "payments"], "--title"),
        (["incident", "new", "--title", "t", "--service", "pay" + UNDECODABLE], "--service"),
        (["incident", "new", "--title", "t", "--service", "x", "--description", "\udcc3("],
         "--description"),
        (["incident", "note", "INC-1", "disk " + UNDECODABLE], "text"),
        (["banner", "set", UNDECODABLE], "text"),
        (["audit", "--entity", UNDECODABLE], "--entity"),
        (["oncall", "handoff", "add", "--schedule", UNDECODABLE, "hi"], "--schedule"),
    ],
)  # fmt: skip
def test_an_argument_that_is_not_utf8_is_named(
    argv: list[str], named: str, team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused([*base(team), *argv], capsys)
    assert err == f"opsdesk: {named}: not valid UTF-8"


def test_a_global_option_that_is_not_utf8_is_named(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(["--config", f"{team}{UNDECODABLE}", "info"], capsys) == (
        "opsdesk: --config: not valid UTF-8"
    )


def test_real_non_utf8_bytes_from_a_shell(team: Path) -> None:
    """What a shell passes for `--title $'\\xff'`: the bytes themselves, in a real process."""
    argv = [sys.executable.encode(), b"-m", b"opsdesk.console", b"--config", bytes(team),
            b"--store", bytes(team.parent / "s.db"), b"incident", b"new", b"--title", b"\xff",
            b"--service", b"payments"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, capture_output=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr == b"opsdesk: --title: not valid UTF-8\n"
    assert done.stdout == b""


# TOML nested too deep --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # tomllib itself recursed past Python's limit
        "x = " + "{a = " * 2000 + "1" + "}" * 2000,
        "a" + ".a" * 5000 + " = 1",  # parsed flat, but what reads it afterwards recurses
        "[" + ".".join(["t"] * 3000) + "]\nx = 1",
        "x = " + "[" * 65 + "]" * 65,  # just past the limit
    ],
    ids=["arrays", "inline tables", "dotted keys", "table header", "65 levels"],
)
def test_deeply_nested_toml_is_refused_in_one_line(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(text, encoding="utf-8")
    err = refused(["--config", str(path), "config", "check"], capsys)
    assert err == f"opsdesk: {path}: too deeply nested (over 64 levels)"


def test_deeply_nested_dropin_is_named(team: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dropin = team.parent / "conf.d" / "50-deep.toml"
    dropin.parent.mkdir()
    dropin.write_text("x = " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    err = refused(["--config", str(team), "config", "check"], capsys)
    assert err == f"opsdesk: {dropin}: too deeply nested (over 64 levels)"


def test_nesting_up_to_the_limit_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text("[ui]\nx = " + "[" * 63 + "]" * 63, encoding="utf-8")  # ui, x, 63 arrays
    err = refused(["--config", str(path), "config", "check"], capsys)
    assert err == f"opsdesk: {path}: ui.x: unknown key"  # the schema's turn, not nesting


# Names with control characters -----------------------------------------------------------

NAMES = """
[[people]]
login = "ana"
[[people]]
login = {login}
[[services]]
name = {service}
[[vendors]]
name = {vendor}
[[sources]]
name = {source}
plugin = "http"
url = "http://127.0.0.1:9/health"
[[schedules]]
name = {schedule}
timezone = "UTC"
"""
FINE = {"login": "ben", "service": "payments", "vendor": "Acme", "source": "health",
        "schedule": "platform"}  # fmt: skip
WHERE = {"login": "people[2].login", "service": "services[1].name", "vendor": "vendors[1].name",
         "source": "sources[1].name", "schedule": "schedules[1].name"}  # fmt: skip
LABEL = re.compile(r'\[(\d+) "(?:[^"\\]|\\.)*"\]')  # the entry's name in `people[2 "ben"]`


@pytest.mark.parametrize("field", sorted(FINE))
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("ben\r\nx", "control characters are not allowed (U+000D)"),
        ("ben\nx", "control characters are not allowed (U+000A)"),
        ("ben\tx", "control characters are not allowed (U+0009)"),
        ("x\x1b]2;PWNED\x1b\\", "control characters are not allowed (U+001B)"),
        ("\u202eben", "control characters are not allowed (U+202E)"),
        ("x\x9b31m", "control characters are not allowed (U+009B)"),
        (" ben", "leading or trailing whitespace is not allowed"),
        ("", "must not be empty"),
    ],
    ids=["CRLF", "LF", "tab", "OSC", "bidi", "8-bit CSI", "space", "empty"],
)
def test_a_config_name_with_control_characters_is_refused(
    field: str, value: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    names = {**FINE, field: value}
    path.write_text(NAMES.format(**{k: toml_string(v) for k, v in names.items()}), "utf-8")
    err = refused(["--config", str(path), "config", "check"], capsys)
    assert LABEL.sub(r"[\1]", err) == f"opsdesk: {path}: {WHERE[field]}: {problem}"


def test_the_login_line_reads_as_documented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text(NAMES.format(**{k: toml_string(v) for k, v in {**FINE, "login": "b\nx"}.items()}),
                    "utf-8")  # fmt: skip
    err = refused(["--config", str(path), "config", "check"], capsys)
    assert (
        err
        == f'opsdesk: {path}: people[2 "b\\nx"].login: control characters are not allowed (U+000A)'
    )


@pytest.mark.parametrize(
    ("argv", "named", "problem"),
    [
        (["incident", "new", "--title", "t", "--service", "pay\nments"], "--service", "U+000A"),
        (["incident", "assign", "INC-1", "ana\x1b]2;x\x07"], "login", "U+001B"),
        (["incident", "list", "--assignee", "ana\r"], "--assignee", "U+000D"),
        (["oncall", "override", "add", "--schedule", "plat\tform", "--person", "ana",
          "--from", "2026-11-26T09:00", "--to", "2026-11-26T10:00"], "--schedule", "U+0009"),
        (["oncall", "override", "add", "--schedule", "platform", "--person", "\u202eana",
          "--from", "2026-11-26T09:00", "--to", "2026-11-26T10:00"], "--person", "U+202E"),
        (["poll", "--source", "x\x00"], "--source", "U+0000"),
        (["vendors", "status", "--vendor", "Acme\x9b"], "--vendor", "U+009B"),
    ],
)  # fmt: skip
def test_a_name_argument_with_control_characters_is_refused(
    argv: list[str], named: str, problem: str, team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused([*base(team), *argv], capsys)
    assert err == f"opsdesk: {named}: control characters are not allowed ({problem})"


def test_a_name_argument_with_spaces_around_it_is_refused(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["incident", "new", "--title", "t", "--service", " payments"]
    err = refused([*base(team), *argv], capsys)
    assert err == "opsdesk: --service: leading or trailing whitespace is not allowed"


def test_free_text_arguments_keep_their_control_characters_for_cleaning(
    team: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A title or note is free text: it is cleaned where it is stored and drawn, not
    refused (tests/test_untrusted_text.py follows it to the terminal)."""
    argv = ["incident", "new", "--title", "disk\x1b]2;x\x07 full", "--service", "payments"]
    assert run([*base(team), *argv]) == 0, capsys.readouterr().err
