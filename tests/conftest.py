"""Shared fixtures. Every test runs with its own HOME/XDG folders so that nothing reads or
writes the developer's real config, store or logs, and with UTC as the local zone."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.identity import current_login
from tests.pg_cluster import PgCluster, cluster_or_skip
from tests.status_server import StatusServer, status_server
from tests.store_backends import register_cluster

FIXED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    for name in ("OPSDESK_CONFIG", "TEXTUAL_THEME", "NO_COLOR", "TEXTUAL_ANIMATIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    # A real /etc/opsdesk on a developer's machine must not leak into the tests.
    from opsdesk.console.config import loader

    monkeypatch.setattr(loader, "SYSTEM_CONFIG_DIR", tmp_path / "etc-opsdesk")
    time.tzset()
    yield home
    time.tzset()


@pytest.fixture
def server() -> Iterator[StatusServer]:
    """A status server on 127.0.0.1 for the poller and adapter tests (tests/status_server.py)."""
    with status_server() as running:
        yield running


@pytest.fixture
def me() -> str:
    return current_login()


@pytest.fixture
def write_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a config file (and optional drop-ins) and return its path."""

    def write(text: str, name: str = "config.toml", dropins: dict[str, str] | None = None) -> Path:
        folder = tmp_path / "etc"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        for dropin, body in (dropins or {}).items():
            (folder / "conf.d").mkdir(exist_ok=True)
            (folder / "conf.d" / dropin).write_text(body, encoding="utf-8")
        return path

    return write


@pytest.fixture
def demo_store(tmp_path: Path, me: str) -> Path:
    """A small deterministic demo store (seed 7, now pinned)."""
    path = tmp_path / "demo.db"
    asyncio.run(build_demo(path, incidents=300, seed=7, now=FIXED_NOW, creator=me))
    return path


def mode_of(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.fixture
def cli_store(tmp_path: Path) -> str:
    """Where `cli` keeps its store: a SQLite file. A test module whose CLI tests run on both
    backends overrides this fixture with tests/store_backends.py `cli_store_as`."""
    return str(tmp_path / "s.db")


@pytest.fixture
def cli(tmp_path: Path, me: str, cli_store: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    config = tmp_path / "team.toml"
    config.write_text(
        f"""
[[people]]
login = "{me}"
[[people]]
login = "ana"
[[services]]
name = "payments"
[[services]]
name = "wiki"
[reviews]
required_for = []  # closing without a review here; the review gate: tests/test_review_cli.py
"""
    )

    def call(*argv: str) -> tuple[int, object]:
        code = run(["--config", str(config), "--store", cli_store, *argv])
        captured = capsys.readouterr()
        out = captured.out
        if "--json" in argv and code == 0:
            return code, json.loads(out)
        return code, (out if code == 0 else captured.err)

    return call


# -- PostgreSQL (issue 20) ------------------------------------------------------------------
# One throwaway cluster per session, started on first use only (a run that selects no
# postgres test never runs initdb); each test gets a fresh database. `-m "not postgres"` runs
# the SQLite side alone.

PG_FIXTURES = {"pg_cluster", "pg_database"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the cluster, directly or through a fixture, is marked postgres."""
    for item in items:
        if PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's PostgreSQL cluster (tests/pg_cluster.py), started; skipped without
    PostgreSQL installed, failed instead when CI is set."""
    cluster = cluster_or_skip()
    try:
        cluster.start()
        register_cluster(cluster)  # tests/store_backends.py open_as finds it by URL
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database (owned by opsdesk_owner): its URL as the cluster superuser.
    Other roles: pg_cluster.url(name, user=...). Dropped (with FORCE) after the test."""
    pg_cluster.start()  # brings the server back if a test stopped it
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.start()
    pg_cluster.drop_database(name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's store lives, once per backend: a SQLite file path under tmp_path, or a
    fresh PostgreSQL database URL (the cluster starts only when this param runs)."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("pg_database"))
