"""The queue's data at scale: full-text search, every sort order, and windows that add up
to the whole list, on real SQLite stores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from opsdesk.screens.queue_rows import IncidentSource
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store.incidents import fts_query
from opsdesk.store.records import INCIDENT_SORTS, IncidentEvent, IncidentFilter, IncidentOrder
from tests.conftest import FIXED_NOW

ENGINEER = Actor("eve")
OPEN = ("new", "acknowledged", "in_progress", "on_hold")


async def titled(store: Store, title: str, description: str = "", service: str = "payments"):  # type: ignore[no-untyped-def]
    new = NewIncident(title, service, 2, 2, "P2", description=description)
    return await store.incidents.create(ENGINEER, new, FIXED_NOW)


async def keys(store: Store, text: str) -> list[str]:
    found = await store.incidents.find(IncidentFilter(search=text), limit=50)
    return sorted(i.key for i in found)


async def test_search_matches_word_prefixes_in_every_text_field(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        disk = await titled(store, "Disk full on db-7", "the /var volume filled up")
        await titled(store, "Checkout latency", service="checkout")
        tls = await titled(store, "Certificate expired", "TLS handshake failures")
        assert await keys(store, "disk") == [disk.key]
        assert await keys(store, "dis ful") == [disk.key]  # every word, each a prefix
        assert await keys(store, "volume") == [disk.key]  # description
        assert await keys(store, "CHECKOUT") == ["INC-2"]  # service, any case
        assert await keys(store, "handshake cert") == [tls.key]
        assert await keys(store, "disk tls") == []
        assert await keys(store, "inc-3") == [tls.key]  # a key jumps straight to it
        assert await keys(store, "3") == [tls.key]

        await store.incidents.apply(
            ENGINEER, disk.key, disk.version, {"assignee": "zoltan"},
            IncidentEvent(FIXED_NOW, "eve", "assigned", None, "zoltan"), "incident.assign",
            FIXED_NOW,
        )  # fmt: skip
        assert await keys(store, "zolt") == [disk.key]  # the index follows updates


@pytest.mark.parametrize(
    "typed",
    ['"', "NEAR(a b)", "title:disk", "disk OR 1=1", "*", "^disk", "-disk", "[bold]", "'; --", ""],
)
async def test_search_syntax_in_the_input_is_only_text(tmp_path: Path, typed: str) -> None:
    async with await Store.open(tmp_path / "s.db") as store:
        disk = await titled(store, "Disk full", "bold move")
        found = await keys(store, typed)
        assert found in ([], [disk.key])  # never an SQL or FTS5 error
    words = fts_query(typed)
    assert "NEAR(" not in words and ":" not in words and "^" not in words


async def test_every_order_reversed_is_the_exact_reverse(demo_store: Path) -> None:
    async with await Store.open(demo_store) as store:
        everything = IncidentFilter()
        total = await store.incidents.count(everything)
        assert total == 300
        for by in INCIDENT_SORTS:
            ahead = await store.incidents.find(everything, total, 0, IncidentOrder(by))
            back = await store.incidents.find(everything, total, 0, IncidentOrder(by, True))
            assert [i.key for i in ahead] == [i.key for i in reversed(back)], by
            assert len({i.key for i in ahead}) == total


async def test_orders_mean_what_their_names_say(demo_store: Path) -> None:
    async with await Store.open(demo_store) as store:
        find = store.incidents.find
        by_priority = await find(IncidentFilter(), 300, 0, IncidentOrder("priority"))
        assert [i.priority for i in by_priority] == sorted(i.priority for i in by_priority)
        youngest = await find(IncidentFilter(), 300, 0, IncidentOrder("age"))
        assert [i.created_at for i in youngest] == sorted(
            (i.created_at for i in youngest), reverse=True
        )
        by_title = await find(IncidentFilter(), 300, 0, IncidentOrder("title"))
        assert [i.title.casefold() for i in by_title] == sorted(
            i.title.casefold() for i in by_title
        )
        urgent = await find(IncidentFilter(states=OPEN), 300, 0, IncidentOrder())
        dues = [
            min(d for d in (i.response_due, i.resolve_due) if d) for i in urgent if i.resolve_due
        ]
        assert dues == sorted(dues)  # breached (earliest due) first


async def test_windows_from_either_end_add_up_to_the_whole_list(demo_store: Path) -> None:
    """The queue fetches deep windows with the order turned round; they must be the same
    rows as the forward windows, in the same order."""
    async with await Store.open(demo_store) as store:
        for order in (IncidentOrder(), IncidentOrder("title", True), IncidentOrder("assignee")):
            where = IncidentFilter()
            whole = [i.key for i in await store.incidents.find(where, 300, 0, order)]
            source = IncidentSource(store, where, order, FIXED_NOW)
            assert await source.count() == 300
            pieced = []
            for offset in range(0, 300, 70):
                pieced += [row.key for row in await source.window(offset, 70)]
            assert pieced == whole


async def test_search_combines_with_the_quick_filters(demo_store: Path) -> None:
    async with await Store.open(demo_store) as store:
        some = (await store.incidents.find(IncidentFilter(states=OPEN), 1))[0]
        word = some.title.split()[0]
        where = IncidentFilter(states=OPEN, search=word)
        found = await store.incidents.find(where, 300)
        assert some.key in {i.key for i in found}
        assert all(i.state in OPEN and word.casefold() in i.title.casefold() for i in found)
        assert await store.incidents.count(where) == len(found)
        assert await store.incidents.count(replace(where, search=None)) >= len(found)
