"""The demo's month under review (console/ops/demo_review.py): a bad week of checkout
P1/P2s with breaches, the Cloudflare outage in it, a failed and a rolled-back change each
linked to an incident, an accepted review, and data in the month before for comparison."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.demo_review import SERVICE, story
from opsdesk.store import Store
from tests.conftest import FIXED_NOW


def test_the_review_month_is_this_one_once_half_over_else_the_last() -> None:
    late = story(FIXED_NOW)  # 25 November
    assert (late.month_start, late.month_end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert late.week_start == datetime(2026, 11, 8, tzinfo=UTC)
    assert late.week_start < late.failed_change_at < late.outage_at < late.rolled_back_at
    assert late.rolled_back_at < late.week_end < FIXED_NOW - timedelta(days=1)
    early = story(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # reviewing November on Dec 1
    assert (early.month_start, early.month_end) == (late.month_start, late.month_end)
    january = story(datetime(2027, 1, 3, tzinfo=UTC))
    assert january.month_start == datetime(2026, 12, 1, tzinfo=UTC)
    assert january.month_end == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def month_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    asyncio.run(build_demo(path, incidents=4000, seed=7, now=FIXED_NOW, creator="me"))
    return path


def _weekly(conn: sqlite3.Connection, where: str) -> dict[int, int]:
    """Checkout P1/P2 incidents matching `where`, by week (20: the bad week; weeks of
    seven days before and after it)."""
    start = story(FIXED_NOW).week_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = conn.execute(
        "SELECT CAST((julianday(created_at) - julianday(?)) / 7 + 20 AS INTEGER), count(*)"
        f" FROM incidents WHERE service = ? AND priority IN ('P1', 'P2') AND {where}"
        " GROUP BY 1",
        (start, SERVICE),
    ).fetchall()
    return dict(rows)


def test_a_bad_week_on_checkout_with_breaches(month_store: Path) -> None:
    told = story(FIXED_NOW)
    conn = sqlite3.connect(month_store)
    week = conn.execute(
        "SELECT count(*), sum(response_met = 0 OR resolve_met = 0) FROM incidents"
        " WHERE service = ? AND priority IN ('P1', 'P2') AND created_at >= ? AND created_at < ?",
        (SERVICE, told.week_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
         told.week_end.strftime("%Y-%m-%dT%H:%M:%SZ")),
    ).fetchone()  # fmt: skip
    every = _weekly(conn, "1")
    ordinary = sorted(every.values())[len(every) // 2]  # the median week
    assert week[0] >= 4 * ordinary, (week, every)
    assert week[1] >= week[0] * 0.4, week  # most of them breached a clock
    assert every[20] == week[0]
    breached = _weekly(conn, "(response_met = 0 OR resolve_met = 0)")
    assert breached[20] == week[1] and all(n * 3 < week[1] for k, n in breached.items() if k != 20)
    # Both the review month and the one before have incidents to compare.
    for first, last in (("2026-10-01", "2026-11-01"), ("2026-11-01", "2026-12-01")):
        n = conn.execute(
            "SELECT count(*) FROM incidents WHERE created_at >= ? AND created_at < ?",
            (first, last),
        ).fetchone()[0]
        assert n > 1000


def test_the_vendor_outage_is_in_the_bad_week(month_store: Path) -> None:
    told = story(FIXED_NOW)

    async def outages() -> list[tuple[str, datetime]]:
        async with await Store.open(month_store) as store:
            found = []
            for source in ("cloudflare", "github", "aws", "sendgrid", "atlassian"):
                for change in await store.statuses.history(source, told.month_start):
                    if change.level == "major_outage":
                        found.append((source, change.at))
            return found

    assert asyncio.run(outages()) == [("cloudflare", told.outage_at)]


def test_a_failed_and_a_rolled_back_change_are_linked_to_what_they_caused(
    month_store: Path,
) -> None:
    told = story(FIXED_NOW)

    async def look() -> None:
        async with await Store.open(month_store) as store:
            for state in ("failed", "rolled_back"):
                [change] = await store.changes.find(
                    states=(state,), services=(SERVICE,),
                    window_from=told.week_start, window_before=told.week_end,
                )  # fmt: skip
                linked = await store.changes.linked_incidents(change.key)
                assert len(linked) == 1, (state, linked)
                incident = await store.incidents.get(linked[0])
                assert incident.service == SERVICE and incident.priority in ("P1", "P2")
                assert change.planned_start <= incident.created_at < told.week_end
                if state == "failed":
                    review = await store.reviews.get(incident.key)
                    assert review is not None and review.state == "accepted"

    asyncio.run(look())


def test_the_review_of_the_demo_month_tells_the_story(month_store: Path) -> None:
    """Read through the review figures the report and the Review screen share: checkout is
    red and grew against the month before, Cloudflare missed its contracted availability,
    the failed and rolled-back changes are linked, and outages have a cost."""
    from opsdesk.console.domain.review_period import month_period
    from opsdesk.console.ops.service_review import build_review
    from opsdesk.console.ops.session import Options, open_session

    told = story(FIXED_NOW)

    async def review() -> object:
        session = await open_session(Options(store=str(month_store)))
        try:
            period = month_period(f"{told.month_start:%Y-%m}", "UTC")
            return await build_review(session.store, session.config, period, FIXED_NOW)
        finally:
            await session.close()

    found = asyncio.run(review())
    rag = {r.service: r.status for r in found.rag}  # type: ignore[attr-defined]
    assert rag[SERVICE] == "red"
    assert "green" in rag.values(), rag  # a review where nothing is on target reads as noise
    csat = {c.service: c for c in found.customers}  # type: ignore[attr-defined]
    calm = [c.average for name, c in csat.items() if name not in (SERVICE, "all") and c.average]
    assert csat[SERVICE].average < sorted(calm)[len(calm) // 2]  # late fixes, lower scores
    volume = {v.name: v for v in found.incidents.by_service}  # type: ignore[attr-defined]
    assert volume[SERVICE].count > volume[SERVICE].previous
    vendors = {v.vendor: v for v in found.vendors.vendors}  # type: ignore[attr-defined]
    cloudflare = vendors["Cloudflare"]
    assert cloudflare.met is False and cloudflare.downtime >= timedelta(minutes=150)
    changes = found.changes  # type: ignore[attr-defined]
    assert changes.failed >= 1 and changes.rolled_back >= 1 and changes.linked_to_incidents >= 2
    major = found.incidents.major  # type: ignore[attr-defined]
    assert any(m.service == SERVICE and m.review_state == "accepted" for m in major)
