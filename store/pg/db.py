"""The PostgreSQL database behind a store: a psycopg 3 async pool, its migrations, and
each write as one transaction.

It offers the repositories what `store/db.py`'s SQLite `Database` offers (write and
observe transactions, reads, counts, a change token for the live feed), so they run the
same SQL on either. What differs is kept here: transactions are PostgreSQL's own (several
may run at once; the database orders them), the live feed hears NOTIFY on a connection of
its own (`store/pg/feed.py`), and the rules that protect people are enforced by the
database itself (`migrations/0002_security.sql`), with the acting person the role that
authenticated, not a name opsdesk sends.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

from opsdesk.store.db import Reads, Transaction, audit_json, require_role
from opsdesk.store.errors import (
    ReadOnlyStore,
    StoreError,
    StoreOpenError,
)
from opsdesk.store.location import PgLocation
from opsdesk.store.records import Actor, Role

try:
    import psycopg
    from psycopg import sql as pg_sql
    from psycopg.adapt import Loader
    from psycopg_pool import AsyncConnectionPool
except ImportError as missing:  # the optional extra is not installed
    raise StoreOpenError(
        "a postgresql:// store needs the PostgreSQL driver: pip install 'opsdesk[postgres]'"
        f" ({missing.name} is missing)"
    ) from None

from opsdesk.store.pg.conn import PgConnection, as_store_error
from opsdesk.store.pg.feed import NotifyFeed

# The pool logs each failed reconnect as a warning; opsdesk says what matters itself
# (one line when the server cannot be reached; the console's "live updates paused").
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x6F70_7364_0001  # pg_advisory_xact_lock key: one migrator at a time
AUDIT_GUARDS = (  # in name order
    "audit_append",
    "audit_refuses_delete",
    "audit_refuses_truncate",
    "audit_refuses_update",
)
CONNECT_TIMEOUT = 10  # seconds to reach the server before saying it is unreachable


class BadPoolSize(StoreOpenError):
    """OPSDESK_PG_POOL is not a number it can use: a configuration mistake (exit 2)."""

    exit_code = 2


def _pool_size() -> int:
    """Connections one process keeps at most (`OPSDESK_PG_POOL`, 1-64; default 4): a
    console's reads rarely overlap more, and the server's max_connections is shared by
    every console of the team (docs/operations.md: about 3 per idle console)."""
    text = os.environ.get("OPSDESK_PG_POOL", "4")
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise BadPoolSize(f"OPSDESK_PG_POOL: expected a number from 1 to 64, got {text!r}")
    return int(text)


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) of each file in store/pg/migrations, in order."""
    found = []
    for name in os.listdir(MIGRATIONS):
        if name.endswith(".sql"):
            found.append((int(name.split("_", 1)[0]), name))
    return [
        (number, name, (MIGRATIONS / name).read_text(encoding="utf-8"))
        for number, name in sorted(found)
    ]


LATEST_PG_SCHEMA = max((number for number, _, _ in migrations()), default=0)


