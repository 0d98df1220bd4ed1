"""Queue metrics: pure spreads, and end to end through the CLI with a pinned clock (on
both backends: `cli_store` below)."""

from __future__ import annotations

import math
import statistics
from datetime import timedelta

import pytest
import time_machine

from opsdesk.console.domain.metrics import short, spread
from opsdesk.store.records import Durations
from tests.conftest import START
from tests.store_backends import cli_store_as


@pytest.fixture
def cli_store(store_location: str, me: str) -> str:
    """conftest's `cli` on SQLite and on PostgreSQL, as `me`."""
    return cli_store_as(store_location, me)


def test_spread_mean_median_and_nearest_rank_p90() -> None:
    values = [60.0 * n for n in range(1, 11)]
    result = spread(Durations.of(values))
    assert result.count == 10
    assert result.mean == result.median == timedelta(seconds=330)
    assert result.p90 == timedelta(seconds=540)
    assert spread(Durations.of([5.0])).p90 == timedelta(seconds=5)
    assert spread(Durations()).mean is None


def test_spread_from_minute_buckets_is_exact_to_the_minute() -> None:
    """Durations arrive as one-minute histograms: the mean is exact and a percentile
    is never more than a minute off the exact one."""
    values = [7.0, 59.0, 61.0, 61.5, 3599.0, 3600.0, 86_400.0 * 3 + 17]
    exact = sorted(values)
    result = spread(Durations.of(values))
    assert result.mean == timedelta(seconds=sum(values) / len(values))
    assert result.median is not None and result.p90 is not None
    assert abs(result.median.total_seconds() - statistics.median(exact)) < 60
    assert abs(result.p90.total_seconds() - exact[math.ceil(0.9 * len(exact)) - 1]) < 60


def test_short_durations() -> None:
    assert [short(timedelta(minutes=m)) for m in (42, 150, 60 * 30, 60 * 72, 60 * 24 * 45)] == [
        "42m", "2.5h", "30.0h", "3.0d", "45d",
    ]  # fmt: skip
    assert short(None) == "—"


def test_metrics_from_real_operations(cli) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False) as clock:
        for n in range(3):
            cli("incident", "new", "--title", f"outage {n}", "--service", "payments",
                "--impact", "1", "--urgency", "1")  # fmt: skip
        for n, minutes in ((1, 10), (2, 10), (3, 10)):
            clock.shift(timedelta(minutes=minutes))
            cli("incident", "ack", f"INC-{n}")
        clock.move_to(START + timedelta(hours=1))
        cli("incident", "resolve", "INC-1", "--code", "fixed", "--note", "restart")
        cli("incident", "csat", "INC-1", "5")
        clock.move_to(START + timedelta(hours=5))
        cli("incident", "resolve", "INC-2", "--code", "workaround", "--note", "failover")
        cli("incident", "csat", "INC-2", "3")
        code, data = cli("incident", "metrics", "--json")
    assert code == 0
    week = data["last_7_days"]
    assert week["mtta_s"] == {"mean": 1200.0, "median": 1200.0, "p90": 1800.0}
    assert week["mttr_s"] == {"mean": 10800.0, "median": 10800.0, "p90": 18000.0}
    assert (week["acknowledged"], week["resolved"]) == (3, 2)
    assert week["sla_attainment"] == 0.5  # INC-2 took 5 h against a 4 h P1 target
    assert week["csat_average"] == 4.0 and week["csat_responses"] == 2
    assert (data["open"], data["breached"]) == (1, 1)
