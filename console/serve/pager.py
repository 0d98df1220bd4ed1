"""The pager loop inside `opsdesk serve`: escalation timer and delivery worker, once for
everyone, so paging never depends on someone having a console open.

Each tick escalates whatever is due (as the system) and sends what the outbox holds. It
runs every `serve.tick`, and at once when the receiver queued something (`wake`), so a
new alert's page goes out within the request's own round trip, not a tick later. Tests
call `tick()` directly with a hand-driven clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from opsdesk.console.config.model import Config
from opsdesk.console.ops.delivery import DeliveryWorker, Sent
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.pager import ESCALATION_LEASE, SYSTEM
from opsdesk.console.ops.paging import PagingOps
from opsdesk.console.serve.metrics import PagerMetrics
from opsdesk.store import Store, StoreError
from opsdesk.store.records import Notification

log = logging.getLogger("opsdesk.serve")


class Pager:
    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        key: bytes,
        base_url: str,
        owner: str,
        clock: Callable[[], datetime],
        metrics: PagerMetrics,
        worker: DeliveryWorker | None = None,
    ) -> None:
        self.store, self.config, self.clock, self.metrics = store, config, clock, metrics
        self.owner = f"serve:{owner}"
        self.paging = PagingOps(store, config, SYSTEM)
        self.key, self.base_url = key, base_url
        self.worker = worker or DeliveryWorker(
            store, config, owner=owner, link_for=self.link, clock=clock, on_sent=self._sent
        )
        self._wake = asyncio.Event()
        self.last_tick: datetime | None = None
        self.last_error: str | None = None

    def link(self, n: Notification, now: datetime) -> str | None:
        return self.paging.link(self.key, self.base_url, n, now)

    def wake(self) -> None:
        self._wake.set()

    def health(self) -> dict[str, object]:
        return {
            "last_tick": None if self.last_tick is None else self.last_tick.isoformat(),
            "last_error": self.last_error,
        }

    def _sent(self, sent: Sent) -> None:
        channel = sent.notification.method
        if sent.ok:
            self.metrics.sent.labels(channel).inc()
            n = sent.notification  # from when it was due: a rule's delay is not latency
            waited = (self.clock() - max(n.created_at, n.not_before)).total_seconds()
            self.metrics.latency.labels(channel).observe(max(waited, sent.seconds))
        else:
            self.metrics.failed.labels(channel).inc()
            log.warning(
                "notification %s to %s by %s failed: %s",
                sent.notification.id,
                sent.notification.login,
                channel,
                sent.detail,
            )

    async def tick(self) -> list[Sent]:
        """Escalate what is due, then send until nothing due is left."""
        now = self.clock()
        # Take the escalation lease over any console: while a serve lives, consoles leave
        # escalation to it (and stop writing on their own timers).
        ttl = max(self.config.serve.tick * 3, timedelta(minutes=1))
        await self.store.leases.claim(ESCALATION_LEASE, self.owner, now, ttl, take=True)
        escalated = await IncidentOps(self.store, self.config, SYSTEM).escalate_due(now)
        self.metrics.escalations.inc(len(escalated))
        sent: list[Sent] = []
        while True:
            batch = await self.worker.run_once()
            sent += batch
            if not batch:
                break
        self.last_tick = now
        return sent

    async def run(self) -> None:
        interval = self.config.serve.tick.total_seconds()
        while True:
            self._wake.clear()
            try:
                await self.tick()
                self.last_error = None
            except StoreError as exc:  # the store is busy or read-only: say so, carry on
                self.last_error = str(exc)
                log.error("pager: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    async def close(self) -> None:
        await self.worker.close()
