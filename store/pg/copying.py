"""The PostgreSQL end of `opsdesk store copy` (store/copy.py): reading a database in one
snapshot, and loading one with COPY in one transaction.

A copy restores history as it was: audit ids, actors and hashes, who created each row.
0002_security.sql's triggers rewrite exactly those on every insert (the actor is always
`session_user`), so the load turns the tables' own triggers off (`ALTER TABLE ...
DISABLE TRIGGER USER`) inside its transaction and back on before it commits. Only the
owner of the tables may do that: a member of opsdesk_owner (as that role) or a
superuser. Nobody else sees them off (the change is part of the uncommitted
transaction, and the tables stay locked against writers until it ends), a failure rolls
it back with the rows, and the foreign keys (the database's internal triggers) are
checked throughout. What those triggers would have maintained is then computed once:
the metrics aggregates in one pass, the number of incidents (0001's incidents_total),
each change counter moved (with the NOTIFY that wakes consoles), each identity sequence
moved past the largest id.

After the commit, the loaded tables are VACUUMed and ANALYZEd: a bulk load leaves the
planner without statistics and the visibility map unset, so until autovacuum's next pass
every index-only scan (the queue's deep pages read ids that way: store/incidents.py
_ids_first) visits the table for each entry as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from opsdesk.store.errors import StoreError, StoreOpenError
from opsdesk.store.location import PgLocation

try:
    import psycopg
    from psycopg import sql
except ImportError as missing:  # the optional extra is not installed
    raise StoreOpenError(
        "a postgresql:// store needs the PostgreSQL driver: pip install 'opsdesk[postgres]'"
        f" ({missing.name} is missing)"
    ) from None

from opsdesk.store.pg.db import CONNECT_TIMEOUT, NumberLoader
from opsdesk.store.stats import DEKADS_FROM_DAYS

OWNER_ROLE = "opsdesk_owner"
LOCK_WAIT_SECONDS = 30
# The target's own: its migration record, and the number of incidents its triggers keep
# (set from the rows loaded, in `finish`).
NOT_COPIED = ("opsdesk_schema_migrations", "incidents_total")

# store/stats.py REBUILD for PostgreSQL: the minute truncated toward zero (a cast to
# integer would round), and its subqueries named (PostgreSQL 15 requires it). OFFSET 0
# keeps each subquery whole, so each duration (0001's inlined julianday, a regex and
# arithmetic per time) is computed once per incident instead of once per use: half the
# time at 100,000 incidents.
REBUILD = (
    "DELETE FROM metrics_durations",
    "DELETE FROM metrics_outcomes",
    "INSERT INTO metrics_durations (kind, day, minute, n, total)"
    " SELECT 'ack', day, trunc(d / 60)::integer AS minute, count(*), sum(d) FROM"
    " (SELECT substr(created_at, 1, 10) AS day,"
    "  (julianday(acknowledged_at) - julianday(created_at)) * 86400 AS d FROM incidents"
    "  WHERE acknowledged_at IS NOT NULL OFFSET 0) AS durations"
    " WHERE d IS NOT NULL GROUP BY day, trunc(d / 60)::integer",
    "INSERT INTO metrics_durations (kind, day, minute, n, total)"
    " SELECT 'resolve', day, trunc(d / 60)::integer AS minute, count(*), sum(d) FROM"
    " (SELECT substr(resolved_at, 1, 10) AS day,"
    "  (julianday(resolved_at) - julianday(created_at)) * 86400 AS d FROM incidents"
    "  WHERE resolved_at IS NOT NULL OFFSET 0) AS durations"
    " WHERE d IS NOT NULL GROUP BY day, trunc(d / 60)::integer",
    "INSERT INTO metrics_outcomes (day, resolved, met, csat_sum, csat_count)"
    " SELECT substr(resolved_at, 1, 10) AS day, count(*),"
    " count(*) FILTER (WHERE resolve_met = 1 AND coalesce(response_met, 1) = 1),"
    " coalesce(sum(csat), 0), count(csat) FROM incidents"
    " WHERE resolved_at IS NOT NULL AND resolve_met IS NOT NULL GROUP BY 1",
    "DELETE FROM metrics_dekads",
    DEKADS_FROM_DAYS,  # shared SQL: each dekad the sum of its days' rows
)
# 0001_schema.sql's incidents_total: all in one slot, the others 0 (the sum is the count).
TOTAL = (
    "UPDATE incidents_total"
    " SET n = CASE slot WHEN 0 THEN (SELECT count(*) FROM incidents) ELSE 0 END"
)
METRICS_DURATIONS = (
    "SELECT kind, day, minute, n, total FROM metrics_durations WHERE n <> 0"
    " ORDER BY kind, day, minute"
)
METRICS_OUTCOMES = (
    "SELECT 'outcome', day, resolved, met, csat_sum, csat_count FROM metrics_outcomes"
    " WHERE resolved <> 0 ORDER BY day"
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class PgSide:
    """One PostgreSQL database, read in one snapshot (`write=False`) or loaded."""

    dialect = "postgres"

    def __init__(self, location: PgLocation, *, write: bool) -> None:
        self.label = location.display
        try:
            self._conn = psycopg.connect(location.url, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise StoreOpenError(
                f"{self.label}: cannot connect to PostgreSQL: {_first_line(exc)}"
            ) from None
        self._conn.adapters.register_loader("numeric", NumberLoader)
        if not write:
            self._conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            self._conn.read_only = True
        self._disabled: list[str] = []
        self._loaded: list[str] = []
        self._as_owner = False

    def _rows(self, query: Any, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: {_first_line(exc)}") from None

    def _execute(self, query: Any, params: Sequence[Any] = ()) -> None:
        try:
            self._conn.execute(query, params)
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: {_first_line(exc)}") from None

    # The catalog -------------------------------------------------------------------

    def tables(self) -> list[str]:
        rows = self._rows(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind IN ('r', 'p') ORDER BY relname"
        )
        return [str(name) for (name,) in rows if name not in NOT_COPIED]

    def columns(self, table: str) -> list[str]:
        """Stored columns in table order; generated ones (incidents.search) are the
        target's to compute."""
        rows = self._rows(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
            (_regclass(table),),
        )
        return [str(name) for (name,) in rows]

    def key(self, table: str) -> list[str]:
        rows = self._rows(
            "SELECT a.attname FROM pg_index AS i JOIN pg_attribute AS a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indrelid = %s::regclass AND i.indisprimary"
            " ORDER BY array_position(i.indkey::int2[], a.attnum)",
            (_regclass(table),),
        )
        return [str(name) for (name,) in rows] or self.columns(table)

    def parents(self, table: str) -> set[str]:
        rows = self._rows(
            "SELECT c.relname FROM pg_constraint AS f JOIN pg_class AS c ON c.oid = f.confrelid"
            " WHERE f.conrelid = %s::regclass AND f.contype = 'f'",
            (_regclass(table),),
        )
        return {str(name) for (name,) in rows}

    def count(self, table: str, where: str = "") -> int:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        if where:
            query = sql.SQL("{} WHERE {}").format(query, sql.SQL(where))
        return int(self._rows(query)[0][0])

    # Reading -----------------------------------------------------------------------

    def snapshot(self) -> None:
        """Every read from here on sees one committed state (REPEATABLE READ)."""
        self._execute("SELECT 1")

    def rows(
        self, table: str, columns: Sequence[str], order: Sequence[str], chunk: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(c) for c in order),
        )
        try:
            with self._conn.cursor(name="opsdesk_copy") as cursor:  # server-side: streamed
                cursor.itersize = chunk
                cursor.execute(query)
                while batch := cursor.fetchmany(chunk):
                    yield batch
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: reading {table} failed: {_first_line(exc)}") from None

    def metrics(self) -> Iterator[tuple[Any, ...]]:
        """The metrics aggregates' rows that count something, in one order, streamed."""
        for query in (METRICS_DURATIONS, METRICS_OUTCOMES):
            try:
                with self._conn.cursor(name="opsdesk_copy_metrics") as cursor:
                    cursor.execute(query)
                    yield from cursor
            except psycopg.Error as exc:
                raise StoreError(f"{self.label}: {_first_line(exc)}") from None

    # Loading -----------------------------------------------------------------------

    def begin(self, tables: Iterable[str]) -> None:
        """As the tables' owner, their own triggers off for this transaction (see the
        module docstring); refused, naming who may, for anyone else."""
        ((owner,),) = self._rows(
            "SELECT rolsuper OR pg_has_role(session_user, %s, 'MEMBER') FROM pg_roles"
            " WHERE rolname = session_user",
            (OWNER_ROLE,),
        )
        if not owner:
            raise StoreError(
                f"{self.label}: restoring the audit log as it was needs the database's owner:"
                f" connect as a member of {OWNER_ROLE} (or a superuser); nothing was copied"
            )
        # Wait for a console's open transaction on DST a while, not forever; a server
        # whose DBA limits statement time must still let one table's COPY finish.
        self._execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT_SECONDS}s'")
        self._execute("SET LOCAL statement_timeout = 0")
        # The commit waits for its WAL to be flushed whatever the server's default
        # (synchronous_commit = off): until it is, nobody may set the rows' "committed"
        # hint bits, and the VACUUM right after the commit marks no page visible to all
        # (checked in tests/test_pg_queue.py, whose cluster commits asynchronously).
        self._execute("SET LOCAL synchronous_commit = on")
        (super_,) = self._rows("SELECT rolsuper FROM pg_roles WHERE rolname = session_user")[0]
        if not super_:
            self._execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
            self._as_owner = True
        self._loaded = list(tables)
        for table in self._loaded:
            self._execute(
                sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table))
            )
            self._disabled.append(table)

    def clear(self, table: str) -> None:
        self._execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))

    def load(
        self, table: str, columns: Sequence[str], batches: Iterable[Sequence[tuple[Any, ...]]]
    ) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        loaded = 0
        try:
            with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
                for batch in batches:
                    for row in batch:
                        copy.write_row(row)
                    loaded += len(batch)
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: loading {table} failed: {_first_line(exc)}") from None
        return loaded

    def finish(self, tables: Iterable[str]) -> None:
        """What the disabled triggers would have kept, computed once; then the triggers
        back on, before anything commits."""
        for statement in (*REBUILD, TOTAL):
            self._execute(statement)
        self._execute(
            "UPDATE change_counts SET n = n + 1 WHERE name = ANY (%s)", (list(self._disabled),)
        )
        self._execute(
            "SELECT pg_notify('opsdesk_changes', name) FROM change_counts WHERE name = ANY (%s)",
            (list(self._disabled),),
        )
        for table in tables:
            for (column,) in self._rows(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attidentity <> '' AND NOT attisdropped",
                (_regclass(table),),
            ):
                self._execute(
                    sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({}, {}),"
                        " coalesce(max({}), 0) + 1, false) FROM {}"
                    ).format(
                        sql.Literal(_regclass(table)),
                        sql.Literal(column),
                        sql.Identifier(column),
                        sql.Identifier(table),
                    )
                )
        while self._disabled:
            table = self._disabled.pop()
            self._execute(
                sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table))
            )

    def commit(self) -> None:
        """Commit the load, then VACUUM (ANALYZE) the tables loaded (see the module
        docstring): outside the transaction, since VACUUM cannot run in one."""
        try:
            self._conn.commit()
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: {_first_line(exc)}") from None
        if not self._loaded:
            return
        self._conn.autocommit = True
        try:
            # As the tables' owner (SET LOCAL ROLE ended with the transaction), waiting a
            # while for a lock, without a statement time limit.
            if self._as_owner:
                self._conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER_ROLE)))
            self._conn.execute(f"SET lock_timeout = '{LOCK_WAIT_SECONDS}s'")
            self._conn.execute("SET statement_timeout = 0")
            # VACUUM (ANALYZE) of one table commits the statistics before the next table
            # is vacuumed; committed asynchronously, that would keep the next one's rows
            # from being marked visible to all (see `begin`).
            self._conn.execute("SET synchronous_commit = on")
            self._conn.execute(
                sql.SQL("VACUUM (ANALYZE) {}").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in self._loaded)
                )
            )
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.label}: the copy is committed, but VACUUM (ANALYZE) of its tables"
                f" failed: {_first_line(exc)} (run it there, or leave it to autovacuum)"
            ) from None
        finally:
            self._loaded = []

    def rollback(self) -> None:
        self._disabled.clear()
        self._loaded = []
        if not self._conn.closed:
            self._conn.rollback()

    def close(self) -> None:
        if not self._conn.closed:
            self.rollback()
            self._conn.close()


def _regclass(table: str) -> str:
    """A table name as regclass input: quoted, so any catalog name reads as itself."""
    return '"' + table.replace('"', '""') + '"'
