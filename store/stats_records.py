"""The metrics' raw counts and the store's description as records. Kept apart from
records.py (imported from there on first use) so a command that shows neither the metrics
nor `opsdesk info` does not build them at start (README "Performance")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from opsdesk.store.value import FrozenValue


@dataclass(frozen=True, eq=False, repr=False)
class Durations(FrozenValue):
    """Durations as a histogram of one-minute buckets, ascending: (count, sum of seconds)
    per bucket. A month of a large queue is a few thousand buckets instead of hundreds of
    thousands of values; the mean stays exact, and a percentile is exact to the bucket's
    own mean (exact when the durations in it are equal)."""

    buckets: tuple[tuple[int, float], ...] = ()

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Durations:
        grouped: dict[int, list[float]] = {}
        for value in seconds:
            grouped.setdefault(int(value // 60), []).append(value)
        return cls(tuple((len(v), sum(v)) for _, v in sorted(grouped.items())))


@dataclass(frozen=True, eq=False, repr=False)
class QueueStats(FrozenValue):
    """Raw inputs for the queue's metrics strip, over one window ending at `until`."""

    since: datetime
    until: datetime
    ack: Durations
    resolve: Durations
    resolved: int
    resolved_met: int
    csat_sum: int
    csat_count: int


@dataclass(frozen=True, eq=False, repr=False)
class StoreInfo(FrozenValue):
    """Where a store is and what it holds (`opsdesk info`)."""

    path: str
    schema_version: int
    latest_schema: int
    demo: bool
    read_only: bool
    created_at: str | None
    counts: dict[str, int]
