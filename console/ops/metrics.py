"""Read the figures the metrics strip, the metrics view and `incident metrics` show:
the store counts (from aggregates it keeps as incidents change: `store.stats`, milliseconds
at a million incidents), `domain.metrics` turns the counts into medians, shares and ages."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from opsdesk.console.domain.metrics import QueueMetrics, backlog, window_metrics
from opsdesk.store import Store


async def collect(store: Store, now: datetime) -> QueueMetrics:
    """Everything the metrics strip, the metrics view and `incident metrics` show. The
    week and the month are read together (the days they share once); the open counts
    meanwhile, on the store's main connection (PostgreSQL: another pooled one)."""
    windows, ages = await asyncio.gather(
        store.stats.windows([(now - timedelta(days=7), now), (now - timedelta(days=30), now)]),
        store.stats.open_ages(now),
    )
    week, month = (window_metrics(stats) for stats in windows)
    open_count, oldest, breached = ages
    return QueueMetrics(week, month, backlog(open_count, oldest, breached, now))
