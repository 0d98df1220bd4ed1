"""The live feed on PostgreSQL: LISTEN on one dedicated connection, outside the pool.

Every commit that changes a table sends `NOTIFY opsdesk_changes, '<table>'` (the counting
trigger of 0001_schema.sql): the payload names a table, never a row's content. This
connection counts what it hears; the console's ChangeFeed polls that count as it polls
SQLite's data_version, then reads `change_counts` to know which tables moved. When the
connection drops (the server restarted, a network cut), notifications sent meanwhile are
lost: the count moves on reconnect, so every console reloads what it shows instead of
missing a change. `problem` says why the feed is down, for the console to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

log = logging.getLogger("opsdesk.feed")

CHANNEL = "opsdesk_changes"
UNREACHABLE = "live updates paused: the database server cannot be reached"
RETRY_FIRST = 0.2  # seconds before reconnecting; doubles up to RETRY_MOST
RETRY_MOST = 5.0


class NotifyFeed:
    def __init__(self, url: str) -> None:
        self._url = url
        self._heard = 0
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self.problem: str | None = None  # why the feed is not listening right now

    async def token(self) -> int:
        """How many changes (and reconnects) this feed has heard. The first call starts
        listening and waits until it listens, so no commit after it is missed."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="opsdesk-pg-feed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=10)
        return self._heard

    async def _listen(self) -> None:
        delay = RETRY_FIRST
        first = True
        while True:
            try:
                conn: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=10
                )
            except psycopg.Error as exc:
                self.problem = UNREACHABLE
                log.warning("live feed: cannot connect: %s", str(exc).strip())
                self._ready.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
                continue
            try:
                await conn.execute(f"LISTEN {CHANNEL}")
                if not first:
                    self._heard += 1  # anything committed while deaf: reload all
                first, delay, self.problem = False, RETRY_FIRST, None
                self._ready.set()
                async for _ in conn.notifies():
                    self._heard += 1
            except psycopg.Error as exc:
                self.problem = UNREACHABLE
                log.warning("live feed: connection lost: %s", str(exc).strip())
                self._heard += 1
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
