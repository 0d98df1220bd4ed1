"""The throwaway PostgreSQL cluster the PostgreSQL tests stand on (tests/pg_cluster.py): it
starts, hands out separate databases psycopg can open, survives a restart with its data, kills
connections on demand, and lets an OS account in as its own role only (peer authentication),
so a role-bypass test through psql means what it says."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests import pg_cluster as harness
from tests.pg_cluster import PgCluster, ensure_os_account, reap_orphans


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]  # type: ignore[return-value]


async def test_a_fresh_database_opens_with_psycopg_over_the_socket_only(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    conn = await psycopg.AsyncConnection.connect(pg_database)
    async with conn:
        cur = await conn.execute(
            "SELECT current_database(), session_user, pg_get_userbyid(d.datdba),"
            " pg_encoding_to_char(d.encoding), current_setting('listen_addresses'),"
            " current_setting('fsync'), inet_server_addr() IS NULL"
            " FROM pg_database d WHERE d.datname = current_database()"
        )
        row = await cur.fetchone()
    assert row == (_dbname(pg_database), "postgres", "opsdesk_owner", "UTF8", "", "off", True)
    assert pg_database.startswith("postgresql://postgres@/")
    assert f"host={pg_cluster.socket_dir}" in pg_database


async def test_two_databases_are_separate(pg_cluster: PgCluster) -> None:
    first, second = pg_cluster.create_database(), pg_cluster.create_database()
    try:
        assert first != second
        async with await psycopg.AsyncConnection.connect(pg_cluster.url(first)) as conn:
            await conn.execute("CREATE TABLE only_here (x int)")
        async with await psycopg.AsyncConnection.connect(pg_cluster.url(second)) as conn:
            cur = await conn.execute("SELECT to_regclass('only_here') IS NULL")
            assert await cur.fetchone() == (True,)
    finally:
        pg_cluster.drop_database(first)
        pg_cluster.drop_database(second)


async def test_restart_drops_open_connections_and_keeps_committed_data(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    async with await psycopg.AsyncConnection.connect(pg_database, autocommit=True) as conn:
        await conn.execute("CREATE TABLE kept (x int)")
        await conn.execute("INSERT INTO kept VALUES (1), (2)")
        started = await (await conn.execute("SELECT pg_postmaster_start_time()")).fetchone()
        pg_cluster.restart()
        with pytest.raises(psycopg.OperationalError):
            await conn.execute("SELECT 1")
    async with await psycopg.AsyncConnection.connect(pg_database) as conn:
        cur = await conn.execute("SELECT count(*), pg_postmaster_start_time() FROM kept")
        row = await cur.fetchone()
    assert row is not None and started is not None
    assert row[0] == 2
    assert row[1] > started[0]


async def test_terminate_connections_kills_an_open_session(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    async with await psycopg.AsyncConnection.connect(pg_database) as conn:
        await conn.execute("SELECT 1")
        assert pg_cluster.terminate_connections(_dbname(pg_database)) == 1
        with pytest.raises(psycopg.OperationalError):
            await conn.execute("SELECT 1")
    assert pg_cluster.terminate_connections(_dbname(pg_database)) == 0


def test_psql_stops_at_the_first_error(pg_cluster: PgCluster, pg_database: str) -> None:
    done = pg_cluster.psql("SELECT 1; SELECT 1/0; SELECT 3;", db=_dbname(pg_database))
    assert done.returncode == 3
    assert done.stdout == "1\n"
    assert "division by zero" in done.stderr
    with pytest.raises(harness.PgClusterError, match="division by zero"):
        pg_cluster.psql("SELECT 1/0", db=_dbname(pg_database), check=True)


def test_create_role_sets_exactly_the_memberships_asked(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    db = _dbname(pg_database)
    query = (
        "SELECT session_user, pg_has_role('opsdesk_lead', 'member'),"
        " pg_has_role('opsdesk_engineer', 'member')"
    )
    pg_cluster.create_role("carol", member_of=["opsdesk_lead", "opsdesk_engineer"])
    assert pg_cluster.psql(query, db=db, user="carol", check=True).stdout == "carol|t|t\n"
    pg_cluster.create_role("carol", member_of=["opsdesk_engineer"])
    assert pg_cluster.psql(query, db=db, user="carol", check=True).stdout == "carol|f|t\n"


def test_a_nologin_role_cannot_connect(pg_cluster: PgCluster, pg_database: str) -> None:
    pg_cluster.create_role("dora", login=False)
    done = pg_cluster.psql("SELECT 1", db=_dbname(pg_database), user="dora")
    assert done.returncode != 0
    assert 'role "dora" is not permitted to log in' in done.stderr


def test_peer_authentication_lets_an_os_account_in_as_its_own_role_only(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    if not harness.running_as_root():
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must run the peer authentication test")
        pytest.skip("needs root (useradd, runuser); CI runs it")
    db = _dbname(pg_database)
    ensure_os_account("alice")
    pg_cluster.create_role("alice")
    pg_cluster.create_role("bob")
    as_bob = pg_cluster.psql("SELECT session_user", db=db, user="bob", as_os_user="alice")
    assert as_bob.returncode != 0
    assert 'Peer authentication failed for user "bob"' in as_bob.stderr
    as_super = pg_cluster.psql("SELECT 1", db=db, user="postgres", as_os_user="alice")
    assert 'Peer authentication failed for user "postgres"' in as_super.stderr
    as_alice = pg_cluster.psql("SELECT session_user", db=db, as_os_user="alice")
    assert (as_alice.returncode, as_alice.stdout) == (0, "alice\n")
    # The runner itself may be bob: the map gives it every role the harness made.
    assert pg_cluster.psql("SELECT session_user", db=db, user="bob").stdout == "bob\n"


def test_without_postgresql_the_fixture_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(harness, "find_binaries", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not installed"):
        harness.cluster_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        harness.cluster_or_skip()


def test_a_cluster_left_by_a_dead_session_is_stopped_and_removed(pg_cluster: PgCluster) -> None:
    orphan = PgCluster(pg_cluster.binaries)
    orphan.start()
    try:
        assert orphan.base is not None
        base = orphan.base
        dead = subprocess.Popen(["true"])
        dead.wait()
        (base / "owner.pid").write_text(f"{dead.pid}\n", encoding="ascii")
        postmaster = int((orphan.data_dir / "postmaster.pid").read_text().split()[0])
        assert base in reap_orphans()
        assert not base.exists()
        assert not harness._pid_alive(postmaster)
        assert pg_cluster.psql("SELECT 1", check=True).stdout == "1\n"  # ours is untouched
    finally:
        orphan.destroy()


def test_store_location_gives_one_location_per_backend(
    store_location: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    marked = request.node.get_closest_marker("postgres") is not None
    if store_location.startswith("postgresql://"):
        assert marked
        with psycopg.connect(store_location) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    else:
        assert not marked
        assert Path(store_location).parent == tmp_path
