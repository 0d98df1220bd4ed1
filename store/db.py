"""The SQLite connection: open, migrate, and run each write as one guarded transaction.

Every write goes through `Database.write()`: it checks the actor's role, takes the write
lock with `BEGIN IMMEDIATE` (waiting and retrying while other processes write, so no
"database is locked" reaches a person), and commits the change together with its audit
row. Reads never block in WAL mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gc
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite

from opsdesk.store.errors import (
    GUARDS_MISSING,
    AuditGuardsMissing,
    PermissionDenied,
    ReadOnlyStore,
    StoreBusy,
    StoreError,
    StoreOpenError,
    changed_meanwhile,
)
from opsdesk.store.files import prepare_store_path, unwritable_reason
from opsdesk.store.records import Actor, Role
from opsdesk.store.timefmt import to_db

APPLICATION_ID = 0x6F707364  # "opsd": marks a SQLite file as an opsdesk store
BUSY_TIMEOUT_MS = 5000
STALE_READ_AFTER = 1.0  # seconds of busy before looking for dropped cursors
WRITE_WAIT_SECONDS = 30.0
FULL_BELOW = 256 * 1024  # bytes free under which a failing write means a full disk
# WAL mode. NORMAL: a commit is durable once the WAL is synced at the next checkpoint, so a
# power cut can lose the last commits but never corrupts the store; FULL syncs the WAL at
# every commit, so nothing committed is lost. README "How it stores data" has the cost.
SYNCHRONOUS = "FULL"
AUDIT_CHAIN_SCHEMA = 9  # 0009_audit_chain.sql: audit rows carry a hash chain from here on
BACKUP_NAME_TRIES = 20
COPY_CHUNK = 1 << 20
NO_STORE_YET = "no store here yet; a command that changes something creates it"


MIGRATIONS = Path(__file__).with_name("migrations")


def _numbered() -> list[tuple[int, str]]:
    """(number, file name) of each migration, in order: names only, so knowing the latest
    schema at import costs a directory listing, not reading every migration."""
    names = [name for name in os.listdir(MIGRATIONS) if name.endswith(".sql")]
    return sorted((int(name.split("_", 1)[0]), name) for name in names)


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for each file in store/migrations, in order."""
    return [
        (number, name, (MIGRATIONS / name).read_text(encoding="utf-8"))
        for number, name in _numbered()
    ]


LATEST_SCHEMA = _numbered()[-1][0]


STALE_NAMES = {
    "incidents": "INC-",
    "changes": "CHG-",
    "problems": "PRB-",
    "action_items": "ACT-",
    "reviews": "review ",
}
"""How a refused stale write names its record (Transaction.update_versioned)."""


def audit_json(value: dict[str, Any] | None) -> str | None:
    """An audit row's before/after as stored."""
    return None if value is None else json.dumps(value, default=str, ensure_ascii=False)


