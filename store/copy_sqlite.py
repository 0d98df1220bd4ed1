"""The SQLite end of `opsdesk store copy` (store/copy.py): reading a store in one snapshot,
and loading one in one transaction.

Plain `sqlite3`, not the store's aiosqlite connection: a copy streams whole tables in
chunks on one thread and needs its own transaction boundaries (one read snapshot on the
source, one write transaction on the target), which the repositories' connection keeps
for single operations.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opsdesk.store.bulk import FTS_REBUILD
from opsdesk.store.db import BUSY_TIMEOUT_MS, read_only_uri
from opsdesk.store.errors import StoreError
from opsdesk.store.stats import REBUILD


def quote(name: str) -> str:
    """An identifier as SQLite reads it, whatever characters the catalog gave it."""
    return '"' + name.replace('"', '""') + '"'


class SqliteSide:
    """One store file, opened read-only (`write=False`) or for the load."""

    dialect = "sqlite"

    def __init__(self, path: Path, *, write: bool) -> None:
        self.label = str(path)
        self._deferred: list[str] = []
        self._loaded: list[str] = []
        try:
            if write:
                self._conn = sqlite3.connect(path, isolation_level=None)
                self._conn.execute("PRAGMA foreign_keys = ON")
            else:
                self._conn = sqlite3.connect(read_only_uri(path), uri=True, isolation_level=None)
                self._conn.execute("PRAGMA query_only = ON")
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the store: {exc}") from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.label}: {exc}") from None

    # The catalog -------------------------------------------------------------------

    def tables(self) -> list[str]:
        """Ordinary tables: not SQLite's own, not a virtual table nor its shadow tables
        (the search index, which the target builds itself)."""
        rows = self._rows(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL")]
        return [
            name
            for name, _ in rows
            if not any(name == v or name.startswith(f"{v}_") for v in virtual)
        ]

    def columns(self, table: str) -> list[str]:
        """Stored columns in table order (generated ones are the target's to compute)."""
        info = self._rows(f"SELECT name, hidden FROM pragma_table_xinfo({_literal(table)})")
        return [name for name, hidden in info if hidden == 0]

    def key(self, table: str) -> list[str]:
        info = self._rows(f"SELECT name, pk FROM pragma_table_info({_literal(table)})")
        keyed = sorted((pk, name) for name, pk in info if pk)
        return [name for _, name in keyed] or ["rowid"]

    def parents(self, table: str) -> set[str]:
        rows = self._rows(f'SELECT "table" FROM pragma_foreign_key_list({_literal(table)})')
        return {str(row[0]) for row in rows}

    def count(self, table: str, where: str = "") -> int:
        clause = f" WHERE {where}" if where else ""
        return int(self._rows(f"SELECT count(*) FROM {quote(table)}{clause}")[0][0])

    # Reading -----------------------------------------------------------------------

    def snapshot(self) -> None:
        """Every read from here on sees one committed state of the store (WAL)."""
        self._conn.execute("BEGIN")
        self._conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()

    def rows(
        self, table: str, columns: Sequence[str], order: Sequence[str], chunk: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        listed = ", ".join(quote(c) for c in columns)
        ordered = ", ".join(quote(c) if c != "rowid" else c for c in order)
        try:
            cursor = self._conn.execute(f"SELECT {listed} FROM {quote(table)} ORDER BY {ordered}")
            while batch := cursor.fetchmany(chunk):
                yield batch
        except sqlite3.Error as exc:
            raise StoreError(f"{self.label}: reading {table} failed: {exc}") from None

    def metrics(self) -> Iterator[tuple[Any, ...]]:
        """The metrics aggregates' rows that count something, in one order, streamed."""
        for query in (METRICS_DURATIONS, METRICS_OUTCOMES):
            try:
                yield from self._conn.execute(query)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.label}: {exc}") from None

    # Loading -----------------------------------------------------------------------

    def begin(self, tables: Iterable[str]) -> None:
        """One write transaction for the whole load, with the loaded tables' indexes and
        triggers dropped inside it (as the demo builder does, store/bulk.py): building an
        index once over the loaded rows, and the search index and metrics in one pass
        each, is several times faster than keeping them row by row. `finish` recreates
        each from its own SQL in the schema, so they are exactly the migrations'; a
        failure rolls the drops back with the rows. The audit log's triggers (its
        guards) are never touched; nothing here writes audit rows through them."""
        self._execute("BEGIN IMMEDIATE")
        loaded = [t for t in tables if t != "audit"]
        marks = ", ".join("?" for _ in loaded)
        found = self._rows(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY type = 'trigger', rowid",
            loaded,
        )
        for kind, name, _ in found:
            self._execute(f"DROP {kind.upper()} {quote(name)}")
        self._deferred = [sql for _, _, sql in found]
        self._loaded = loaded

    def clear(self, table: str) -> None:
        """Remove what the migrations seeded (the banner's one row, meta's creation time)
        so the source's rows go in as they are."""
        self._execute(f"DELETE FROM {quote(table)}")

    def load(
        self, table: str, columns: Sequence[str], batches: Iterable[Sequence[tuple[Any, ...]]]
    ) -> int:
        listed = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {quote(table)} ({listed}) VALUES ({marks})"
        loaded = 0
        for batch in batches:
            try:
                self._conn.executemany(sql, batch)
            except sqlite3.Error as exc:
                raise StoreError(f"{self.label}: loading {table} failed: {exc}") from None
            loaded += len(batch)
        return loaded

    def finish(self, tables: Iterable[str]) -> None:
        """The indexes and triggers back; what their triggers would have kept, computed
        once: the search index, the metrics aggregates (store/stats.py REBUILD, as the
        demo builder does), and each loaded table's change counter moved."""
        for sql in self._deferred:
            self._execute(sql)
        self._deferred = []
        self._execute(FTS_REBUILD)
        for sql in REBUILD:
            self._execute(sql)
        marks = ", ".join("?" for _ in self._loaded)
        try:
            self._conn.execute(
                f"UPDATE change_counts SET n = n + 1 WHERE name IN ({marks})", self._loaded
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.label}: {exc}") from None
        # The query planner's statistics, from a sample of each index (tens of ms at
        # 100,000 incidents), so the first queries on the copy plan as on a used store.
        self._execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        self._execute("ANALYZE")

    def commit(self) -> None:
        self._execute("COMMIT")
        self._execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole store in its one file

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self.rollback()
        self._conn.close()

    def _execute(self, sql: str) -> None:
        try:
            self._conn.execute(sql)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.label}: {exc}") from None


ANALYSIS_LIMIT = 1000  # rows sampled per index by ANALYZE
METRICS_DURATIONS = (
    "SELECT kind, day, minute, n, total FROM metrics_durations WHERE n <> 0"
    " ORDER BY kind, day, minute"
)
METRICS_OUTCOMES = (
    "SELECT 'outcome', day, resolved, met, csat_sum, csat_count FROM metrics_outcomes"
    " WHERE resolved <> 0 ORDER BY day"
)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
