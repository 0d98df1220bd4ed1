"""Claims on a round of many sources, on both backends: a round's claim is a few
statements of many rows each (`RETURNING` the sources taken), so it must still take
only what is due and free, across statement boundaries, and each source once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsdesk.store import Store
from opsdesk.store.records import Outcome

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
SOURCES = 700  # more than two statements' worth


async def test_a_large_round_claims_what_is_due_and_free_and_nothing_else(
    store_location: str,
) -> None:
    names = [f"vendor-{n:03}" for n in range(SOURCES)]
    hold = NOW + timedelta(minutes=1)
    async with await Store.open(store_location) as store:
        # A third of them were polled just now (due again in an hour), a third are held
        # by another console until `hold`, a third were never seen.
        polled, held = names[0::3], names[1::3]
        assert await store.statuses.claim(dict.fromkeys(polled, hold), "a", NOW) == set(polled)
        await store.statuses.record(
            [Outcome(n, NOW, NOW + timedelta(hours=1), error="down") for n in polled]
        )
        assert await store.statuses.claim(dict.fromkeys(held, hold), "b", NOW) == set(held)

        taken = await store.statuses.claim(dict.fromkeys(names, hold), "c", NOW)
        assert taken == set(names[2::3])
        assert await store.statuses.claim(dict.fromkeys(names, hold), "d", NOW) == set()

        # Once the holds lapse, the held ones (and the unseen ones, whose claims lapsed
        # too) are free again; the polled ones wait for their hour.
        later = hold + timedelta(seconds=1)
        again = await store.statuses.claim(dict.fromkeys(names, later), "e", later)
        assert again == set(held) | set(names[2::3])
        assert len(await store.statuses.all()) == SOURCES
