"""Queue metrics for the service manager: MTTA and MTTR (mean, median, p90) over 7 and 30
days, SLA attainment, CSAT, backlog age and breaches. Pure functions over the raw inputs
the store returns, so they are tested with plain numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from opsdesk.store.records import Durations, QueueStats


@dataclass(frozen=True)
class Spread:
    """Mean, median and 90th percentile of durations, and how many there were."""

    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class WindowMetrics:
    days: int
    mtta: Spread
    mttr: Spread
    resolved: int
    sla_attainment: float | None  # share of resolved incidents whose clocks were all met
    csat_average: float | None
    csat_count: int


@dataclass(frozen=True)
class Backlog:
    open: int
    breached: int
    oldest_age: timedelta | None


def at_rank(durations: Durations, rank: int) -> float:
    """The value of the `rank`-th smallest duration (1-based): its bucket's mean."""
    seen = 0
    for count, total in durations.buckets:
        seen += count
        if seen >= rank:
            return total / count
    raise ValueError(f"rank {rank} beyond {seen} durations")


def spread(durations: Durations) -> Spread:
    """Mean, median (the middle value, or the mean of the middle two) and nearest-rank p90."""
    count = sum(n for n, _ in durations.buckets)
    if not count:
        return Spread(0, None, None, None)
    middle = (at_rank(durations, (count + 1) // 2) + at_rank(durations, count // 2 + 1)) / 2
    return Spread(
        count=count,
        mean=timedelta(seconds=sum(total for _, total in durations.buckets) / count),
        median=timedelta(seconds=middle),
        p90=timedelta(seconds=at_rank(durations, max(math.ceil(0.9 * count), 1))),
    )


def window_metrics(stats: QueueStats) -> WindowMetrics:
    days = round((stats.until - stats.since).total_seconds() / 86400)
    return WindowMetrics(
        days=days,
        mtta=spread(stats.ack),
        mttr=spread(stats.resolve),
        resolved=stats.resolved,
        sla_attainment=stats.resolved_met / stats.resolved if stats.resolved else None,
        csat_average=stats.csat_sum / stats.csat_count if stats.csat_count else None,
        csat_count=stats.csat_count,
    )


def backlog(open_count: int, oldest: datetime | None, breached: int, now: datetime) -> Backlog:
    return Backlog(open_count, breached, None if oldest is None else now - oldest)


def short(span: timedelta | None) -> str:
    """ "42m", "3.5h", "2.1d" — compact enough for a metrics strip."""
    if span is None:
        return "—"
    minutes = span.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f}m"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f}h"
    if minutes < 10 * 1440:
        return f"{minutes / 1440:.1f}d"
    return f"{minutes / 1440:.0f}d"


@dataclass(frozen=True)
class QueueMetrics:
    week: WindowMetrics
    month: WindowMetrics
    backlog: Backlog


def table_rows(metrics: QueueMetrics) -> list[tuple[str, str, str]]:
    """(measure, last 7 days, last 30 days) rows for the metrics view and the CLI."""

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    week, month = metrics.week, metrics.month
    rows = []
    for label, pick in (("MTTA", lambda w: w.mtta), ("MTTR", lambda w: w.mttr)):
        for stat in ("mean", "median", "p90"):
            rows.append(
                (
                    f"{label} {stat}",
                    short(getattr(pick(week), stat)),
                    short(getattr(pick(month), stat)),
                )
            )
    rows += [
        ("acknowledged (count)", str(week.mtta.count), str(month.mtta.count)),
        ("resolved (count)", str(week.mttr.count), str(month.mttr.count)),
        ("SLA attainment", share(week.sla_attainment), share(month.sla_attainment)),
        (
            "CSAT average (responses)",
            "—" if week.csat_average is None else f"{week.csat_average:.2f} ({week.csat_count})",
            "—" if month.csat_average is None else f"{month.csat_average:.2f} ({month.csat_count})",
        ),
    ]
    return rows
