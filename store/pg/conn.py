"""A PostgreSQL connection that the repositories use as they use aiosqlite's.

The repositories' SQL is written once, for both backends, with `?` placeholders, and run
as `async with conn.execute(sql, params) as cursor` or `await conn.execute(...)`. This
facade keeps that surface: it turns the placeholders into psycopg's, runs the statement on
the connection of the transaction the current task holds (so a read inside a write sees
the write), or else on a pooled autocommit connection, and hands back a cursor whose rows
are already fetched. Errors come back as the DB-API classes of the `sqlite3` module that
the repositories already catch (IntegrityError, OperationalError for an interrupted
search), or as the store's own errors (StoreError, PermissionDenied) for the rest: a lost
server, a rule the database refused.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors

from opsdesk.store.errors import PermissionDenied, ReadOnlyStore, StoreError

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

Params = Sequence[Any] | dict[str, Any]

# A literal or quoted name (left alone), a `?` placeholder, a `%` (psycopg's escape
# character), or a `:name` placeholder (not a `::` cast).
_TOKENS = re.compile(r"""('(?:[^']|'')*')|("(?:[^"]|"")*")|(\?)|(%)|(?<!:):([A-Za-z_]\w*)""")


_CAST = re.compile(r"\bCAST\(", re.IGNORECASE)
_AS_INTEGER = re.compile(r"\s+AS\s+INTEGER\s*$", re.IGNORECASE)


def truncating_casts(sql: str) -> str:
    """`CAST(x AS INTEGER)` as SQLite means it: SQLite truncates toward zero (59.9 s is
    minute 0), PostgreSQL rounds (minute 1), which would move durations between the
    metrics' one-minute buckets. Each such cast becomes `CAST(trunc(CAST(x AS double
    precision)) AS bigint)`; other casts are left alone."""
    out, start = [], 0
    for match in _CAST.finditer(sql):
        if match.start() < start:
            continue  # inside a cast already rewritten
        depth, end = 1, match.end()
        while end < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            end += 1
        inner = sql[match.end() : end - 1]
        found = _AS_INTEGER.search(inner)
        if depth or found is None:
            continue
        expression = truncating_casts(inner[: found.start()])
        out.append(sql[start : match.start()])
        out.append(f"CAST(trunc(CAST({expression} AS double precision)) AS bigint)")
        start = end
    out.append(sql[start:])
    return "".join(out)


@lru_cache(maxsize=1024)
def translate(sql: str, named: bool) -> str:
    """SQLite's placeholders (`?`, or `:name` with a dict of parameters) as psycopg's,
    and its integer casts (`truncating_casts`)."""

    def swap(match: re.Match[str]) -> str:
        if match[1] or match[2]:
            return match[0].replace("%", "%%")
        if match[3]:
            return "%s"
        if match[4]:
            return "%%"
        return f"%({match[5]})s" if named else match[0]

    return _TOKENS.sub(swap, truncating_casts(sql))


def as_stored(params: Params) -> Params:
    """Parameters as SQLite stores them: a bool is the integer 0 or 1 (the flag columns
    are integers on both backends; psycopg would send a PostgreSQL boolean)."""
    if isinstance(params, dict):
        return {k: int(v) if isinstance(v, bool) else v for k, v in params.items()}
    return [int(v) if isinstance(v, bool) else v for v in params]


class Rows:
    """A finished statement's rows and row count, read like an aiosqlite cursor."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    @property
    def lastrowid(self) -> int:
        raise StoreError("lastrowid is SQLite's: write INSERT ... RETURNING id instead")

    async def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        chunk = self._rows[self._next : self._next + size]
        self._next += len(chunk)
        return chunk

    async def fetchall(self) -> list[tuple[Any, ...]]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    async def close(self) -> None:
        self._rows = []

    async def __aenter__(self) -> Rows:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Pending:
    """`conn.execute(...)`: awaited, or entered with `async with`, as aiosqlite's is."""

    def __init__(self, run: Callable[[], Awaitable[Rows]]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, Rows]:
        return self._run().__await__()

    async def __aenter__(self) -> Rows:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


class PgConnection:
    """The object the repositories call `conn`: see the module docstring."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        current: ContextVar[psycopg.AsyncConnection[Any] | None],
        label: str,
        *,
        on_search: Callable[[psycopg.AsyncConnection[Any] | None], None] | None = None,
    ) -> None:
        self._pool = pool
        self._current = current
        self._label = label
        self._on_search = on_search  # told which connection a search runs on (to cancel it)

    @property
    def in_transaction(self) -> bool:
        return self._current.get() is not None

    def execute(self, sql: str, params: Params = ()) -> Pending:
        return Pending(lambda: self._execute(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [as_stored(row) for row in rows]
        if not batch:
            return
        query = translate(sql, isinstance(batch[0], dict))
        conn = self._current.get()
        try:
            if conn is not None:
                async with conn.cursor() as cursor:
                    await cursor.executemany(query, batch)
                return
            async with (
                self._pool.connection() as pooled,
                pooled.transaction(),
                pooled.cursor() as cursor,
            ):
                await cursor.executemany(query, batch)
        except psycopg.Error as exc:
            raise as_store_error(exc, self._label) from None

    async def _execute(self, sql: str, params: Params) -> Rows:
        query = translate(sql, isinstance(params, dict))
        params = as_stored(params)
        conn = self._current.get()
        try:
            if conn is not None:
                return await self._run(conn, query, params)
            async with self._pool.connection() as pooled:
                if self._on_search is None:
                    return await self._run(pooled, query, params)
                self._on_search(pooled)
                try:
                    return await self._run(pooled, query, params)
                finally:
                    self._on_search(None)
        except psycopg.Error as exc:
            raise as_store_error(exc, self._label) from None

    @staticmethod
    async def _run(conn: psycopg.AsyncConnection[Any], query: str, params: Params) -> Rows:
        async with conn.cursor() as cursor:
            await cursor.execute(query, params)
            rows = await cursor.fetchall() if cursor.description is not None else []
            return Rows(list(rows), cursor.rowcount)


def as_store_error(exc: psycopg.Error, label: str) -> Exception:
    """A psycopg error as the class the store's callers handle. The server's message is
    one line (its DETAIL and HINT are dropped): a rule the database enforces says which."""
    message = (exc.diag.message_primary or str(exc)).splitlines()[0] if exc.diag else str(exc)
    if isinstance(exc, pg_errors.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, pg_errors.QueryCanceled):
        return sqlite3.OperationalError("interrupted")
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        return PermissionDenied(f"{label}: the database refused: {message}")
    if isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        return ReadOnlyStore(f"{label}: read-only; nothing was changed")
    if isinstance(exc, psycopg.OperationalError | pg_errors.AdminShutdown):
        return StoreError(f"{label}: the database server is unreachable ({message})")
    return StoreError(f"{label}: {message}")
