"""One poll round in its own process, killed with SIGKILL at a chosen point, for
tests/test_alert_refire.py. Nothing in the poller knows about it: the kill is wrapped
around the store methods the poller calls.

    python -m tests.poll_kill_worker STORE CONFIG NOW POINT [SOURCE]

POINT is where the process dies:
  recorded   right after the round's report for SOURCE (default "prod") is written to the
             store, before anything is done about its alerts
  acted      right after the first incident write an alert caused (open, note, resolve)
  committed  right after the round returned (everything is in the store)
  none       not at all (exit 0)

The process must die at its point: a point that is never reached exits with status 3,
so a test cannot pass without the kill having happened.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store
from opsdesk.store.records import Outcome

ACTOR = Actor("ana", frozenset({"lead"}))
POINTS = ("recorded", "acted", "committed", "none")
NOT_REACHED = 3


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        value = await method(*args, **kwargs)
        die()
        return value

    return wrapped


def kill_after_report(
    method: Callable[[list[Outcome]], Awaitable[None]], source: str
) -> Callable[[list[Outcome]], Awaitable[None]]:
    async def wrapped(outcomes: list[Outcome]) -> None:
        await method(outcomes)
        if any(o.source == source and o.report is not None for o in outcomes):
            die()

    return wrapped


async def main(store_path: Path, config_path: Path, now: datetime, point: str, source: str) -> int:
    config = parse_text(config_path.read_text(encoding="utf-8"), str(config_path))
    async with await Store.open(store_path) as store:
        if point == "recorded":
            setattr(store.statuses, "record", kill_after_report(store.statuses.record, source))  # noqa: B010
        elif point == "acted":
            for name in ("create", "apply", "add_note"):
                setattr(store.incidents, name, kill_after(getattr(store.incidents, name)))
        poller = Poller(store, config, ACTOR, lambda: now, owner="doomed-console")
        try:
            await poller.poll()
        finally:
            await poller.close()
        if point == "committed":
            die()
    return 0 if point == "none" else NOT_REACHED


if __name__ == "__main__":
    store_arg, config_arg, now_arg, point_arg = sys.argv[1:5]
    source_arg = sys.argv[5] if len(sys.argv) > 5 else "prod"
    if point_arg not in POINTS:
        raise SystemExit(f"POINT must be one of {', '.join(POINTS)}")
    when = datetime.fromisoformat(now_arg)
    sys.exit(asyncio.run(main(Path(store_arg), Path(config_arg), when, point_arg, source_arg)))
