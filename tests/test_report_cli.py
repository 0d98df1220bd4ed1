"""`opsdesk report review` and the manager's figures commands, end to end through the CLI on
the review fixture (tests/review_fixture.py) with the clock pinned; and bad input: one
line naming the flag, exit 2."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import time_machine

from opsdesk.console.cli import run
from tests.review_fixture import NOW, build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("report"))


@pytest.fixture
def opsdesk(built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    config, store = built

    def call(*argv: str) -> tuple[int, str, str]:
        with time_machine.travel(NOW, tick=False):
            try:
                code = run(["--config", str(config), "--store", str(store), *argv])
            except SystemExit as exc:  # argparse's own refusals
                code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_review_text_summary_has_every_section(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, err = opsdesk("report", "review", "--month", "2026-11")
    assert code == 0, err
    assert out.startswith("Service review: November 2026 (America/New_York); compared with")
    for title in ("1. SUMMARY", "2. SERVICE LEVELS", "3. INCIDENTS", "4. CUSTOMERS",
                  "5. THE TEAM", "6. CHANGES", "7. VENDORS", "8. WHAT OUTAGES COST",
                  "9. IMPROVEMENT"):  # fmt: skip
        assert title in out
    assert (
        "SLA attainment 66.7 % against 95.0 %: 4 of the 6 incidents resolved in the period met"
        " every clock; 2 missed 2 clocks in all (respond and resolve); 1 still open past a due"
        " time at the end." in out
    )
    assert "6h 10m of downtime; cost 37,000 USD." in out
    assert "Ana Ortiz   370 h" in out
    assert "over the mean of the 2 people on call; 1.00 is even" in out
    assert "1 contract with a renewal or notice deadline in the next 90 days." in out
    assert "2 open action items (1 overdue), 1 done in the period;" in out
    assert "Stripe  99.584 %      99.90 %     NO   3h 00m" in out  # judged against its contract
    assert "2027-01-15 (in 44d)  2026-12-16 (in 14d)" in out  # renewal, then notice deadline


def test_review_help_says_it_is_not_a_post_incident_review(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk("report", "review", "--help")
    text = " ".join(out.split())
    assert code == 0 and "Not the post-incident reviews of single incidents" in text
    assert "`opsdesk review`" in text and "(6, :review, :service-review or :sr)" in text


def test_review_json_and_a_day_range(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk("report", "review", "--month", "2026-11", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["period"]["label"] == "November 2026"
    assert data["incidents"]["total"] == 5
    code, out, _ = opsdesk(
        "report", "review", "--from", "2026-11-10", "--to", "2026-11-10", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["period"]["label"] == "2026-11-10"
    assert data["period"]["previous"]["label"] == "2026-11-09"
    assert [v["count"] for v in data["incidents"]["by_service"]] == [1, 0]


def test_review_markdown(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk("report", "review", "--month", "2026-11", "--markdown")
    assert code == 0
    assert out.startswith("# Service review: November 2026\n")
    assert "| INC\\-4 | wiki | P3 | resolve | 1h 00m |" in out


def test_review_html_is_written_private(opsdesk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "november.html"
    code, out, err = opsdesk("report", "review", "--month", "2026-11", "--html", str(target))
    assert code == 0, err
    assert out == "" and f"written to {target}" in err
    page = target.read_text(encoding="utf-8")
    assert "<html" in page and "November 2026" in page
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    code, _, err = opsdesk("report", "review", "--month", "2026-11", "--html", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "is a folder" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--month", "2026-13"), "--month '2026-13': expected a month as YYYY-MM"),
        (("--from", "2026-11-05", "--to", "2026-11-04"), "--from 2026-11-05 is after --to"),
        (("--from", "2026-11-05"), "give --month YYYY-MM, or both --from DATE and --to DATE"),
        (("--month", "2026-11", "--from", "2026-11-01"), "give --month or --from/--to"),
        (("--from", "yesterday", "--to", "2026-11-04"), "--from 'yesterday': expected a date"),
        ((), "give --month YYYY-MM"),
    ],
)
def test_bad_periods_are_one_line_and_exit_2(opsdesk, argv: tuple[str, ...], said: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = opsdesk("report", "review", *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and said in err and "Traceback" not in err
    assert err.startswith("opsdesk: report review: ")  # names the command, as the others do


def test_incident_metrics_over_a_period_and_a_service(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk(
        "incident", "metrics", "--from", "2026-11-01", "--to", "2026-11-30", "--service", "wiki",
        "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["from"], data["to"]) == ("2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z")
    # Compared, as `report review --from/--to` compares, with as many local days before
    # (2 to 31 October, from midnight EDT), not with 721 hours before.
    assert data["before_from"] == "2026-10-02T04:00:00Z"
    assert (data["opened"], data["opened_before"], data["resolved"]) == (3, 1, 4)
    assert (data["sla_attainment"], data["sla_target"]) == (0.75, 0.7)
    assert data["mttr_s"]["median"] == 37.5 * 3600  # (2h + 73h) / 2
    assert (data["csat_average"], data["csat_responses"]) == (4.0, 2)
    p3 = data["by_priority"][2]
    assert (p3["priority"], p3["opened"], p3["sla_attainment"]) == ("P3", 1, 0.5)
    code, out, _ = opsdesk("incident", "metrics", "--from", "2026-11-01", "--to", "2026-11-30")
    assert code == 0
    assert out.startswith(
        "all services, 2026-11-01 to 2026-11-30 (America/New_York),"
        " compared with 2026-10-02 to 2026-10-31\n"
    )
    assert (
        "opened 5 (3 before)  resolved 6  SLA attainment 66.7 % (target 95.0 %)"
        "  CSAT 3.33 / 5 (3 responses)" in out
    )


def test_figures_commands_count_what_the_review_counts(opsdesk) -> None:  # type: ignore[no-untyped-def]
    days = ("--from", "2026-11-01", "--to", "2026-11-30")
    _, out, _ = opsdesk("report", "review", *days, "--json")
    review = json.loads(out)
    _, out, _ = opsdesk("incident", "metrics", *days, "--json")
    metrics = json.loads(out)
    _, out, _ = opsdesk("change", "stats", *days, "--json")
    changes = json.loads(out)
    incidents = review["incidents"]
    assert (metrics["opened"], metrics["opened_before"]) == (
        incidents["total"], incidents["previous_total"],
    )  # fmt: skip
    assert metrics["resolved"] == incidents["resolved"]
    assert sum(incidents["per_day"]) == incidents["total"]
    assert metrics["sla_attainment"] == pytest.approx(
        review["service_levels"]["overall"]["achieved"], abs=1e-6
    )
    assert (changes["total"], changes["total_before"]) == (
        review["changes"]["total"], review["changes"]["previous_total"],
    )  # fmt: skip


def test_incident_metrics_without_a_period_keeps_its_7_and_30_days(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk("incident", "metrics", "--json")
    assert code == 0 and set(json.loads(out)) >= {"last_7_days", "last_30_days"}


def test_change_stats(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk(
        "change", "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert (data["total"], data["total_before"], data["finished"]) == (4, 1, 3)
    assert data["by_type"] == {"standard": 1, "normal": 2, "emergency": 1}
    assert (data["failed"], data["rolled_back"], data["emergency_ratio"]) == (1, 1, 0.25)
    assert data["unsuccessful"][0]["incidents"] == ["INC-3"]
    code, out, _ = opsdesk("change", "stats", "--from", "2026-11-01", "--to", "2026-11-30",
                           "--service", "wiki", "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["total"] == 0
    code, out, _ = opsdesk("change", "stats", "--from", "2026-11-01", "--to", "2026-11-30")
    assert "success rate         33.3 % of finished" in out
    assert "CHG-3   failed       INC-3      Upgrade gateway" in out


def test_vendors_availability(opsdesk) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = opsdesk(
        "vendors", "availability", "--from", "2026-11-01", "--to", "2026-11-30", "--json"
    )
    assert code == 0
    (stripe,) = json.loads(out)["vendors"]
    assert stripe["availability"] == pytest.approx(1 - 3 / 721)
    assert (stripe["contracted"], stripe["met"], stripe["downtime_s"]) == (0.999, False, 10800.0)
    code, out, _ = opsdesk("vendors", "availability", "--from", "2026-11-01", "--to", "2026-11-30")
    assert "Stripe  99.584 %      99.90 %     NO   3h 00m    payments" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("incident", "metrics", "--service", "payment"), "unknown service 'payment' (did you mean"),
        (("change", "stats", "--service", "nope"),
         "change stats: unknown service 'nope' (services: payments, wiki)"),
        (("incident", "metrics", "--from", "2026-11-05", "--to", "2026-11-01"),
         "--from 2026-11-05 is not before --to 2026-11-01"),
        (("vendors", "availability", "--from", "2025-01-01", "--to", "2026-11-01"),
         "at most 366 days"),
        (("change", "stats", "--from", "someday"), "expected a date like 2026-11-01"),
    ],
)  # fmt: skip
def test_figures_commands_refuse_bad_input_in_one_line(opsdesk, argv, said: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = opsdesk(*argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and said in err, err


def test_part_of_a_month_is_compared_with_as_much_of_the_month_before(
    built: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Read on 16 November 12:00 New York time, November so far is compared with 1 to 16
    October up to the same hour, not with all of October (which would always look like a
    fall); `incident metrics` over days reaching today compares the same way."""
    from datetime import UTC, datetime

    config, store = built
    mid = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # 12:00 EST
    with time_machine.travel(mid, tick=False):
        code = run(["--config", str(config), "--store", str(store),
                    "report", "review", "--month", "2026-11", "--json"])  # fmt: skip
        data = json.loads(capsys.readouterr().out)
        assert code == 0
        previous = data["period"]["previous"]
        # 15 days 13 h into November (EST from 1 Nov 02:00) -> 15 days 13 h into October
        assert (previous["start"], previous["end"]) == (
            "2026-10-01T04:00:00Z", "2026-10-16T17:00:00Z"
        )  # fmt: skip
        assert previous["label"] == "October 2026 to 10-16 13:00"
        code = run(["--config", str(config), "--store", str(store), "incident", "metrics",
                    "--from", "2026-11-01", "--to", "2026-11-30", "--json"])  # fmt: skip
        figures = json.loads(capsys.readouterr().out)
        assert code == 0
        # Its 30 days are compared with the 30 before (from 2 October), as far into them
        assert (figures["before_from"], figures["before_to"]) == (
            "2026-10-02T04:00:00Z", "2026-10-17T17:00:00Z"
        )  # fmt: skip
    with time_machine.travel(NOW, tick=False):  # read after the month: whole against whole
        assert run(["--config", str(config), "--store", str(store),
                    "report", "review", "--month", "2026-11", "--json"]) == 0  # fmt: skip
        whole = json.loads(capsys.readouterr().out)["period"]["previous"]
    assert (whole["end"], whole["label"]) == ("2026-11-01T04:00:00Z", "October 2026")
