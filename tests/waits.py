"""Waiting on what the console does, never on the clock.

A test drives the app with Pilot, then waits for the app's own events: pending messages
handled, workers finished, the live change feed looked at (by hand, with the app's
`check_feed()`, instead of waiting for its timer to tick), or a typed message arriving
through `run_test(message_hook=...)`. Where a test waits for something outside its
control (a timer it wants to see fire, another process), it waits on events with a
generous bound that is a failure bound: when it runs out the test fails, naming what
it waited for; it never carries on as if the thing had happened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from textual.message import Message
from textual.notifications import Notification, Notify
from textual.worker import Worker, WorkerFailed

FAILURE_BOUND = 30.0
"""Seconds after which a wait fails the test; a bound on failure, not a pause."""

RECHECK = 0.5
"""While waiting for a condition, it is looked at on every message the app handles, and
at least this often in case the last message came before the condition held."""

QUIET_ROUNDS = 200
"""How many rounds of "handle messages, finish workers, look at the feed" settle()
allows before it says the app never became quiet."""


async def finish(workers: Iterable[Worker[Any]], bound: float = FAILURE_BOUND) -> None:
    """Wait until each of `workers` has ended. A worker cancelled on the way (an exclusive
    group replaced it) has ended too; one that failed, or that is still running after
    `bound` seconds, fails the test."""
    workers = list(workers)
    waits = [asyncio.ensure_future(w.wait()) for w in workers]
    if not waits:
        return
    done, running = await asyncio.wait(waits, timeout=bound)
    for wait in running:
        wait.cancel()
    if running:
        raise AssertionError(f"waited {bound:.0f} s for workers to end: {workers}")
    for wait in done:
        error = wait.exception()
        if isinstance(error, WorkerFailed):
            raise error


async def settle(app: Any, pilot: Any, *, feed: bool = True) -> None:
    """Run the console until it is quiet: every pending message handled, every worker
    (and every worker those started) finished, and, with `feed`, the change feed looked
    at until it has nothing new, so what this console or another process wrote reaches
    the screens as the feed's next tick would bring it. Without `feed` nothing looks at
    the store's change token (a test about the first tick keeps it for itself)."""
    for _ in range(QUIET_ROUNDS):
        if not app.is_running:
            return
        await pilot.pause()
        running = list(app.workers)
        if running:
            await finish(running)
            continue
        if not feed:
            return
        generation = app.data_generation
        await finish([app.check_feed()])
        await pilot.pause()
        if app.data_generation == generation and not app.workers:
            return
    raise AssertionError(f"the console never became quiet: workers {list(app.workers)}")


class Messages:
    """A `run_test(message_hook=...)` that keeps the notifications the app shows (its
    `Notify` messages, what becomes a toast) and lets a test wait for events."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self._activity = asyncio.Event()

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notifications.append(message.notification)
        self._activity.set()

    def said(self) -> list[str]:
        """The text of every notification so far."""
        return [str(n.message) for n in self.notifications]

    def titled(self, title: str) -> list[Notification]:
        return [n for n in self.notifications if n.title == title]

    async def until(
        self, condition: Callable[[], object], what: str, bound: float = FAILURE_BOUND
    ) -> None:
        """Return once `condition()` holds, looking again each time the app handles a
        message (and at least every RECHECK seconds); fail naming `what` if it does not
        hold within `bound` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        while True:
            self._activity.clear()
            if condition():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"waited {bound:.0f} s for {what}; it never happened")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._activity.wait(), min(remaining, RECHECK))
            await asyncio.sleep(0)  # let the handler of the message that woke us run

    async def notification(
        self, title: str, what: str, bound: float = FAILURE_BOUND
    ) -> Notification:
        """The first notification titled `title`, waiting for it if it has not come yet."""
        await self.until(lambda: self.titled(title), what, bound)
        return self.titled(title)[0]
