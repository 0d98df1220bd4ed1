"""The live change feed notices writes from other processes' connections."""

from __future__ import annotations

from opsdesk.console.ops.feed import ChangeFeed
from opsdesk.store import Actor, Store
from tests.conftest import FIXED_NOW
from tests.store_backends import eventually


async def test_feed_fires_once_per_change_from_another_connection(store_location: str) -> None:
    seen: list[int] = []
    async with await Store.open(store_location) as watcher:
        feed = ChangeFeed(watcher.change_token, lambda: seen.append(1))
        await feed.prime()
        assert await feed.check() is False
        async with await Store.open(store_location) as writer:
            await writer.banner.set(Actor("l", frozenset({"lead"})), "x", 0, FIXED_NOW)
        assert await eventually(feed.check)  # on PostgreSQL: once the NOTIFY is heard
        assert await feed.check() is False
    assert seen == [1]


async def test_feed_survives_a_failing_store() -> None:
    async def broken() -> object:
        raise OSError("disk went away")

    feed = ChangeFeed(broken, lambda: None)
    assert await feed.check() is False
    assert await feed.check() is False
    assert feed.failures == 2
