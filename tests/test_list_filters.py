"""The manager's lists (issue 18) and the CLI's triage order (issue 16): `incident list`
and `change list` by period and service, breaches resolved or open, CSV a spreadsheet
cannot be tricked by, and a list cut at its limit saying so. Real store, real CLI, the
clock pinned."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from opsdesk.console.cli import run
from tests.conftest import START

CONFIG = """
[[people]]
login = "{me}"
[[people]]
login = "ana"
[[services]]
name = "payments"
[[services]]
name = "wiki"
[roles]
lead = ["{me}"]
cab = ["ana"]
[reviews]
required_for = []
"""


class Cli:
    """`opsdesk ...` on one config and store: (exit code, stdout, stderr)."""

    def __init__(self, tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.config = tmp_path / "team.toml"
        self.config.write_text(CONFIG.format(me=me))
        self.store = tmp_path / "s.db"
        self.capsys = capsys

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        try:
            code = run(["--config", str(self.config), "--store", str(self.store), *argv])
        except SystemExit as stop:  # argparse: --help, or a usage error already said
            code = int(stop.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def keys(self, *argv: str) -> list[str]:
        code, out, err = self(*argv, "--json")
        assert code == 0, err
        return [row["key"] for row in json.loads(out)]

    def new(self, title: str, service: str, impact: int, urgency: int) -> str:
        code, out, err = self(
            "incident", "new", f"--title={title}", "--service", service,
            "--impact", str(impact), "--urgency", str(urgency), "--json",
        )  # fmt: skip
        assert code == 0, err
        return str(json.loads(out)["key"])


@pytest.fixture
def cli(tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, me, capsys)


def _history(cli: Cli) -> dict[str, str]:
    """Four incidents over three days (START is Monday 2026-11-23 14:00 UTC):
    old  - a P4 on wiki opened 11 weeks earlier and never touched: breached long ago;
    p1   - a P1 on payments at START, answered late (response breached), then resolved;
    p2   - a P2 on payments on Wednesday at 10:00, acknowledged at once;
    new  - a P1 on wiki on Wednesday at 14:40, still new.
    At NOW (Wednesday 14:45) p2 and new are within their clocks."""
    made = {}
    with time_machine.travel(START - timedelta(weeks=11), tick=False):
        made["old"] = cli.new("Wiki search slow", "wiki", 3, 3)
    with time_machine.travel(START, tick=False) as clock:
        made["p1"] = cli.new("Card payments failing", "payments", 1, 1)
        clock.shift(timedelta(minutes=40))
        assert cli("incident", "ack", made["p1"])[0] == 0
        assert cli("incident", "resolve", made["p1"], "--code", "fixed", "--note", "ok")[0] == 0
        clock.move_to(START + timedelta(days=1, hours=20))  # Wednesday 10:00
        made["p2"] = cli.new("Refunds stuck", "payments", 1, 2)
        assert cli("incident", "ack", made["p2"])[0] == 0
        clock.move_to(START + timedelta(days=2, minutes=40))  # Wednesday 14:40
        made["new"] = cli.new("Wiki down", "wiki", 1, 1)
    return made


NOW = START + timedelta(days=2, minutes=45)


def test_default_order_is_the_queues_triage_not_the_oldest_breach(cli: Cli) -> None:
    made = _history(cli)
    with time_machine.travel(NOW, tick=False):
        # P1 new first, then the P2; the 11-week-old P4 breach comes last, not first.
        assert cli.keys("incident", "list") == [made["new"], made["p2"], made["old"]]
        # The SLA order the CLI used to default to is still there by name.
        assert cli.keys("incident", "list", "--sort", "urgency") == [
            made["old"], made["new"], made["p2"]
        ]  # fmt: skip


def test_the_cli_and_the_queue_share_one_triage_order() -> None:
    from opsdesk.screens import queue
    from opsdesk.store.incidents import SORT_TERMS
    from opsdesk.store.records import TRIAGE

    assert queue.TRIAGE == TRIAGE and TRIAGE in SORT_TERMS


def test_breached_covers_resolved_breaches_and_breached_open_keeps_the_old_meaning(
    cli: Cli,
) -> None:
    made = _history(cli)
    with time_machine.travel(NOW, tick=False):
        assert set(cli.keys("incident", "list", "--breached")) == {made["old"], made["p1"]}
        assert cli.keys("incident", "list", "--breached-open") == [made["old"]]
        assert cli.keys("incident", "list", "--breached", "--state", "resolved") == [made["p1"]]


def test_period_bounds_the_opened_time_in_any_state(cli: Cli) -> None:
    made = _history(cli)
    with time_machine.travel(NOW, tick=False):
        # A day is the whole day: --to 2026-11-25 includes Wednesday 14:40.
        assert cli.keys("incident", "list", "--from", "2026-11-23", "--to", "2026-11-25",
                        "--sort", "key") == [made["p1"], made["p2"], made["new"]]  # fmt: skip
        assert cli.keys("incident", "list", "--from", "2026-11-23", "--to", "2026-11-24") == [
            made["p1"]
        ]  # fmt: skip
        # Instants are taken as given, the end excluded.
        assert cli.keys("incident", "list", "--from", "2026-11-25T10:00Z",
                        "--to", "2026-11-25T14:40Z") == [made["p2"]]  # fmt: skip
        assert cli.keys("incident", "list", "--from", "2026-11-25") == [made["new"], made["p2"]]
        assert cli.keys("incident", "list", "--to", "2026-11-22") == [made["old"]]
        assert cli.keys("incident", "list", "--service", "wiki") == [made["new"], made["old"]]
        assert cli.keys(
            "incident", "list", "--service", "payments", "--from", "2026-11-23", "--sort", "key"
        ) == [made["p1"], made["p2"]]
    said = " ".join(cli("incident", "list", "--help")[1].split())
    assert "opened at or after this day (in the team's zone) or instant" in said
    assert "opened before the end of this day or before this instant" in said


def test_days_are_read_in_the_teams_zone(cli: Cli) -> None:
    """`--to 2026-11-23` in New York ends at 05:00 UTC on the 24th, as `report review`
    reads days ([service_review] timezone)."""
    with time_machine.travel(START + timedelta(hours=12, minutes=30), tick=False):  # 02:30Z
        late = cli.new("Late in New York", "wiki", 3, 3)  # 21:30 on the 23rd there
    assert cli.keys("incident", "list", "--to", "2026-11-23") == []  # in UTC: the 24th
    cli.config.write_text(
        cli.config.read_text() + '[service_review]\ntimezone = "America/New_York"\n'
    )
    assert cli.keys("incident", "list", "--to", "2026-11-23") == [late]
    assert cli.keys("incident", "list", "--from", "2026-11-24") == []


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--from", "2026-13-01"), "incident list: argument --from: expected a date like "
         "2026-11-01 or a time like 2026-11-01T09:00Z, got '2026-13-01'"),
        (("--to", "yesterday"), "incident list: argument --to: expected a date like "
         "2026-11-01 or a time like 2026-11-01T09:00Z, got 'yesterday'"),
        (("--from", "2026-12-01", "--to", "2026-11-01"),
         "incident list: --from 2026-12-01 is not before --to 2026-11-01"),
        (("--from", "2026-11-02T10:00Z", "--to", "2026-11-02T10:00Z"),
         "incident list: --from 2026-11-02T10:00:00Z is not before --to 2026-11-02T10:00:00Z"),
        (("--service", "paymnts"),
         "incident list: unknown service 'paymnts' (did you mean \"payments\"?)"),
        (("--limit", "-1"), "incident list: argument --limit: expected zero or more, got '-1'"),
        (("--json", "--csv"), "incident list: argument --csv: not allowed with argument --json"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(cli: Cli, argv: tuple[str, ...], said: str) -> None:
    code, out, err = cli("incident", "list", *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"opsdesk: {said}") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_change_list_bad_input_is_one_line_and_exit_2(cli: Cli) -> None:
    for argv, said in (
        (("--from", "2026-02-30"), "argument --from: expected a date"),
        (("--from", "2026-11-05", "--to", "2026-11-04"), "--from 2026-11-05 is not before"),
        (("--service", "wikki"), "unknown service 'wikki' (did you mean \"wiki\"?)"),
    ):
        code, out, err = cli("change", "list", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(f"opsdesk: change list: {said}"), err


HOSTILE = {
    '=HYPERLINK("http://evil.example","click")': "'=HYPERLINK(",
    "+1+cmd|' /C calc'!A0": "'+1+cmd",
    "-2+3": "'-2+3",
    "@SUM(A1:A9)": "'@SUM(",
    "\r=after a carriage return": "'=after a carriage return",
    'Quotes "and", commas\nand a line break': 'Quotes "and", commas and a line break',
    "Plain title": "Plain title",
}


def test_csv_is_rfc_4180_and_defuses_formulas(cli: Cli) -> None:
    with time_machine.travel(START, tick=False) as clock:
        keys = {}
        for title in HOSTILE:
            keys[cli.new(title, "payments", 3, 3)] = title
            clock.shift(timedelta(minutes=1))
        code, out, err = cli("incident", "list", "--csv", "--sort", "key")
    assert code == 0 and err == ""
    assert out.startswith("key,title,service,priority,state,assignee,created_at,")
    assert out.endswith("\r\n") and "\r\n" in out.split("\n", 1)[0] + "\n"
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["key"] for r in rows] == list(keys)
    for row in rows:
        title = keys[row["key"]]
        assert row["title"].startswith(HOSTILE[title]), (title, row["title"])
        assert row["service"] == "payments" and row["priority"] == "P4"
        assert row["created_at"].endswith("Z") and row["response_breached"] == "false"
        assert row["assignee"] == ""  # None is an empty cell
    # Every cell a spreadsheet would run as a formula starts with a quote instead.
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_the_defusing_check_can_fail() -> None:
    """The rule above is the check: a cell it should defuse, left alone, fails it."""
    from opsdesk.console.cli.csv_out import cell, defuse

    assert defuse("=1+1") == "'=1+1" and defuse("1+1") == "1+1"
    assert cell(-3) == "-3"  # a number we wrote is a number, not a formula
    assert cell("\x1b]52;c;cGF5bG9hZA==\x07=cmd") == "'=cmd"  # escapes removed first
    assert cell("\tTab first") == "'\tTab first"  # titles are stripped; other text may not be
    assert cell("\r=1") == "'=1" and cell("\r\n-1") == "'\n-1" and cell(" @x") == "' @x"
    assert cell("a = b") == "a = b" and cell("") == ""
    assert cell(None) == "" and cell(True) == "true" and cell(["a", "b"]) == "a,b"
    undefused = "=1+1"
    assert undefused.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_cut_list_says_so_on_stderr_and_limit_0_is_all(cli: Cli) -> None:
    with time_machine.travel(START, tick=False):
        made = [cli.new(f"Incident {n}", "wiki", 3, 3) for n in range(5)]
        code, out, err = cli("incident", "list", "--limit", "2")
        assert code == 0 and err == "opsdesk: 2 of 5 shown; --limit 0 for all\n"
        assert len(out.splitlines()) == 3  # the heading and two rows
        code, out, err = cli("incident", "list", "--limit", "2", "--json")
        assert len(json.loads(out)) == 2 and err == "opsdesk: 2 of 5 shown; --limit 0 for all\n"
        code, out, err = cli("incident", "list", "--limit", "2", "--csv")
        assert len(list(csv.reader(io.StringIO(out, newline="")))) == 3 and "2 of 5" in err
        for exact in ("5", "0"):
            code, out, err = cli("incident", "list", "--limit", exact, "--json")
            assert code == 0 and err == "" and len(json.loads(out)) == 5
        assert cli("incident", "list", "--limit", "4", "--service", "payments")[2] == ""
        # --limit 0 streams every row in chunks; the JSON is what one list would be.
        whole = cli("incident", "list", "--limit", "0", "--json")[1]
        assert json.loads(whole) == json.loads(cli("incident", "list", "--limit", "5", "--json")[1])
        assert whole.startswith('[\n  {\n    "key": ') and whole.endswith("\n  }\n]\n")
        assert cli("incident", "list", "--limit", "0", "--json", "--state", "closed")[1] == "[]\n"
        assert set(cli.keys("incident", "list", "--limit", "0")) == set(made)


def test_thousands_are_grouped_in_the_notice(capsys: pytest.CaptureFixture[str]) -> None:
    from opsdesk.console.cli.listing import say_cut

    say_cut(100, 5002)
    say_cut(100, 1_000_001, at_most=1_000_000)
    say_cut(100, 100)
    assert capsys.readouterr().err == (
        "opsdesk: 100 of 5,002 shown; --limit 0 for all\n"
        "opsdesk: 100 of more than 1,000,000 shown; --limit 0 for all\n"
    )


def _change(cli: Cli, title: str, service: str, start: str, end: str) -> str:
    code, out, err = cli(
        "change", "new", f"--title={title}", "--type", "normal", "--service", service,
        "--start", start, "--end", end, "--test-plan", "smoke", "--backout", "redeploy",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["key"])


def test_change_list_by_window_overlap_service_and_csv(cli: Cli) -> None:
    with time_machine.travel(START, tick=False):
        early = _change(cli, "-Upgrade the payments db", "payments",
                        "2026-11-24T10:00Z", "2026-11-24T12:00Z")  # fmt: skip
        late = _change(cli, "Rotate wiki certs", "wiki", "2026-11-26T23:00Z", "2026-11-27T01:00Z")
        # A window overlaps the period: the late change ends on the 27th.
        assert cli.keys("change", "list", "--from", "2026-11-27", "--to", "2026-11-30") == [late]
        assert cli.keys("change", "list", "--to", "2026-11-26") == [late, early]
        assert cli.keys("change", "list", "--to", "2026-11-25") == [early]
        assert cli.keys("change", "list", "--from", "2026-11-24T11:00Z",
                        "--to", "2026-11-24T11:30Z") == [early]  # fmt: skip
        assert cli.keys("change", "list", "--from", "2026-11-24T12:00Z",
                        "--to", "2026-11-26T23:00Z") == []  # fmt: skip
        assert cli.keys("change", "list", "--service", "wiki") == [late]
        assert cli.keys("change", "list", "--service", "wiki", "--service", "payments") == [
            late, early
        ]  # fmt: skip
        code, out, err = cli("change", "list", "--csv")
        assert code == 0 and err == ""
        rows = list(csv.DictReader(io.StringIO(out, newline="")))
        assert [r["key"] for r in rows] == [late, early]
        assert rows[1]["title"] == "'-Upgrade the payments db"
        assert rows[1]["planned_start"] == "2026-11-24T10:00:00Z" and rows[1]["services"] == (
            "payments"
        )
        code, out, err = cli("change", "list", "--limit", "1")
        assert code == 0 and err == "opsdesk: 1 of 2 shown; --limit 0 for all\n"
        assert len(cli.keys("change", "list", "--limit", "0")) == 2


def test_problem_list_and_audit_say_when_they_are_cut(cli: Cli) -> None:
    with time_machine.travel(START, tick=False):
        for title in ("Payments time out", "Wiki slow", "Refunds stuck"):
            code, _, err = cli("problem", "new", "--title", title, "--service", "payments")
            assert code == 0, err
        code, out, err = cli("problem", "list", "--limit", "2")
        assert code == 0 and err == "opsdesk: 2 of 3 shown; --limit 0 for all\n"
        code, out, err = cli("problem", "list", "--limit", "0", "--json")
        assert len(json.loads(out)) == 3 and err == ""
        code, out, err = cli("audit", "--limit", "1")
        assert (
            code == 0
            and err.startswith("opsdesk: 1 of ")
            and err.endswith(" shown; --limit 0 for all\n")
        )
        total = int(err.split(" of ")[1].split(" ")[0])
        assert total >= 3
        code, out, err = cli("audit", "--limit", "0", "--json")
        assert len(json.loads(out)) == total and err == ""
        code, out, err = cli("notifications", "list", "--limit", "0")
        assert code == 0 and err == ""


def test_notifications_list_says_when_it_is_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paging.toml"
    config.write_text(
        '[[people]]\nlogin = "ana"\nemail = "ana@example.com"\nntfy = "ana-pages-7f3k"\n'
    )
    base = ["--config", str(config), "--store", str(tmp_path / "p.db")]
    with time_machine.travel(START, tick=False):
        assert run([*base, "page", "--person", "ana", "--message", "need eyes"]) == 0
        capsys.readouterr()
        assert run([*base, "notifications", "list", "--limit", "1"]) == 0
        out, err = capsys.readouterr()
        assert err == "opsdesk: 1 of 2 shown; --limit 0 for all\n" and out.count("ana") == 1
        assert run([*base, "notifications", "list", "--limit", "0", "--json"]) == 0
        out, err = capsys.readouterr()
        assert len(json.loads(out)) == 2 and err == ""


def test_an_empty_list_has_its_heading_once(cli: Cli) -> None:
    for argv, heading in (
        (("incident", "list"), "key  pri  state"),
        (("incident", "list", "--all"), "key  pri  state"),
        (("change", "list"), "key  type  risk"),
    ):
        code, out, err = cli(*argv)
        assert (code, err) == (0, ""), err
        assert out.count(heading) == 1, out
    code, out, _ = cli("incident", "list", "--csv")
    assert out.splitlines() == [out.splitlines()[0]], out  # the CSV header row, once
