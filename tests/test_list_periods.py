"""Periods from `--from`/`--to` (whole days in a zone, DST days included) and the store's
streamed listing (`--limit 0`) against its windowed one, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.domain.periods import between, parse_bound
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.store import Actor, Store
from opsdesk.store.records import TRIAGE, IncidentFilter, IncidentOrder
from tests.conftest import START

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_bound_is_a_day_or_an_instant() -> None:
    assert parse_bound("2026-11-01") == date(2026, 11, 1)
    assert parse_bound("2026-11-01T09:00Z") == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert parse_bound("2026-11-01T09:00") == datetime(2026, 11, 1, 9, tzinfo=UTC)
    assert parse_bound("2026-11-01T10:00+01:00") == datetime(2026, 11, 1, 9, tzinfo=UTC)
    for bad in ("2026-13-01", "2026-02-30", "tomorrow", "", "2026-11"):
        with pytest.raises(ValueError, match="expected a date like 2026-11-01 or a time"):
            parse_bound(bad)


def test_days_are_whole_days_in_the_zone_even_across_dst() -> None:
    # 2026-10-25 in Berlin has 25 hours (clocks go back), 2026-03-29 has 23.
    start, end = between(date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert start == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert end is not None and start is not None and end - start == timedelta(hours=25)
    start, end = between(date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    assert end is not None and start is not None and end - start == timedelta(hours=23)
    # November in UTC: [Nov 1 00:00, Dec 1 00:00).
    assert between(date(2026, 11, 1), date(2026, 11, 30)) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert between(None, None) == (None, None)
    assert between(date(2026, 11, 1), None) == (datetime(2026, 11, 1, tzinfo=UTC), None)


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^--from 2026-11-02 is not before --to 2026-11-01$"):
        between(date(2026, 11, 2), date(2026, 11, 1))
    one = datetime(2026, 11, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="is not before"):
        between(one, one)
    between(one, one + timedelta(seconds=1))  # the shortest period there is


async def test_streaming_every_row_gives_the_windowed_order(tmp_path: Path) -> None:
    config = parse_text('[[services]]\nname = "payments"\n[[services]]\nname = "wiki"\n', "t")
    async with await Store.open(tmp_path / "s.db") as store:
        ops = IncidentOps(store, config, Actor("ana"))
        at = START
        for n in range(23):
            service = "payments" if n % 3 else "wiki"
            incident = await ops.create(
                f"Incident {n} disk", service, at, impact=1 + n % 3, urgency=1 + n % 2
            )
            if n % 4 == 0:
                await ops.transition(incident.key, "acknowledge", at + timedelta(minutes=1))
            at += timedelta(minutes=37)
        now = at + timedelta(hours=2)
        filters = [
            IncidentFilter(),
            IncidentFilter(states=("new", "acknowledged", "in_progress", "on_hold")),
            IncidentFilter(services=("payments",), breached_by=now),
            IncidentFilter(search="disk"),
        ]
        for where in filters:
            for by in (TRIAGE, "urgency", "title", "key"):
                for descending in (False, True):
                    order = IncidentOrder(by, descending=descending)
                    whole = [i.key for i in await store.incidents.find(where, 1000, order=order)]
                    streamed = [
                        i.key
                        async for chunk in store.incidents.each(where, order, chunk=4)
                        for i in chunk
                    ]
                    assert streamed == whole, (where, order)
                    assert len(whole) == await store.incidents.count(where)
        # A bounded count of a filter stops at its bound (and is exact below it); every
        # incident is counted exactly, which SQLite does without visiting them.
        payments = IncidentFilter(services=("payments",))
        assert await store.incidents.count(payments, at_most=5) == 5
        assert await store.incidents.count(payments, at_most=100) == 15
        assert await store.incidents.count(IncidentFilter(), at_most=5) == 23
