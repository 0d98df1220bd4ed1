"""Vendor availability from status history: the share of known time a source was not in
an outage. Maintenance and degraded service count as available (the service answered);
time before the first report or while the level was unknown is left out of the sum."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from opsdesk.store.records import LevelChange

DOWN = {"partial_outage", "major_outage"}


def availability(changes: Sequence[LevelChange], since: datetime, now: datetime) -> float | None:
    """Available share of [since, now) given level changes (the one in force at `since`
    first, if any), or None when nothing was known in the window."""
    if not changes or since >= now:
        return None
    points = [(max(c.at, since), c.level) for c in sorted(changes, key=lambda c: c.at)]
    spans = [(a[0], b[0], a[1]) for a, b in pairwise([*points, (now, "")])]
    known = down = timedelta(0)
    for start, end, level in spans:
        if end <= start or level == "unknown":
            continue
        known += end - start
        if level in DOWN:
            down += end - start
    return None if not known else 1 - down / known