class NumberLoader(Loader):
    """numeric as SQLite hands numbers back: an int when whole (sum of a bigint column),
    else a float (avg), never a Decimal the rest of opsdesk does not expect."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if ("." in text or "e" in text.lower() or "N" in text) else int(text)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", NumberLoader)


class PgTransaction(Transaction):
    """The open write transaction handed to a repository, as store/db.py's Transaction.

    The audit row is written without id, actor or hash: the database's trigger sets the
    actor to the role that authenticated, takes the next id and chains the hash
    (0002_security.sql), so no client can forge or reorder them."""

    async def audit(
        self,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        from opsdesk.store.timefmt import to_db

        await self.conn.execute(
            "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                to_db(self.now), self.actor.login, action, entity, entity_key,
                audit_json(before), audit_json(after),
            ),
        )  # fmt: skip


class PgDatabase(Reads):
    """A pool of connections to one PostgreSQL database, shared by the repositories."""

    dialect = "postgres"
    in_memory = False
    guards_missing = False

    def __init__(self, location: PgLocation, pool: AsyncConnectionPool, read_only: bool) -> None:
        self.path = location
        self.location = location
        self.label = location.display
        self.read_only = read_only
        self.read_only_reason: str | None = None
        self._pool = pool
        self._current: ContextVar[psycopg.AsyncConnection[Any] | None] = ContextVar(
            f"opsdesk-pg-{id(self)}", default=None
        )
        self.conn = PgConnection(pool, self._current, self.label)
        self._searching: psycopg.AsyncConnection[Any] | None = None
        self._search_conn = PgConnection(
            pool, self._current, self.label, on_search=self._note_search
        )
        self._feed = NotifyFeed(location.url)
        self._own_commits = 0

    @classmethod
    async def open(cls, location: PgLocation, *, read_only: bool = False) -> PgDatabase:
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT}
        if read_only:
            kwargs["options"] = "-c default_transaction_read_only=on"
        try:  # once directly: an unreachable server is one line at once, not 10 s of retries
            probe = await psycopg.AsyncConnection.connect(location.url, **kwargs)
        except psycopg.Error as exc:
            raise StoreOpenError(
                f"{location.display}: cannot connect to PostgreSQL: {_first_line(exc)}"
            ) from None
        await probe.close()
        pool = AsyncConnectionPool(
            location.url,
            min_size=1,
            max_size=_pool_size(),
            kwargs=kwargs,
            configure=_configure,
            # A connection the server dropped (a restart, a network cut) is replaced
            # when next taken, instead of failing the read that takes it.
            check=AsyncConnectionPool.check_connection,
            # A read waits this long for a connection while the server is away, then
            # fails in one line (the console keeps drawing and says so meanwhile).
            timeout=CONNECT_TIMEOUT,
            open=False,
            name="opsdesk",
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # PoolTimeout carries the server's reason in its message
            await pool.close()
            raise StoreOpenError(
                f"{location.display}: cannot connect to PostgreSQL: {_first_line(exc)}"
            ) from None
        db = cls(location, pool, read_only)
        try:
            await db._migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        await self._feed.close()
        await self._pool.close()

    # Reads -------------------------------------------------------------------------

    async def reader(self) -> PgConnection:
        """Long aggregate reads: every pooled connection already runs beside the others."""
        return self.conn

    async def searcher(self) -> PgConnection:
        """Searches as someone types: the connection each runs on is remembered, so the
        next keystroke can cancel it on the server (`interrupt_searches`)."""
        return self._search_conn

    def _note_search(self, conn: psycopg.AsyncConnection[Any] | None) -> None:
        self._searching = conn

    async def interrupt_searches(self) -> None:
        conn = self._searching
        if conn is not None:
            await conn.cancel_safe(timeout=2.0)

    async def schema_version(self) -> int:
        return await self._applied()

    @property
    def live_problem(self) -> str | None:
        """Why changes from other hosts are not arriving right now (None: they are)."""
        return self._feed.problem

    async def change_token(self) -> tuple[int, int]:
        """Moves when any host commits (a NOTIFY heard, or the feed reconnected and may
        have missed some) or this process does."""
        return await self._feed.token(), self._own_commits

    async def audit_guards_intact(self, version: int | None = None) -> bool:
        """Whether the audit table has exactly the triggers 0002_security.sql gave it (the
        one that sets the actor and chains the hash, and the three that refuse UPDATE,
        DELETE and TRUNCATE), all enabled, and no other, and belongs to opsdesk_owner. Only
        that role (or a superuser) could change them: `audit --verify` says so if one did."""
        found = await self.scalar(
            "SELECT coalesce(array_agg(tgname::text ORDER BY tgname::text)"
            "  FILTER (WHERE tgenabled = 'O'), '{}') = ARRAY[?, ?, ?, ?]::text[]"
            " AND count(*) = 4"
            " AND (SELECT pg_get_userbyid(relowner) FROM pg_class"
            "      WHERE oid = 'audit'::regclass) = 'opsdesk_owner'"
            " FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal",
            AUDIT_GUARDS,
        )
        return bool(found)

    async def authenticated(self) -> tuple[str, frozenset[Role]]:
        """The role that authenticated this session, and the opsdesk roles (engineer,
        lead, admin, cab) it is a member of: the database decides, not a config file."""
        from opsdesk.store.pg import roles

        async with self._pool.connection() as conn:
            try:
                return await roles.roles_of(conn)
            except psycopg.Error as exc:
                raise as_store_error(exc, self.label) from None

    async def role_members(self) -> dict[str, list[Role]]:
        from opsdesk.store.pg import roles

        async with self._pool.connection() as conn:
            try:
                return await roles.members(conn)
            except psycopg.Error as exc:
                raise as_store_error(exc, self.label) from None

    async def change_role(
        self, actor: Actor, login: str, role: str, now: datetime, *, grant: bool
    ) -> None:
        """Grant (or revoke) one of opsdesk's roles, with its audit row, in one
        transaction: PostgreSQL's GRANT is transactional, so both commit or neither. The
        database decides who may (admins, through opsdesk_grant/opsdesk_revoke)."""
        from opsdesk.store.pg import roles

        verb = "granting" if grant else "revoking"
        async with self.write(actor, "engineer", f"{verb} a role", now) as tx:
            conn = self._current.get()
            assert conn is not None
            before = (await roles.members(conn)).get(login, [])
            await (roles.grant if grant else roles.revoke)(conn, login, role)
            after = (await roles.members(conn)).get(login, [])
            action = "role.grant" if grant else "role.revoke"
            await tx.audit(action, "role", login, {"roles": before}, {"roles": after})

    # Writes ------------------------------------------------------------------------

    def read_only_error(self) -> StoreError:
        return ReadOnlyStore(f"{self.label}: read-only; nothing was changed")

    def require(self, actor: Actor, role: Role, action: str) -> None:
        if self.read_only:
            raise self.read_only_error()
        require_role(actor, role, action)

    @asynccontextmanager
    async def write(
        self, actor: Actor, role: Role, action: str, now: datetime
    ) -> AsyncIterator[PgTransaction]:
        self.require(actor, role, action)
        async with self._transaction():
            yield PgTransaction(self.conn, actor, now)

    @asynccontextmanager
    async def observe(self) -> AsyncIterator[PgConnection]:
        if self.read_only:
            raise self.read_only_error()
        async with self._transaction():
            yield self.conn

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        held = self._current.get()
        if held is not None:  # a write inside a write of the same task: a savepoint
            try:
                async with held.transaction():
                    yield
            except psycopg.Error as exc:
                raise as_store_error(exc, self.label) from None
            return
        try:
            async with self._pool.connection() as conn:
                token = self._current.set(conn)
                try:
                    async with conn.transaction():
                        yield
                finally:
                    self._current.reset(token)
        except psycopg.Error as exc:
            raise as_store_error(exc, self.label) from None
        self._own_commits += 1

    # Migrations --------------------------------------------------------------------

    async def _applied(self) -> int:
        exists = await self.scalar("SELECT to_regclass('opsdesk_schema_migrations') IS NOT NULL")
        if not exists:
            return 0
        return int(
            await self.scalar("SELECT coalesce(max(number), 0) FROM opsdesk_schema_migrations")
        )

    async def _migrate(self) -> None:
        """Apply the migrations this database lacks, all in one transaction, one migrator
        at a time. Only the owner of opsdesk's objects (or a superuser) may: anyone else
        opening a store that needs upgrading is told who must run it."""
        version = await self._applied()
        if version > LATEST_PG_SCHEMA:
            raise StoreOpenError(
                f"{self.label}: written by a newer opsdesk (schema {version}; this version "
                f"knows up to {LATEST_PG_SCHEMA}); upgrade opsdesk to open it"
            )
        if version == LATEST_PG_SCHEMA:
            return
        if self.read_only:
            raise ReadOnlyStore(
                f"{self.label}: schema {version} needs upgrading to {LATEST_PG_SCHEMA}; "
                "the database's owner runs `opsdesk store migrate` once"
            )
        async with self._pool.connection() as conn:
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    await self._become_owner(conn)
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS opsdesk_schema_migrations ("
                        " number integer PRIMARY KEY, name text NOT NULL,"
                        " applied_at timestamptz NOT NULL DEFAULT now())"
                    )
                    cursor = await conn.execute(
                        "SELECT coalesce(max(number), 0) FROM opsdesk_schema_migrations"
                    )
                    row = await cursor.fetchone()
                    version = int(row[0]) if row else 0
                    for number, name, script in migrations():
                        if number <= version:
                            continue
                        try:
                            await conn.execute(script.encode("utf-8"))
                        except psycopg.errors.InsufficientPrivilege as exc:
                            raise StoreOpenError(
                                f"{self.label}: migration {name} failed: {_first_line(exc)}"
                                " (the database must belong to opsdesk_owner: createdb -O"
                                " opsdesk_owner; docs/operations.md)"
                            ) from None
                        except psycopg.Error as exc:
                            raise StoreOpenError(
                                f"{self.label}: migration {name} failed: {_first_line(exc)}"
                            ) from None
                        await conn.execute(
                            "INSERT INTO opsdesk_schema_migrations (number, name) VALUES (%s, %s)",
                            (number, name),
                        )
                    if version == 0:
                        await conn.execute(
                            "INSERT INTO meta (key, value) VALUES ('created_at',"
                            " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
                            " ON CONFLICT (key) DO NOTHING"
                        )
            except psycopg.errors.InsufficientPrivilege as exc:
                raise StoreOpenError(
                    f"{self.label}: schema {version} needs upgrading to {LATEST_PG_SCHEMA}, and "
                    f"this role may not ({_first_line(exc)}); the database's owner runs "
                    "`opsdesk store migrate` once"
                ) from None
            except psycopg.Error as exc:
                raise StoreOpenError(f"{self.label}: cannot migrate: {_first_line(exc)}") from None

    @staticmethod
    async def _become_owner(conn: psycopg.AsyncConnection[Any]) -> None:
        """Run the migrations as opsdesk_owner when this role may, so every object is owned
        by that role and by no person."""
        cursor = await conn.execute(
            "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles"
            " WHERE rolname = 'opsdesk_owner'"
        )
        row = await cursor.fetchone()
        if row is not None and row[0]:
            await conn.execute(pg_sql.SQL("SET LOCAL ROLE opsdesk_owner"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
