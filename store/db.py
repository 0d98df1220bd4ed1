"""The SQLite connection: open, migrate, and run each write as one guarded transaction.

Every write goes through `Database.write()`: it checks the actor's role, takes the write
lock with `BEGIN IMMEDIATE` (waiting and retrying while other processes write, so no
"database is locked" reaches a person), and commits the change together with its audit
row. Reads never block in WAL mode.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from opsdesk.store.errors import (
    PermissionDenied,
    ReadOnlyStore,
    StoreBusy,
    StoreError,
    StoreOpenError,
)
from opsdesk.store.files import create_store_file, prepare_store_path, unwritable_reason
from opsdesk.store.records import Actor, Role
from opsdesk.store.timefmt import to_db

APPLICATION_ID = 0x6F707364  # "opsd": marks a SQLite file as an opsdesk store
BUSY_TIMEOUT_MS = 5000
WRITE_WAIT_SECONDS = 30.0
FULL_BELOW = 256 * 1024  # bytes free under which a failing write means a full disk


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for each file in store/migrations, in order."""
    found = []
    for entry in resources.files("opsdesk.store").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


LATEST_SCHEMA = migrations()[-1][0]


class Transaction:
    """The open write transaction handed to a repository: execute SQL and record audit."""

    def __init__(self, conn: aiosqlite.Connection, actor: Actor, now: datetime) -> None:
        self.conn = conn
        self.actor = actor
        self.now = now

    async def execute(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> aiosqlite.Cursor:
        return await self.conn.execute(sql, params)

    async def update_versioned(
        self, table: str, row_id: int, version: int, values: dict[str, Any]
    ) -> None:
        """Set `values` on row `row_id` of `table` if it is still at `version`, moving the
        version on and stamping who and when (tables with id, version, updated_at and
        updated_by). Callers check the version first, to say who changed it."""
        assignments = "".join(f"{column} = ?, " for column in values)
        await self.conn.execute(
            f"UPDATE {table} SET {assignments}version = version + 1, updated_at = ?,"
            " updated_by = ? WHERE id = ? AND version = ?",
            (*values.values(), to_db(self.now), self.actor.login, row_id, version),
        )

    async def audit(
        self,
        action: str,
        entity: str,
        entity_key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await self.conn.execute(
            "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                to_db(self.now),
                self.actor.login,
                action,
                entity,
                entity_key,
                None if before is None else json.dumps(before, default=str, ensure_ascii=False),
                None if after is None else json.dumps(after, default=str, ensure_ascii=False),
            ),
        )


class Database:
    """One aiosqlite connection to one store file, shared by the repositories."""

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, read_only: bool, reason: str | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        # Why writes are off when nobody asked for read-only: the file or folder is not
        # writable, or a write found the store read-only (a filesystem remounted ro).
        self.read_only_reason = reason
        self._write_lock = asyncio.Lock()
        self._own_commits = 0
        self._reader: aiosqlite.Connection | None = None
        self._reader_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path, *, group: str | None = None, read_only: bool = False, create: bool = True
    ) -> Database:
        path = prepare_store_path(path, group=group, read_only=read_only, create=create)
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
    async def _connect(
        cls, path: Path, read_only: bool, reason: str | None, *, immutable: bool = False
    ) -> Database:
        try:
            if read_only:
                uri = read_only_uri(path, immutable=immutable)
                conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
            else:
                conn = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{path}: cannot open the store: {exc}") from None
        db = cls(conn, path, read_only, reason)
        try:
            await db._configure()
            await db._migrate()
            if read_only:
                await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self.conn.close()

    async def reader(self) -> aiosqlite.Connection:
        """A second, read-only connection for long aggregate reads (the metrics), so they
        run beside the screens' short queries in their own thread instead of in front of
        them on the one connection."""
        async with self._reader_lock:
            if self._reader is None:
                try:
                    conn = await aiosqlite.connect(
                        read_only_uri(self.path), uri=True, isolation_level=None
                    )
                    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    await conn.execute("PRAGMA query_only = ON")
                except sqlite3.Error as exc:
                    raise _translate(exc, self.path) from None
                self._reader = conn
        return self._reader

    async def _configure(self) -> None:
        try:
            await self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = await self.scalar("PRAGMA journal_mode")
            if mode != "wal" and not self.read_only:
                await self._retry_busy(lambda: self.conn.execute("PRAGMA journal_mode = WAL"))
            await self.conn.execute("PRAGMA foreign_keys = ON")
            await self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc):
                raise _translate(exc, self.path) from None
            if disk_full(self.path):
                raise StoreOpenError(f"{self.path}: the disk is full; cannot open it") from None
            raise StoreOpenError(f"{self.path}: not an opsdesk store ({exc})") from None

    async def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        async with self.conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

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
        if version > 0:
            await asyncio.to_thread(backup_copy, self.path, version)
        await self._begin()
        try:
            # Another process may have migrated while we waited for the lock: look again.
            version = await self._check_ours()
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

    async def _apply(self, number: int, name: str, sql: str) -> None:
        """Run one migration inside the caller's transaction, so a failure (or a crash)
        leaves the store exactly as it was."""
        try:
            for statement in split_statements(sql):
                await self.conn.execute(statement)
            await self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            await self.conn.execute(f"PRAGMA user_version = {number}")
        except sqlite3.Error as exc:
            raise StoreOpenError(f"{self.path}: migration {name} failed: {exc}") from None

    async def change_token(self) -> tuple[int, int]:
        """Changes when any process commits (data_version) or this connection does."""
        return int(await self.scalar("PRAGMA data_version")), self._own_commits

    def read_only_error(self) -> ReadOnlyStore:
        if self.read_only_reason:
            return ReadOnlyStore(
                f"{self.path}: read-only ({self.read_only_reason}); nothing was changed"
            )
        return ReadOnlyStore("this console is read-only; nothing can be changed")

    def require(self, actor: Actor, role: Role, action: str) -> None:
        if self.read_only:
            raise self.read_only_error()
        if not actor.has(role):
            raise PermissionDenied(
                f"{action} needs the {role} role; {actor.login} does not have it"
            )

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
        try:
            async with self._locked_transaction():
                yield
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
            await self._begin()
            try:
                yield
            except sqlite3.Error as exc:
                await self._rollback()
                raise _translate(exc, self.path) from None
            except BaseException:
                await self._rollback()
                raise
            try:
                await self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._rollback()
                raise _translate(exc, self.path) from None
            self._own_commits += 1

    async def _rollback(self) -> None:
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def _begin(self) -> None:
        await self._retry_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))

    async def _retry_busy(self, attempt: Callable[[], Awaitable[object]]) -> None:
        """Run `attempt`, retrying while another process holds the lock (up to a limit)."""
        deadline = time.monotonic() + WRITE_WAIT_SECONDS
        while True:
            try:
                await attempt()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise _translate(exc, self.path) from None
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"{self.path}: the store stayed busy for {WRITE_WAIT_SECONDS:.0f} s "
                        "(another process holds the write lock); try again"
                    ) from None
                await asyncio.sleep(0.05)


def peek_schema(path: Path) -> int | None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def backup_copy(path: Path, version: int) -> Path:
    """Copy the store (consistently, via SQLite's backup API) before migrating it.

    Restore by stopping every console and moving the copy over the store file
    (and deleting its -wal and -shm files)."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.schema{version}-{stamp}.bak")
    create_store_file(target, None, like=path)
    source, copy = sqlite3.connect(path), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target


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
