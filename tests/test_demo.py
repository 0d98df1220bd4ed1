"""Demo stores: realistic, deterministic for a seed, self-configuring, never over real data."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.problems import ProblemOps
from opsdesk.console.ops.reviews import ReviewOps
from opsdesk.console.ops.session import Options, open_session
from opsdesk.store import Actor, NewIncident, Store, StoreOpenError
from opsdesk.store.incidents import OPEN_STATES
from opsdesk.store.records import IncidentFilter
from tests.conftest import FIXED_NOW, mode_of


def dump(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT * FROM incidents ORDER BY id").fetchall()
    rows += conn.execute("SELECT * FROM changes ORDER BY id").fetchall()
    conn.close()
    return rows


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    paths = [tmp_path / f"{n}.db" for n in range(3)]
    for path, seed in zip(paths, (1, 1, 2), strict=True):
        asyncio.run(build_demo(path, incidents=400, seed=seed, now=FIXED_NOW, creator="me"))
    assert dump(paths[0]) == dump(paths[1])
    assert dump(paths[0]) != dump(paths[2])


def test_demo_data_is_realistic(demo_store: Path) -> None:
    conn = sqlite3.connect(demo_store)
    states = dict(conn.execute("SELECT state, count(*) FROM incidents GROUP BY state").fetchall())
    assert states["closed"] > states.get("new", 0)
    assert {"new", "closed"} <= set(states)
    oldest, newest = conn.execute(
        "SELECT min(created_at), max(created_at) FROM incidents"
    ).fetchone()
    assert oldest.startswith("2026-08-2") and newest <= "2026-11-25T12:00:00Z"
    priorities = {r[0] for r in conn.execute("SELECT DISTINCT priority FROM incidents")}
    assert priorities == {"P1", "P2", "P3", "P4"}
    bad = conn.execute(
        "SELECT count(*) FROM incidents WHERE acknowledged_at < created_at"
        " OR resolved_at < acknowledged_at OR closed_at < resolved_at"
    ).fetchone()[0]
    assert bad == 0
    assert conn.execute("SELECT count(*) FROM changes").fetchone()[0] >= 40
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert mode_of(demo_store) == 0o600


async def test_demo_store_brings_its_own_config(demo_store: Path, me: str) -> None:
    session = await open_session(Options(store=str(demo_store)))
    try:
        assert {p.login for p in session.config.people} >= {"ana", "dana", me}
        assert {s.name for s in session.config.services} >= {"payments", "checkout"}
        assert len(session.config.schedules) == 2
        assert session.actor.roles >= {"admin", "lead", "cab"}
    finally:
        await session.close()


async def test_demo_refuses_a_real_store(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    async with await Store.open(real) as store:
        await store.incidents.create(
            Actor("ana"), NewIncident("keep", "payments", 1, 1, "P1"), FIXED_NOW
        )
    with pytest.raises(StoreOpenError, match="not a demo already exists"):
        await build_demo(real, incidents=10, seed=1, now=FIXED_NOW, creator="me")
    async with await Store.open(real) as store:
        assert (await store.incidents.get("INC-1")).title == "keep"
    assert not list(tmp_path.glob(".real.db.building-*"))


def test_demo_cli_reopens_a_demo_store_recreates_it_with_reset_and_refuses_others(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys
) -> None:
    path = tmp_path / "d.db"

    def count() -> int:
        conn = sqlite3.connect(path)
        try:
            return int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])
        finally:
            conn.close()

    assert run(["demo", "--store", str(path), "--incidents", "50", "--no-ui"]) == 0
    assert run(["demo", "--store", str(path), "--incidents", "70", "--no-ui"]) == 0
    assert count() == 50  # reopened, not rebuilt
    assert run(["demo", "--store", str(path), "--incidents", "70", "--no-ui", "--reset"]) == 0
    assert count() == 70
    other = tmp_path / "other.txt"
    other.write_text("precious")
    assert run(["demo", "--store", str(other), "--no-ui"]) == 1
    assert other.read_text() == "precious"
    assert "not a demo" in capsys.readouterr().err


async def test_the_demo_has_the_learning_loop(demo_store: Path) -> None:
    """Problems (one a known error with an open incident that matches it), candidates to
    accept, an accepted review with its action items (one overdue) and a draft: made through the operations, so they are audited and consistent."""
    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        store, config = session.store, session.config
        problems = await store.problems.find(None)
        states = sorted(p.problem.state for p in problems)
        assert states == ["known_error", "under_investigation"]
        known = next(p.problem for p in problems if p.problem.state == "known_error")
        assert known.workaround and known.root_cause
        ops = ProblemOps(store, config, session.actor)
        matches = [
            i
            for i in await store.incidents.find(IncidentFilter(states=OPEN_STATES), limit=500)
            if (m := await ops.known_error_for(i)) is not None
            and m.problem.key == known.key
            and await store.problems.for_incident(i.key) is None
        ]
        assert matches, "an open incident shows the known error's workaround"
        assert await ops.candidates(FIXED_NOW)
        reviews = ReviewOps(store, config, session.actor)
        actions = await reviews.actions(FIXED_NOW, states=("open", "done"))
        assert sorted(a.item.state for a in actions) == ["done", "open"]
        assert [a.overdue for a in actions if a.item.state == "open"] == [True]
        written = [r for r in (await store.reviews.for_incidents(
            [a.item.incident_key for a in actions if a.item.incident_key]
        )).values()]  # fmt: skip
        assert [r.state for r in written] == ["accepted"]
        audit = await store.audit.entries(entity="problem")
        assert {a.actor for a in audit} == {"ana"}
    finally:
        await session.close()
