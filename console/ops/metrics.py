"""Read the figures the metrics strip, the metrics view and `incident metrics` show:
the store counts (from aggregates it keeps as incidents change: `store.stats`, milliseconds
at a million incidents), `domain.metrics` turns the counts into medians, shares and ages."""

from __future__ import annotations

from datetime import datetime, timedelta

from opsdesk.console.domain.metrics import QueueMetrics, backlog, window_metrics
from opsdesk.store import Store


async def collect(store: Store, now: datetime) -> QueueMetrics:
    """Everything the metrics strip, the metrics view and `incident metrics` show."""
    week = window_metrics(await store.stats.stats(now - timedelta(days=7), now))
    month = window_metrics(await store.stats.stats(now - timedelta(days=30), now))
    open_count, oldest, breached = await store.stats.open_ages(now)
    return QueueMetrics(week, month, backlog(open_count, oldest, breached, now))