class Transaction:
    """The open write transaction handed to a repository: execute SQL and record audit.
    `conn` is the aiosqlite connection, or on PostgreSQL the facade shaped like it
    (store/pg/conn.py), whose PgTransaction only writes the audit row differently."""

    def __init__(self, conn: Any, actor: Actor, now: datetime) -> None:
        self.conn = conn
        self.actor = actor
        self.now = now

    async def execute(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> aiosqlite.Cursor:
        cursor: aiosqlite.Cursor = await self.conn.execute(sql, params)
        return cursor

    async def update_versioned(
        self, table: str, row_id: int, version: int, values: dict[str, Any]
    ) -> None:
        """Set `values` on row `row_id` of `table` if it is still at `version`, moving the
        version on and stamping who and when (tables with id, version, updated_at and
        updated_by). Callers check the version first, to say who changed it; on
        PostgreSQL another transaction may still commit between that read and this UPDATE
        (Read Committed re-checks the WHERE against the committed row), so an UPDATE that
        matched nothing is refused as the caller would have, never audited as done."""
        assignments = "".join(f"{column} = ?, " for column in values)
        updated = await self.conn.execute(
            f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ?,"
            " updated_by = ? WHERE id = ? AND version = ?",
            (*values.values(), to_db(self.now), self.actor.login, row_id, version),
        )
        if updated.rowcount != 1:
            await self._refuse_stale(table, row_id, version)

    async def _refuse_stale(self, table: str, row_id: int, version: int) -> NoReturn:
        async with self.conn.execute(
            f"SELECT version, updated_by, updated_at FROM {table} WHERE id = ?", (row_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise StoreError(f"{STALE_NAMES.get(table, table)}{row_id}: no such record")
        raise changed_meanwhile(
            f"{STALE_NAMES.get(table, table + ' ')}{row_id}", row[1], row[2], version, row[0]
        )

    async def audit(
        self,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """Append one audit row chained to the newest one: its hash covers that row's hash
        and its own content (store/audit.py). The write lock is held, so nobody can append
        between reading the newest row and writing this one."""
        from opsdesk.store.audit import entry_hash  # writes only: reads skip hashlib

        async with self.conn.execute(
            "SELECT id, CAST(hash AS BLOB) FROM audit ORDER BY id DESC LIMIT 1"
        ) as cursor:
            last = await cursor.fetchone()
        fields = (
            1 if last is None else int(last[0]) + 1,
            to_db(self.now),
            self.actor.login,
            action,
            entity,
            entity_key,
            audit_json(before),
            audit_json(after),
        )
        await self.conn.execute(
            "INSERT INTO audit (id, at, actor, action, entity, entity_key, before, after, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, entry_hash(None if last is None else last[1], fields)),
        )


def require_role(actor: Actor, role: Role, action: str) -> None:
    """Refuse `action` unless `actor` holds `role`, naming both (either backend)."""
    if not actor.has(role):
        raise PermissionDenied(f"{action} needs the {role} role; {actor.login} does not have it")


class Reads:
    """The reads both backends' databases answer the same way over their `conn`."""

    conn: Any

    async def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        async with self.conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

    async def count(
        self, source: str, params: Sequence[Any] = (), at_most: int | None = None
    ) -> int:
        """How many rows `source` ("audit WHERE at >= ?") holds; with `at_most`, counting
        stops there, so a long table need not be walked to say a list was cut."""
        if at_most is None:
            return int(await self.scalar(f"SELECT count(*) FROM {source}", tuple(params)))
        bounded = f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT ?) AS bounded"
        return int(await self.scalar(bounded, (*params, at_most)))


class Database(Reads):
    """One aiosqlite connection to one store file, shared by the repositories."""

    dialect = "sqlite"  # store/pg/db.py's PgDatabase says "postgres"

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, read_only: bool, reason: str | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        # Why writes are off when nobody asked for read-only: the file or folder is not
        # writable, or a write found the store read-only (a filesystem remounted ro).
        self.read_only_reason = reason
        # The audit log's triggers were dropped or altered with other tools: writes refused.
        self.guards_missing = False
        self._write_lock = asyncio.Lock()
        self._own_commits = 0
        self._side: dict[str, aiosqlite.Connection] = {}  # read-only helpers, by purpose
        self._side_lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None  # the task whose transaction is open
        self.in_memory = False  # no store file yet: the empty stand-in of Database._empty

    @classmethod
    async def open(
        cls, path: Path, *, group: str | None = None, read_only: bool = False, create: bool = True
    ) -> Database:
        prepared = prepare_store_path(path, group=group, read_only=read_only, create=create)
        if prepared is None:
            return await cls._empty(path)
        path = prepared
        reason = None if read_only else unwritable_reason(path)
        try:
            return await cls._connect(path, read_only or reason is not None, reason)
        except StoreOpenError:
            full = disk_full(path)
            if full is None or read_only:
                raise
            # SQLite could not even create its -shm file: read what is there, say why.
            return await cls._connect(path, True, full, immutable=True)

    @classmethod
    async def _empty(cls, path: Path) -> Database:
        """No store at `path` and none to create (a command that only reads): an empty store
        of the latest schema in memory, so every read answers as a new store would (no
        incidents, no overrides, no banner) through the same SQL, and no file is made.
        Writes are refused; the commands that write open with `create=True` instead."""
        conn = await _connect_sqlite(":memory:", isolation_level=None)
        db = cls(conn, path, read_only=False, reason=NO_STORE_YET)
        try:
            await db._migrate()
            await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        db.read_only, db.in_memory = True, True
        return db

    @classmethod
    async def _connect(
        cls, path: Path, read_only: bool, reason: str | None, *, immutable: bool = False
    ) -> Database:
        try:
            if read_only:
                uri = read_only_uri(path, immutable=immutable)
                conn = await _connect_sqlite(uri, uri=True, isolation_level=None)
            else:
                conn = await _connect_sqlite(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{path}: cannot open the store: {exc}") from None
        db = cls(conn, path, read_only, reason)
        try:
            await db._configure()
            await db._migrate()
            if not read_only:
                await db._check_guards()
            if read_only:
                await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        for side in self._side.values():
            await side.close()
        self._side.clear()
        await self.conn.close()

    async def reader(self) -> aiosqlite.Connection:
        """A second, read-only connection for long aggregate reads (the metrics), so they
        run beside the screens' short queries in their own thread instead of in front of
        them on the one connection."""
        return await self._side_connection("reader")

    async def searcher(self) -> aiosqlite.Connection:
        """A read-only connection for searches as someone types: a search made stale by
        the next keystroke is interrupted there (`interrupt_searches`) without touching
        a write or a read on the main connection."""
        return await self._side_connection("searcher")

    async def interrupt_searches(self) -> None:
        """Stop whatever search is running (it raises SearchInterrupted in its caller)."""
        searcher = self._side.get("searcher")
        if searcher is not None:
            await searcher.interrupt()

    async def _side_connection(self, purpose: str) -> aiosqlite.Connection:
        if self.in_memory:
            return self.conn
        async with self._side_lock:
            if purpose not in self._side:
                try:
                    conn = await _connect_sqlite(
                        read_only_uri(self.path), uri=True, isolation_level=None
                    )
                    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    await conn.execute("PRAGMA query_only = ON")
                except sqlite3.Error as exc:
                    raise _translate(exc, self.path) from None
                self._side[purpose] = conn
        return self._side[purpose]

    async def _configure(self) -> None:
        try:
            await self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = await self.scalar("PRAGMA journal_mode")
            if mode != "wal" and not self.read_only:
                await self._retry_busy(lambda: self.conn.execute("PRAGMA journal_mode = WAL"))
            await self.conn.execute("PRAGMA foreign_keys = ON")
            await self.conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                raise _translate(exc, self.path) from None
            if disk_full(self.path):
                raise StoreOpenError(f"{self.path}: the disk is full; cannot open it") from None
            raise StoreOpenError(f"{self.path}: not an opsdesk store ({exc})") from None

    async def schema_version(self) -> int:
        return int(await self.scalar("PRAGMA user_version"))

    async def _state(self) -> tuple[int, int, int]:
        """(schema version, application id, table count), read in one snapshot."""
        async with self.conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version),"
            " (SELECT application_id FROM pragma_application_id),"
            " (SELECT count(*) FROM sqlite_master WHERE type = 'table')"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    async def _check_ours(self) -> int:
        """Return the schema version, refusing files that are not (or not yet) ours to open."""
        version, app_id, tables = await self._state()
        if app_id not in (0, APPLICATION_ID) or (version == 0 and tables):
            raise StoreOpenError(
                f"{self.path}: not an opsdesk store (it holds another program's data)"
            )
        if version > LATEST_SCHEMA:
            raise StoreOpenError(
                f"{self.path}: written by a newer opsdesk (schema {version}; this version knows "
                f"up to {LATEST_SCHEMA}); upgrade opsdesk to open it"
            )
        return version

    async def _migrate(self) -> None:
        version = await self._check_ours()
        if version == LATEST_SCHEMA:
            return
        if self.read_only:
            raise ReadOnlyStore(
                f"{self.path}: schema {version} needs upgrading to {LATEST_SCHEMA}; "
                "open it once without --read-only"
            )
        await self._begin()
        try:
            # Another process may have migrated while we waited for the lock: look again.
            version = await self._check_ours()
            if 0 < version < LATEST_SCHEMA:
                if not await self.audit_guards_intact(version):
                    # Upgrading would chain (and so bless) whatever was done to it.
                    raise AuditGuardsMissing(f"{self.path}: {GUARDS_MISSING}")
                await self._backup(version)
            for number, name, sql in migrations():
                if number > version:
                    await self._apply(number, name, sql)
            if version == 0:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                await self.conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (stamp,)
                )
            await self.conn.execute("COMMIT")
        except BaseException:
            await self._rollback()
            raise
        if version == 0 and LATEST_SCHEMA >= AUDIT_CHAIN_SCHEMA:
            await self._chain_bulk_loads()

    async def _backup(self, version: int) -> None:
        """Copy the store before migrating it. This transaction holds the write lock, so
        the copy is exactly what the migration starts from."""
        size = int(await self.scalar("PRAGMA page_size")) * int(
            await self.scalar("PRAGMA page_count")
        )
        await asyncio.to_thread(backup_copy, self.path, version, size)

    async def _chain_existing_audit(self) -> None:
        """Chain the audit rows written before schema 9, in the migration's transaction
        (SQL has no SHA-256). The trigger refusing UPDATE on the audit log (checked before
        the migration began) is lifted around these UPDATEs and put back word for word."""
        from opsdesk.store.audit import CHAIN_COLUMNS, VERIFY_BATCH, entry_hash

        guard = await self.scalar(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
            ("audit_refuses_update",),
        )
        await self.conn.execute("DROP TRIGGER audit_refuses_update")
        last_id, previous = 0, None
        sql = f"SELECT {CHAIN_COLUMNS} FROM audit WHERE id > ? ORDER BY id LIMIT {VERIFY_BATCH}"
        while True:
            async with self.conn.execute(sql, (last_id,)) as cursor:
                rows = list(await cursor.fetchall())
            if not rows:
                break
            links = []
            for row in rows:
                previous = entry_hash(previous, row[:8])
                links.append((previous, row[0]))
            await self.conn.executemany("UPDATE audit SET hash = ? WHERE id = ?", links)
            last_id = rows[-1][0]
        await self.conn.execute(guard)

    async def _chain_bulk_loads(self) -> None:
        """Audit rows inserted into a store this connection has just created without a
        hash (the demo builder loads them in bulk: store/bulk.py) are chained as they go
        in, by a TEMP trigger that exists only in this connection. No other store and no
        other connection gets it, so a row inserted with other tools is never adopted."""
        await self.conn.create_function("opsdesk_entry_hash", 9, _sql_entry_hash)
        await self.conn.execute(CHAIN_BULK_LOADS)

    async def audit_guards_intact(self, version: int | None = None) -> bool:
        """Whether the audit table has exactly the triggers the migrations gave it (they
        refuse UPDATE and DELETE), word for word, and no other: a trigger added there could
        as well drop or rewrite the rows as they are written."""
        async with self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            " AND lower(tbl_name) = 'audit'"
        ) as cursor:
            found = {name: _squeeze(sql or "") for name, sql in await cursor.fetchall()}
        return found == audit_guards(LATEST_SCHEMA if version is None else version)

    async def _check_guards(self) -> None:
        """A store whose audit guards were dropped or altered with other tools still opens
        and reads, but refuses every write (saying why) until they are put back."""
        if await self.audit_guards_intact():
            return
        self.guards_missing = True
        self.read_only = True
        self.read_only_reason = GUARDS_MISSING
        await self.conn.execute("PRAGMA query_only = ON")

    async def _apply(self, number: int, name: str, sql: str) -> None:
        """Run one migration inside the caller's transaction, so a failure (or a crash)
        leaves the store exactly as it was."""
        try:
            for statement in split_statements(sql):
                await self.conn.execute(statement)
            if number == AUDIT_CHAIN_SCHEMA:
                await self._chain_existing_audit()
            await self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            await self.conn.execute(f"PRAGMA user_version = {number}")
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: migration {name} failed: {exc}") from None

    async def change_token(self) -> tuple[int, int]:
        """Changes when any process commits (data_version) or this connection does."""
        return int(await self.scalar("PRAGMA data_version")), self._own_commits

    def read_only_error(self) -> StoreError:
        if self.guards_missing:
            return AuditGuardsMissing(f"{self.path}: {GUARDS_MISSING}")
        if self.in_memory:
            return ReadOnlyStore(f"{self.path}: {NO_STORE_YET}; nothing was changed")
        if self.read_only_reason:
            return ReadOnlyStore(
                f"{self.path}: read-only ({self.read_only_reason}); nothing was changed"
            )
        return ReadOnlyStore("this console is read-only; nothing can be changed")

    def require(self, actor: Actor, role: Role, action: str) -> None:
        if self.read_only:
            raise self.read_only_error()
        require_role(actor, role, action)

    @asynccontextmanager
    async def write(
        self, actor: Actor, role: Role, action: str, now: datetime
    ) -> AsyncIterator[Transaction]:
        """One transaction: role check, BEGIN IMMEDIATE (waiting politely), commit or roll back."""
        self.require(actor, role, action)
        async with self._transaction():
            yield Transaction(self.conn, actor, now)

    @asynccontextmanager
    async def observe(self) -> AsyncIterator[aiosqlite.Connection]:
        """A transaction for what machines observe (status polls): no role and no audit
        row (a poll every minute per source would bury the audit log), still refused on
        a read-only store."""
        if self.read_only:
            raise self.read_only_error()
        async with self._transaction():
            yield self.conn

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        if self._holder is not None and self._holder is asyncio.current_task():
            async with self._nested():
                yield
            return
        try:
            async with self._locked_transaction():
                self._holder = asyncio.current_task()
                try:
                    yield
                finally:
                    self._holder = None
        except ReadOnlyStore:
            # The file or its filesystem became read-only under us: say so from now on
            # (the console shows READ-ONLY and stops offering changes) instead of failing
            # the same way on every key.
            self.read_only = True
            self.read_only_reason = self.read_only_reason or "the store became read-only"
            raise

    @asynccontextmanager
    async def _locked_transaction(self) -> AsyncIterator[None]:
        async with self._write_lock:
            try:
                await self._begin()
            except BaseException:
                # Cancelled (a worker replaced by a newer one) while BEGIN was on its way:
                # it may still have run in the connection's thread. Never leave the write
                # lock held by a transaction nobody will finish: every other process would
                # wait on it (and this connection could start no other).
                await asyncio.shield(self._abandon())
                raise
            try:
                yield
            except sqlite3.Error as exc:
                await self._rollback()
                raise _translate(exc, self.path) from None
            except BaseException:
                await asyncio.shield(self._rollback())  # even when cancelled meanwhile
                raise
            try:
                await self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise _translate(exc, self.path) from None
            self._own_commits += 1

    @asynccontextmanager
    async def _nested(self) -> AsyncIterator[None]:
        """A write or observation made inside a transaction the same task already holds
        (a round of polls and the incidents its alerts open or resolve): a savepoint, so
        it can fail alone, committed with the rest at the end of the outermost one."""
        if not self.conn.in_transaction:  # SQLite rolled the whole of it back on an error
            raise StoreError(f"{self.path}: the transaction was rolled back; nothing was changed")
        await self.conn.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException as exc:
            if self.conn.in_transaction:
                await self.conn.execute("ROLLBACK TO nested")
                await self.conn.execute("RELEASE nested")
            if isinstance(exc, sqlite3.Error):
                raise _translate(exc, self.path) from None
            raise
        await self.conn.execute("RELEASE nested")

    async def _abandon(self) -> None:
        """ROLLBACK whatever BEGIN may have opened. Queued behind it on the connection's
        thread (checking `in_transaction` from here could look before BEGIN ran)."""
        with contextlib.suppress(sqlite3.OperationalError):  # BEGIN never ran: nothing open
            await self.conn.execute("ROLLBACK")

    async def _rollback(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def _begin(self) -> None:
        await self._retry_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    async def _retry_busy(self, attempt: Callable[[], Awaitable[object]]) -> None:
        """Run `attempt`, retrying while another process holds the lock (up to a limit)."""
        began = time.monotonic()
        deadline = began + WRITE_WAIT_SECONDS
        collected = began
        while True:
            try:
                await attempt()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise _translate(exc, self.path) from None
                if time.monotonic() - collected >= STALE_READ_AFTER:
                    # A cursor dropped unfinished, kept alive in an exception's reference
                    # cycle, holds this connection's read snapshot open: once another
                    # process commits, BEGIN IMMEDIATE can never succeed on it (SQLite's
                    # BUSY_SNAPSHOT) until the cursor is freed. Free unreachable ones.
                    collected = time.monotonic()
                    gc.collect()
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"{self.path}: the store stayed busy for {WRITE_WAIT_SECONDS:.0f} s "
                        "(another process holds the write lock); try again"
                    ) from None
                await asyncio.sleep(0.05)


async def _connect_sqlite(database: str | Path, **options: Any) -> aiosqlite.Connection:
    """aiosqlite.connect, waiting on failure for the worker thread it starts: aiosqlite
    stops that thread after a failed connect but does not wait for it, so the thread would
    report to an event loop `asyncio.run` has already closed (a traceback on stderr after
    the one-line error)."""
    pending = aiosqlite.connect(database, **options)
    try:
        return await pending
    except BaseException:
        await asyncio.to_thread(pending._thread.join, 5)
        raise


def peek_schema(path: Path) -> int | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def backup_copy(path: Path, version: int, size: int) -> Path:
    """Copy the store beside it before migrating it, as STORE.schemaN-TIMESTAMP.bak.

    The caller holds the write lock, so nothing commits meanwhile: once every commit in
    the WAL is checkpointed into the store file, its first `size` bytes are the whole
    store, and they are copied into a file this call creates. Nothing already at the name
    (a file, or a link or folder a group member planted in a shared folder) is followed
    or reused: the name gets a random suffix instead (`...-TIMESTAMP-1a2b3c4d.bak`). The
    copy has the store's mode and group. Restore by stopping every console and moving the
    copy over the store file (and deleting its -wal and -shm files)."""
    _checkpoint_everything(path)
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise StoreOpenError(f"{path}: cannot back it up before upgrading: {exc}") from None
    try:
        name, fd = _create_backup(folder, f"{path.name}.schema{version}-", path)
        try:
            _copy_store(path, fd, size)
            os.fsync(fd)
        except BaseException:
            _remove_own(folder, name, fd)
            raise
        finally:
            os.close(fd)
        os.fsync(folder)
    finally:
        os.close(folder)
    return path.with_name(name)


def _checkpoint_everything(path: Path) -> None:
    """Copy every commit in the WAL into the store file. A reader of an older snapshot
    keeps its frames in the WAL: wait (as a writer waits for the lock) for it to finish."""
    deadline = time.monotonic() + WRITE_WAIT_SECONDS
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        while True:
            try:
                _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.OperationalError as exc:  # another process is checkpointing
                if not _is_busy(exc):
                    raise
                frames, copied = 1, 0
            if frames == copied:  # both -1 when the store is not in WAL mode
                return
            if time.monotonic() >= deadline:
                raise StoreBusy(
                    f"{path}: cannot back it up before upgrading: another process kept "
                    f"reading an old snapshot for {WRITE_WAIT_SECONDS:.0f} s; try again"
                )
            time.sleep(0.05)
    except sqlite3.Error as exc:
        raise _translate(exc, path) from None
    finally:
        conn.close()


def _create_backup(folder: int, prefix: str, store: Path) -> tuple[str, int]:
    """Create a new file in the `folder` fd, 0600, then give it the store's group and
    mode. O_EXCL and O_NOFOLLOW: an existing name of any kind is never opened."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    taken = (errno.EEXIST, errno.ELOOP, errno.EISDIR, errno.ENOTDIR)
    like = os.stat(store)
    for attempt in range(BACKUP_NAME_TRIES):
        suffix = ""
        if attempt:  # the first name was taken
            import secrets

            suffix = f"-{secrets.token_hex(4)}"
        name = f"{prefix}{stamp}{suffix}.bak"
        try:
            fd = os.open(name, flags, 0o600, dir_fd=folder)
        except OSError as exc:
            if exc.errno in taken:
                continue
            raise StoreOpenError(f"{store}: cannot back it up before upgrading: {exc}") from None
        if like.st_gid != os.fstat(fd).st_gid:
            with contextlib.suppress(PermissionError):
                os.fchown(fd, -1, like.st_gid)
        os.fchmod(fd, like.st_mode & 0o777)
        return name, fd
    raise StoreOpenError(
        f"{store}: cannot back it up before upgrading: {BACKUP_NAME_TRIES} names for the copy "
        "were all taken (see who is planting files in that folder)"
    )


def _copy_store(path: Path, fd: int, size: int) -> None:
    source = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        header = os.pread(source, 100, 0)
        if header[:16] != b"SQLite format 3\x00" or int.from_bytes(header[68:72]) != APPLICATION_ID:
            raise StoreOpenError(f"{path}: the store file was replaced while opening it")
        offset = 0
        while offset < size:
            chunk = os.pread(source, min(COPY_CHUNK, size - offset), offset)
            if not chunk:
                raise StoreOpenError(f"{path}: the store file is shorter than SQLite says")
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
            offset += len(chunk)
    except OSError as exc:
        full = " (the disk is full)" if exc.errno == errno.ENOSPC else ""
        raise StoreOpenError(
            f"{path}: cannot back it up before upgrading: {exc.strerror}{full}; not upgraded"
        ) from None
    finally:
        os.close(source)


def _remove_own(folder: int, name: str, fd: int) -> None:
    """Remove a half-written copy, if the name still holds the file this call created."""
    with contextlib.suppress(OSError):
        if os.stat(name, dir_fd=folder, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
            os.unlink(name, dir_fd=folder)


@functools.cache
def audit_guards(version: int) -> dict[str, str]:
    """The triggers on the audit table (they refuse UPDATE and DELETE) as the migrations up
    to `version` create them: name -> SQL with its whitespace squeezed. Every store open
    checks them, so only the migrations that create or drop a trigger are split into
    statements (splitting all of them was a millisecond of every command's start)."""
    guards: dict[str, str] = {}
    for number, _, sql in migrations():
        if number > version:
            break
        if "trigger" not in sql.lower():
            continue
        for statement in split_statements(sql):
            created = _CREATE_TRIGGER.search(statement)
            dropped = _DROP_TRIGGER.search(statement)
            if created and created[2].lower() == "audit":
                guards[created[1]] = _squeeze(created[0])
            elif dropped:
                guards.pop(dropped[1], None)
    return guards


_CREATE_TRIGGER = re.compile(
    r"CREATE\s+TRIGGER\s+(\w+)\s+(?:BEFORE|AFTER|INSTEAD\s+OF)\s+(?:INSERT|UPDATE|DELETE)"
    r"(?:\s+OF\s+[\w\s,]+?)?\s+ON\s+(\w+)\b.*",
    re.DOTALL | re.IGNORECASE,
)
_DROP_TRIGGER = re.compile(r"DROP\s+TRIGGER\s+(?:IF\s+EXISTS\s+)?(\w+)", re.IGNORECASE)


def _squeeze(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").split())


# Chains an audit row inserted without a hash into the chain (see Database._chain_bulk_loads):
# it inserts the row again with its id and hash, and drops the original (RAISE(IGNORE)).
CHAIN_BULK_LOADS = """
CREATE TEMP TRIGGER audit_chain_bulk_loads BEFORE INSERT ON main.audit WHEN NEW.hash IS NULL
BEGIN
    INSERT INTO audit (id, at, actor, action, entity, entity_key, before, after, hash)
    SELECT n.id, NEW.at, NEW.actor, NEW.action, NEW.entity, NEW.entity_key, NEW.before,
           NEW.after, opsdesk_entry_hash(
               (SELECT CAST(hash AS BLOB) FROM audit WHERE id = n.id - 1), n.id, NEW.at,
               NEW.actor, NEW.action, NEW.entity, NEW.entity_key, NEW.before, NEW.after)
    FROM (SELECT coalesce(max(id), 0) + 1 AS id FROM audit) AS n;
    SELECT RAISE(IGNORE);
END
"""


def _sql_entry_hash(previous: bytes | None, *fields: int | str | bytes | None) -> str:
    from opsdesk.store.audit import entry_hash

    return entry_hash(previous, fields)


def split_statements(script: str) -> list[str]:
    """Split a migration script into statements (trigger bodies stay whole)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        statements.append(buffer.strip())
    return statements


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    """Open without writing anything. When the folder is not writable and no -wal file
    exists (read-only media), SQLite cannot create the -shm it needs for WAL, so the file
    is opened immutable: nobody can be writing it there anyway. Likewise on a full disk,
    where no process can write it either."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    wal = path.with_name(path.name + "-wal")
    if immutable or (not os.access(path.parent, os.W_OK) and not wal.exists()):
        uri += "&immutable=1"
    return uri


def disk_full(path: Path) -> str | None:
    """ "the disk holding it is full" when its filesystem has (almost) no space left."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    return f"the disk holding it is full: {free // 1024} KB free" if free < FULL_BELOW else None


def _translate(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc).lower()
    if (
        "readonly" in text
        or "read-only" in text
        or ("i/o error" in text and unwritable_reason(path) is not None)
    ):
        return ReadOnlyStore(f"{path}: the store file is read-only; nothing was changed")
    if "disk is full" in text or ("i/o error" in text and disk_full(path)):
        return StoreError(f"{path}: the disk is full; nothing was changed")
    return StoreError(f"{path}: {exc}")
