"""Several `opsdesk serve` and `opsdesk poll` processes share the work without doing any of
it twice, on both backends: each "host" here is a store opened on its own (on PostgreSQL its
own connection pool, as another machine would have), all claiming at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from opsdesk.store import Store
from opsdesk.store.records import NewNotification

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
HOSTS = 3
WORKERS = 4  # claiming tasks per host


def page(n: int) -> NewNotification:
    return NewNotification(
        incident_key=None, login=f"p{n % 7}", method="email", address=f"p{n}@example.com",
        urgency="high", reason="test", title=f"page {n}", body="", not_before=NOW,
    )  # fmt: skip


async def test_every_queued_page_is_claimed_by_exactly_one_worker(store_location: str) -> None:
    async with await Store.open(store_location) as first:
        await first.notifications.queue([page(n) for n in range(240)], NOW, "test")
    hosts = [await Store.open(store_location) for _ in range(HOSTS)]
    claimed: Counter[int] = Counter()

    async def worker(store: Store, name: str) -> None:
        while batch := await store.notifications.claim(name, NOW, NOW + timedelta(minutes=5), 7):
            claimed.update(n.id for n in batch)
            for n in batch:
                assert await store.notifications.delivered(n.id, name, "ok", NOW)

    try:
        await asyncio.gather(
            *(worker(store, f"h{h}w{w}") for h, store in enumerate(hosts) for w in range(WORKERS))
        )
    finally:
        for store in hosts:
            await store.close()
    assert len(claimed) == 240
    assert [id for id, times in claimed.items() if times > 1] == []


async def test_each_due_source_is_polled_by_one_poller(store_location: str) -> None:
    sources = {f"vendor-{n}": NOW + timedelta(minutes=1) for n in range(60)}
    async with await Store.open(store_location):
        pass  # created (and migrated) before the pollers race
    hosts = [await Store.open(store_location) for _ in range(HOSTS)]
    try:
        won = await asyncio.gather(
            *(store.statuses.claim(sources, f"poller-{h}", NOW) for h, store in enumerate(hosts))
        )
    finally:
        for store in hosts:
            await store.close()
    assert sum(len(w) for w in won) == len(sources)
    assert set().union(*won) == set(sources)


async def test_one_escalation_timer_among_many_consoles(store_location: str) -> None:
    async with await Store.open(store_location):
        pass
    hosts = [await Store.open(store_location) for _ in range(HOSTS * 2)]
    try:
        held = await asyncio.gather(
            *(
                store.leases.claim("escalation", f"console-{h}", NOW, timedelta(seconds=30))
                for h, store in enumerate(hosts)
            )
        )
        assert held.count(True) == 1
        holder = await hosts[0].leases.holder("escalation", NOW)
        assert holder == f"console-{held.index(True)}"
    finally:
        for store in hosts:
            await store.close()


TEAM = """
[[services]]
name = "payments"
[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "OPSDESK_TEST_SECRET"
"""


async def test_the_same_alert_on_several_serve_hosts_at_once_opens_one_incident(
    store_location: str,
) -> None:
    from opsdesk.console.config.loader import parse_text
    from opsdesk.console.domain.inbound import InboundAlert
    from opsdesk.console.ops.alert_intake import AlertIntake

    config = parse_text(TEAM, "team.toml")
    integration = config.integrations[0]
    alert = InboundAlert(
        dedup_key="f404ecabc8dd5cd7", action="trigger", title="Instance down",
        description="", severity="critical", priority="P1", service=None, labels={},
        started=None, url=None,
    )  # fmt: skip
    async with await Store.open(store_location):
        pass
    hosts = [await Store.open(store_location) for _ in range(HOSTS)]
    try:
        taken = await asyncio.gather(
            *(AlertIntake(store, config).take(integration, [alert], NOW) for store in hosts)
        )
        incidents = await hosts[0].incidents.recent(10)
    finally:
        for store in hosts:
            await store.close()
    assert sum(len(t.opened) for t in taken) == 1
    assert sum(t.unchanged for t in taken) == HOSTS - 1
    assert [i.dedup_key for i in incidents] == ["f404ecabc8dd5cd7"]
