"""The feed names the tables that moved, a lease renewed reloads nothing, exactly one
console holds the escalation lease, and store times parse fast and strictly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.ops.feed import ChangeFeed
from opsdesk.store import Actor, Store
from opsdesk.store.timefmt import from_db, to_db
from tests.conftest import FIXED_NOW

LEAD = Actor("l", frozenset({"lead"}))


async def test_feed_names_the_tables_that_moved_and_ignores_quiet_ones(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    seen: list[object] = []
    async with await Store.open(path) as watcher, await Store.open(path) as writer:
        feed = ChangeFeed(
            watcher.change_token,
            lambda: seen.append(feed.changed),
            counts=watcher.leases.change_counts,
            quiet=frozenset({"leases"}),
        )
        await feed.prime()
        await writer.banner.set(LEAD, "x", 0, FIXED_NOW)
        assert await feed.check() is True
        assert seen == [frozenset({"banner"})]
        assert await writer.leases.claim("job", "a", FIXED_NOW, timedelta(seconds=90))
        assert await feed.check() is False  # only a lease moved: nothing to reload
        assert seen == [frozenset({"banner"})]


async def test_exactly_one_holder_until_the_lease_runs_out(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    ttl = timedelta(seconds=90)
    async with await Store.open(path) as one, await Store.open(path) as two:
        assert await one.leases.claim("escalation", "a", FIXED_NOW, ttl)
        assert not await two.leases.claim("escalation", "b", FIXED_NOW, ttl)
        assert await one.leases.claim("escalation", "a", FIXED_NOW + ttl / 2, ttl)  # renewed
        assert not await two.leases.claim("escalation", "b", FIXED_NOW + ttl, ttl)
        later = FIXED_NOW + ttl * 2
        assert await two.leases.claim("escalation", "b", later, ttl)  # a died: b takes over
        assert await two.leases.holder("escalation", later) == "b"
        assert await one.leases.claim("escalation", "serve", later, ttl, take=True)
        await one.leases.release("escalation", "serve")
        assert await two.leases.holder("escalation", later) is None


def test_store_times_parse_as_before_and_refuse_what_they_refused() -> None:
    instant = datetime(2026, 11, 30, 22, 1, 5, tzinfo=UTC)
    assert from_db(to_db(instant)) == instant
    assert from_db("2026-11-30T22:01:05Z").tzinfo == UTC
    for bad in ("2026-13-30T22:01:05Z", "2026-11-30 22:01:05Z", "2026-11-30T22:01:05", "x" * 20):
        with pytest.raises(ValueError, match="does not match format"):
            from_db(bad)
