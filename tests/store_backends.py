"""Acting as a person on either backend, for tests parametrised by `store_location`.

On SQLite a test names who acts: it passes Actor(login, roles) and the store believes it.
On PostgreSQL the database decides: the actor is the role that authenticated and the
opsdesk roles it is a member of (store/pg/migrations/0002_security.sql stamps audit rows,
reporters and deciders from session_user). So a test that acts as several people (alice
creates, bob approves) opens the store once per person:

    store = await open_as(store_location, "alice")               # an engineer
    cab = await open_as(store_location, "bob", roles={"cab"})
    await store.changes.create(Actor("alice"), plan, now)

`open_as` on SQLite opens the file; on PostgreSQL it makes the LOGIN role (member of
opsdesk_engineer and of opsdesk_<role> for each role given) in the test cluster, migrates
the database first as the superuser (a person may not), and connects as that role. The
same Actor then goes with the calls on both backends, so messages ("changed by lena") and
the client-side role checks read alike.

The URL `store_location` gives on PostgreSQL connects as the cluster's superuser. It
bypasses privileges and row security and holds every opsdesk role (pg_has_role is true
for a superuser), but not the triggers of 0002: everything it writes is stamped as by
"postgres", it cannot approve a change it requested, audit rows stay append-only for it,
and a change without its audit row is refused at commit (only `SET
session_replication_role = replica`, a superuser's bulk load, passes those). Tests that
look at who did something, or where two people must differ, use `open_as`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from opsdesk.store import Store
from opsdesk.store.location import is_pg_url
from opsdesk.store.records import Role
from tests.pg_cluster import PgCluster

_CLUSTERS: dict[str, PgCluster] = {}
"""Running test clusters by socket folder (registered by conftest's pg_cluster fixture)."""
_MIGRATED: set[str] = set()
"""Databases (by superuser URL) already opened once, so migrated."""


def register_cluster(cluster: PgCluster) -> None:
    _CLUSTERS[str(cluster.socket_dir)] = cluster


def is_postgres(location: str) -> bool:
    return is_pg_url(str(location))


def cluster_and_db(location: str) -> tuple[PgCluster, str]:
    """The test cluster serving a `store_location` URL, and the database it names."""
    parts = urlsplit(location)
    host = parse_qs(parts.query).get("host", [""])[0]
    try:
        return _CLUSTERS[host], unquote(parts.path.lstrip("/"))
    except KeyError:
        raise LookupError(f"{location}: not a database of the test cluster") from None


def url_as(location: str, login: str, roles: Iterable[Role] = ()) -> str:
    """Where `login` (with `roles`) opens the store: the SQLite path unchanged, or on
    PostgreSQL the same database as that LOGIN role, made now (roles are cluster-wide, so
    a second call resets its memberships to exactly these)."""
    if not is_postgres(location):
        return location
    cluster, name = cluster_and_db(location)
    groups = ["opsdesk_engineer", *(f"opsdesk_{r}" for r in roles if r != "engineer")]
    cluster.create_role(login, member_of=groups)
    return cluster.url(name, user=login)


async def migrated(location: str) -> None:
    """Make sure the store exists at its newest schema: on PostgreSQL only the owner of
    its objects (or a superuser) may migrate, so the superuser URL opens it once first."""
    if is_postgres(location) and location not in _MIGRATED:
        await (await Store.open(location)).close()
        _MIGRATED.add(location)


async def open_as(location: str, login: str, roles: Iterable[Role] = ()) -> Store:
    """The store at `location` opened for `login` (see the module docstring). Pass
    `actor_of(login, roles)` with its calls."""
    roles = tuple(roles)
    await migrated(location)
    return await Store.open(url_as(location, login, roles))


class RawRefused(Exception):
    """The database refused a statement run with `raw` (its message, one line)."""


def raw(location: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement behind the store's back, as someone with the file or `psql` and
    the superuser login would, committed; its rows. A refusal raises RawRefused on both
    backends. SQL is written with `?` placeholders, as the store's. On PostgreSQL a
    statement may be preceded by others (`SET ...; UPDATE ...`) when it has no parameters."""
    return [tuple(row.values()) for row in raw_named(location, sql, params)]


def raw_named(location: str, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, Any]]:
    """`raw`, each row as a dict by column name."""
    if not is_postgres(location):
        import sqlite3

        conn = sqlite3.connect(location)
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                return [dict(row) for row in conn.execute(sql, params).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise RawRefused(str(exc)) from None
        finally:
            conn.close()
    import psycopg
    from psycopg.rows import dict_row

    try:
        with psycopg.connect(location, row_factory=dict_row) as conn:
            cursor = conn.execute(sql.replace("?", "%s") if params else sql, params or None)
            return list(cursor.fetchall()) if cursor.description else []
    except psycopg.Error as exc:
        raise RawRefused(str(exc).splitlines()[0]) from None


WITHIN = 10.0
"""Seconds a wait for another connection's commit to be heard may take (a failure bound)."""


async def eventually(check: Callable[[], Awaitable[bool]], within: float = WITHIN) -> bool:
    """Until `check()` is true, or False after `within` seconds. On SQLite a commit is seen
    by the next look; on PostgreSQL the live feed hears it as a NOTIFY, a moment later."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)


async def token_after(store: Store, before: object) -> object:
    """The store's change token once it differs from `before` (see `eventually`)."""
    seen: list[object] = []

    async def moved() -> bool:
        seen.append(await store.change_token())
        return seen[-1] != before

    await eventually(moved)
    return seen[-1]


def cli_store_as(location: str, login: str, roles: Iterable[Role] = ()) -> str:
    """What a CLI test passes as --store to act as `login`: the SQLite path, or on
    PostgreSQL the database (migrated now, as its owner would) as that LOGIN role. For a
    module's `cli_store` fixture, which conftest's `cli` uses:

        @pytest.fixture
        def cli_store(store_location: str, me: str) -> str:
            return cli_store_as(store_location, me)
    """
    roles = tuple(roles)
    if is_postgres(location):
        asyncio.run(migrated(location))
    return url_as(location, login, roles)


def not_yet_on_postgres(request: pytest.FixtureRequest, location: str, why: str) -> None:
    """Mark this test's PostgreSQL run as a known gap: expected to fail, strictly, so the
    day the gap closes the run says so and this call is removed."""
    if is_postgres(location):
        request.node.add_marker(pytest.mark.xfail(reason=f"PostgreSQL: {why}", strict=True))


@asynccontextmanager
async def people(
    location: str, roles: Mapping[str, Iterable[Role]]
) -> AsyncIterator[dict[str, Store]]:
    """The store opened for each login of `roles` (login: its roles): on SQLite one store
    shared by all (the Actor passed names who acts), on PostgreSQL one per person."""
    opened: dict[str, Store] = {}
    try:
        if is_postgres(location):
            for login, held in roles.items():
                opened[login] = await open_as(location, login, held)
        else:
            shared = await Store.open(location)
            opened = dict.fromkeys(roles, shared)
        yield opened
    finally:
        for store in {id(s): s for s in opened.values()}.values():
            await store.close()
