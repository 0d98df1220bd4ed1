"""Finding notifiers: installed packages registering under the entry-point group
`opsdesk.notifiers` (the built-in email, ntfy, webhook and apprise channels do too).

As with status plugins (opsdesk.plugins.registry), a broken notifier never stops the
console or the delivery worker: it is listed with its error, and pages for its method
fail with that error instead of vanishing. The scan runs once per process (entry points
do not change while it runs); tests call `notifiers.cache_clear()`.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from opsdesk.plugins.notify.api import Notifier

GROUP = "opsdesk.notifiers"


@dataclass(frozen=True)
class NotifierInfo:
    name: str
    origin: str  # "built-in" or "package <dist>"
    notifier: Notifier | None  # an instance, ready to `send`; None when it is broken
    error: str = ""


@cache
def notifiers() -> dict[str, NotifierInfo]:
    """Every notifier by its method name. A second one with a taken name is listed as an
    error under "<name> (<origin>)", so the first keeps working."""
    found: dict[str, NotifierInfo] = {}
    for point in entry_points(group=GROUP):
        info = _load(point)
        if info.name in found:
            taken = f"the name {info.name!r} is already taken by {found[info.name].origin}"
            found[f"{info.name} ({info.origin})"] = NotifierInfo(
                info.name, info.origin, None, taken
            )
            continue
        found[info.name] = info
    return found


def _load(point: EntryPoint) -> NotifierInfo:
    dist = point.dist.name if point.dist is not None else "?"
    origin = "built-in" if dist == "opsdesk" else f"package {dist}"
    try:
        return NotifierInfo(point.name, origin, _checked(point.load(), point.name))
    except Exception as exc:  # a notifier is someone else's code: report, carry on
        return NotifierInfo(point.name, origin, None, _reason(exc))


def _checked(loaded: object, name: str) -> Notifier:
    """An instance of the registered class, if it looks like a notifier by that name."""
    if not inspect.isclass(loaded):
        raise TypeError(f"{loaded!r} is not a class")
    if getattr(loaded, "name", None) != name:
        raise TypeError(f"its name is {getattr(loaded, 'name', None)!r}, registered as {name!r}")
    if not inspect.iscoroutinefunction(getattr(loaded, "send", None)):
        raise TypeError("it has no `async def send(message, recipient, settings, client)`")
    return cast(Notifier, loaded())


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
