"""The console on a PostgreSQL store: a server restart under it is said and recovered
from, and a connection killed in the middle of a transaction loses nothing half-written."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.store import NewIncident, Store, StoreError
from opsdesk.store.records import Actor
from tests.pg_cluster import PgCluster

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
ME = Actor("postgres", frozenset({"engineer"}))


async def until(check: Callable[[], bool], what: str) -> None:
    """Wait for `check` (the feed's own task moves it), looking each time the loop turns."""
    for _ in range(1500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def said(app: OpsdeskApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_server_restart_under_a_running_console_is_said_and_recovered(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    app = OpsdeskApp(
        Options(store=pg_database), clock=lambda: NOW, feed_interval=3600, poll_interval=0,
        handle_hangup=False,
    )  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pg_cluster.stop()
        await until(lambda: app.store.live_problem is not None, "the feed to notice")
        app.check_feed()  # the tick: says so at once (its read waits for the server)
        await pilot.pause()  # the notification is a message the app handles
        assert any("cannot be reached; reconnecting" in m for m in said(app)), said(app)
        pg_cluster.start()
        async with await Store.open(pg_database) as other:  # another host writes meanwhile
            new = NewIncident("After the restart", "web", 1, 1, "P1")
            await other.incidents.create(ME, new, NOW)
        await until(lambda: app.store.live_problem is None, "the feed to reconnect")
        await app.check_feed().wait()
        await pilot.pause()
        assert any("live updates are back; reloaded" in m for m in said(app)), said(app)
        newest = await app.store.incidents.recent(1)
        assert newest[0].title == "After the restart"


async def test_a_connection_killed_mid_transaction_leaves_nothing_half_written(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    name = urlsplit(pg_database).path.lstrip("/")
    async with await Store.open(pg_database) as store:

        async def killed_halfway() -> None:
            async with store.atomic():
                await store.incidents.create(ME, NewIncident("First", "web", 1, 1, "P1"), NOW)
                assert pg_cluster.terminate_connections(name) >= 1
                await store.incidents.create(ME, NewIncident("Second", "web", 1, 1, "P1"), NOW)

        with pytest.raises(StoreError, match="unreachable"):
            await killed_halfway()
        assert await store.incidents.recent(5) == []  # the first went with the transaction
        await store.incidents.create(ME, NewIncident("After", "web", 1, 1, "P1"), NOW)
        assert [i.title for i in await store.incidents.recent(5)] == ["After"]
        assert (await store.audit.verify()).intact
