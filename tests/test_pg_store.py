"""The PostgreSQL store's seam: the connection facade, opening and migrating, who acts, the
live feed across connections and a server restart, and the one-line errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from opsdesk.store import Store, StoreOpenError
from opsdesk.store.location import PgLocation, parse_location
from opsdesk.store.pg.conn import translate, truncating_casts
from tests.pg_cluster import PgCluster

# --- the facade's SQL translation (no server needed) -----------------------------------


def test_placeholders_become_psycopgs_and_literals_are_left_alone() -> None:
    sql = "SELECT '?', x LIKE 'a%' FROM t WHERE a = ? AND b = \"?\" AND c::text = ?"
    assert translate(sql, False) == (
        "SELECT '?', x LIKE 'a%%' FROM t WHERE a = %s AND b = \"?\" AND c::text = %s"
    )


def test_named_placeholders_only_with_a_dict_and_never_a_cast() -> None:
    assert translate("SELECT :who, x::text", True) == "SELECT %(who)s, x::text"
    assert translate("SELECT :who", False) == "SELECT :who"


def test_integer_casts_truncate_as_sqlite_does_and_others_stay() -> None:
    assert truncating_casts("CAST(d / 60 AS INTEGER)") == (
        "CAST(trunc(CAST(d / 60 AS double precision)) AS bigint)"
    )
    assert truncating_casts("CAST(x AS TEXT) || CAST(f(a, b) AS integer)") == (
        "CAST(x AS TEXT) || CAST(trunc(CAST(f(a, b) AS double precision)) AS bigint)"
    )


def test_a_url_is_postgres_and_anything_else_a_path_and_passwords_are_never_shown() -> None:
    location = parse_location("postgresql://ann:s3cret@db.example/ops")
    assert isinstance(location, PgLocation)
    assert "s3cret" not in location.display and location.name == "pg:ops"
    assert parse_location("~/x.db") == Path("~/x.db").expanduser()


# --- against the throwaway cluster -----------------------------------------------------


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for `check` to hold, looking again each time the loop turns (bounded)."""
    for _ in range(2000):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_new_database_is_migrated_on_open_and_says_so(pg_database: str) -> None:
    async with await Store.open(pg_database) as store:
        info = await store.info()
        assert info.schema_version == info.latest_schema > 0
        assert info.created_at is not None and store.backend == "postgres"
        assert "postgres" in info.path and store.location.name.startswith("pg:")
    async with await Store.open(pg_database) as again:  # nothing left to apply
        assert (await again.info()).schema_version == info.schema_version


async def test_the_actor_is_the_authenticated_role_with_its_database_roles(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    async with await Store.open(pg_database):
        pass  # migrate as the owner first: the roles exist from here
    pg_cluster.create_role("ann_pgstore", member_of=("opsdesk_engineer", "opsdesk_cab"))
    name = urlsplit(pg_database).path.lstrip("/")
    async with await Store.open(pg_cluster.url(name, user="ann_pgstore")) as store:
        actor, roles = await store.authenticated_actor()
    assert actor.login == "ann_pgstore"
    assert set(roles) == {"engineer", "cab"} and actor.has("cab") and not actor.has("lead")


async def test_a_commit_elsewhere_moves_the_change_token(pg_database: str) -> None:
    async with await Store.open(pg_database) as watcher, await Store.open(pg_database) as writer:
        before = await watcher.change_token()
        async with writer.atomic():
            await writer.leases.claim("x", "me", _now(), _ttl())

        async def moved() -> bool:
            return await watcher.change_token() != before

        await until(moved, "the NOTIFY of another connection's commit")


async def test_a_server_restart_is_said_and_the_feed_and_reads_recover(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    async with await Store.open(pg_database) as store:
        before = await store.change_token()
        pg_cluster.stop()

        async def says_so() -> bool:
            await store.change_token()
            return store.live_problem is not None

        await until(says_so, "the feed to notice the server is gone")
        assert "cannot be reached" in (store.live_problem or "")
        pg_cluster.start()

        async def back() -> bool:
            return store.live_problem is None and await store.change_token() != before

        await until(back, "the feed to reconnect")
        assert (await store.info()).counts["incidents"] == 0  # a read after the restart


def test_a_missing_driver_names_the_extra_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.modules['psycopg_pool'] = None\n"
        "from opsdesk.console.cli import main; sys.exit(main())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "--store", "postgresql:///x?host=/nonexistent", "incident",
         "list"],
        capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "opsdesk: a postgresql:// store needs the PostgreSQL driver: "
        "pip install 'opsdesk[postgres]' (psycopg is missing)"
    ]


def test_an_unreachable_server_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = subprocess.run(
        ["opsdesk", "--store", f"postgresql:///x?host={tmp_path}", "incident", "list"],
        capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)}, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to PostgreSQL" in lines[0], lines
    assert "Traceback" not in result.stderr


async def test_a_role_that_may_not_migrate_is_told_who_must(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    pg_cluster.create_role("bob_pgstore", member_of=())
    name = urlsplit(pg_database).path.lstrip("/")
    with pytest.raises(StoreOpenError, match="owner") as raised:
        await Store.open(pg_cluster.url(name, user="bob_pgstore"))
    assert "\n" not in str(raised.value)


def _now() -> datetime:
    return datetime(2026, 11, 30, 12, tzinfo=UTC)


def _ttl() -> timedelta:
    return timedelta(minutes=1)


async def test_audit_verify_sees_a_guard_of_the_audit_table_disabled(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    async with await Store.open(pg_database) as store:
        assert (await store.audit.verify()).guards_intact
    name = urlsplit(pg_database).path.lstrip("/")
    pg_cluster.psql("ALTER TABLE audit DISABLE TRIGGER audit_refuses_delete", db=name, check=True)
    async with await Store.open(pg_database) as store:
        assert not (await store.audit.verify()).guards_intact


def test_a_bad_pool_size_is_a_configuration_mistake(pg_database: str, tmp_path: Path) -> None:
    result = subprocess.run(
        ["opsdesk", "--store", pg_database, "incident", "list"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "HOME": str(tmp_path), "OPSDESK_PG_POOL": "lots"},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "opsdesk: OPSDESK_PG_POOL: expected a number from 1 to 64, got 'lots'"
    )


def test_the_drivers_warnings_go_to_the_log_file_never_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """psycopg warns when a search is cancelled as someone types; on the terminal that
    line would draw over the console."""
    import logging

    from opsdesk.console.cli import logs

    path = logs.setup(str(tmp_path / "opsdesk.log"), 0)
    assert path is not None
    logging.getLogger("psycopg").warning("query cancellation interrupted")
    for handler in logging.getLogger("psycopg").handlers:
        handler.flush()
    assert capsys.readouterr().err == ""
    assert "WARNING psycopg: query cancellation interrupted" in path.read_text()
