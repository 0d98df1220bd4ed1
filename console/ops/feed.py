"""The live change feed: tells the console that another process (or it) changed the store.

It polls the store's change token (SQLite's `PRAGMA data_version` plus this connection's
own commits), a query that costs microseconds, every `interval` seconds. A refresh is
never started while the previous check is still running.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("opsdesk.feed")

DEFAULT_INTERVAL = 0.5


class ChangeFeed:
    """Call `check()` periodically; `on_change` runs when the token moved since last time."""

    def __init__(
        self, token: Callable[[], Awaitable[object]], on_change: Callable[[], None]
    ) -> None:
        self._token = token
        self._on_change = on_change
        self._last: object = None
        self._busy = False
        self.failures = 0

    async def prime(self) -> None:
        """Take the baseline. Call it before the screens first read the store, so that a
        change landing between that read and the first check is not absorbed."""
        self._last = await self._token()

    async def check(self) -> bool:
        """Return True when a change was seen. Errors are logged and retried next tick."""
        if self._busy:
            return False
        self._busy = True
        try:
            token = await self._token()
        except Exception:
            self.failures += 1
            log.warning("change feed: reading the change token failed", exc_info=True)
            return False
        finally:
            self._busy = False
        if token == self._last:
            return False
        self._last = token
        self._on_change()
        return True
