"""The live change feed: tells the console that another process (or it) changed the store,
and, where the store keeps per-table change counters, which tables moved.

It polls the store's change token (SQLite's `PRAGMA data_version` plus this connection's
own commits), a query that costs microseconds, every `interval` seconds. Only when the
token moved does it read the counters (a dozen rows) to name the tables that changed.
A refresh is never started while the previous check is still running.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("opsdesk.feed")

DEFAULT_INTERVAL = 0.2
"""Seconds between looks at the token. A change waits half of it on average (its whole
at worst) before the screen starts reloading: at 0.2 s the live-change p95 stays well
inside the 0.5 s budget; a look costs well under a millisecond of CPU."""

Changed = frozenset[str] | None
"""The tables that moved, or None: something changed, which is not known."""


class ChangeFeed:
    """Call `check()` periodically; `on_change` runs when the token moved since last time
    and something other than `quiet` tables moved; `changed` then names the tables that
    moved (None: unknown, or no `counts` given)."""

    def __init__(
        self,
        token: Callable[[], Awaitable[object]],
        on_change: Callable[[], None],
        counts: Callable[[], Awaitable[dict[str, int] | None]] | None = None,
        quiet: frozenset[str] = frozenset(),
    ) -> None:
        self._token = token
        self._counts = counts
        self._on_change = on_change
        self._quiet = quiet
        self._last: object = None
        self._last_counts: dict[str, int] | None = None
        self._busy = False
        self.failures = 0
        self.changed: Changed = None

    async def prime(self) -> None:
        """Take the baseline. Call it before the screens first read the store, so that a
        change landing between that read and the first check is not absorbed."""
        self._last = await self._token()
        if self._counts is not None:
            self._last_counts = await self._counts()

    async def check(self) -> bool:
        """Return True when a change was seen (and reported: a change to `quiet` tables
        only, such as a lease renewed, is seen and not reported). Errors are logged and
        retried next tick."""
        if self._busy:
            return False
        self._busy = True
        try:
            token = await self._token()
            if token == self._last:
                return False
            counts = await self._counts() if self._counts is not None else None
        except Exception:
            self.failures += 1
            log.warning("change feed: reading the change token failed", exc_info=True)
            return False
        finally:
            self._busy = False
        self._last = token
        changed = self._moved(counts)
        self._last_counts = counts
        if changed is not None and not changed - self._quiet:
            return False
        self.changed = changed
        self._on_change()
        return True

    def _moved(self, counts: dict[str, int] | None) -> Changed:
        before = self._last_counts
        if counts is None or before is None:
            return None
        moved = frozenset(name for name, n in counts.items() if before.get(name) != n)
        return moved or None  # a commit to a table nobody counts: say "something"
