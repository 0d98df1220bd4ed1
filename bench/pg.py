"""PostgreSQL stores for the benchmarks: a cluster (the one a URL names, or a throwaway
one started here the way tests/pg_cluster.py starts the test cluster), a new database in
it, and a SQLite store loaded into that database with `opsdesk store copy`'s code.

    with cluster(admin_url_or_None) as admin:
        loaded = load_sqlite(Path("bench-1m.db"), admin)   # loaded.url, loaded.seconds
        ...
        drop(admin, loaded.database)

The SQLite store is never written: it is copied first (the file and its -wal and -shm,
byte for byte) and the copy opened once, which migrates an older schema, because
`store copy` reads SRC as it is and refuses a schema it does not know.

`store copy` ends with `VACUUM (ANALYZE)` of what it loaded (a bulk load leaves the
planner without statistics and the visibility map unset, so every index-only scan would
visit the heap too until autovacuum's next pass). The database is VACUUMed once more here,
timed on its own: a no-op after the copy's own, kept so a database loaded by other means
is measured as it runs a day later.

The throwaway cluster differs from the test cluster in one respect: shared_buffers is
256MB (the test cluster's 32MB holds less than the incidents table's hot indexes, and
no production server runs that small). fsync stays off: nothing here measures commits.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from tests.pg_cluster import PgCluster

SHARED_BUFFERS = "256MB"


@dataclass(frozen=True)
class Loaded:
    """A PostgreSQL store made from a SQLite one."""

    url: str
    """The database, as the superuser the admin URL names."""
    database: str
    copy_s: float
    """`copy_store` as `opsdesk store copy` runs it: migrate DST, stream every table in one
    transaction, rebuild the metrics, the checks afterwards (counts, metrics, audit)."""
    analyze_s: float
    """VACUUM (ANALYZE) of the whole database after the copy."""
    rows: int
    migrate_sqlite_s: float
    """Opening the SQLite copy once (its migrations), before the copy."""
    sqlite_store: Path
    """The SQLite store copied from: the migrated copy of the source (what to measure
    SQLite on, since measuring writes leases and escalations), or the source itself."""

    def report(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "rows": self.rows,
            "sqlite_migrate_s": round(self.migrate_sqlite_s, 1),
            "store_copy_s": round(self.copy_s, 1),
            "vacuum_analyze_s": round(self.analyze_s, 1),
            "total_s": round(self.migrate_sqlite_s + self.copy_s + self.analyze_s, 1),
        }


def with_database(url: str, name: str, user: str | None = None) -> str:
    """`url` naming database `name` (and role `user` when given)."""
    parts = urlsplit(url)
    netloc = parts.netloc if user is None else f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunsplit(parts._replace(path=f"/{name}", netloc=netloc))


@contextmanager
def cluster(url: str | None) -> Iterator[str]:
    """A superuser URL: the one given, or that of a throwaway cluster started here and
    removed on the way out."""
    if url is not None:
        yield url
        return
    made = _throwaway()
    made.start()
    try:
        yield made.url("postgres")
    finally:
        made.destroy()


def _throwaway() -> PgCluster:
    """tests/pg_cluster.py's cluster with bigger shared buffers. Imported here, not at the
    top: it imports pytest, and only a run without --pg-admin needs it."""
    from tests.pg_cluster import PgCluster, cluster_or_skip

    class BenchCluster(PgCluster):
        def _initdb(self) -> None:
            super()._initdb()
            with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as out:
                out.write(f"# bench/pg.py\nshared_buffers = {SHARED_BUFFERS}\n")

    return BenchCluster(cluster_or_skip().binaries)


def new_database(admin_url: str, prefix: str = "bench") -> str:
    """A new database owned by opsdesk_owner (when the role exists); its name."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        owner = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'opsdesk_owner'").fetchone()
        create = sql.SQL(
            "CREATE DATABASE {} OWNER opsdesk_owner" if owner else "CREATE DATABASE {}"
        )
        conn.execute(create.format(sql.Identifier(name)))
    return name


def drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def migrated_copy(source: Path, folder: str) -> tuple[Path, float]:
    """A copy of the SQLite store `source` in `folder`, opened once (migrated); the time
    the opening took. `source` is only read."""
    from opsdesk.store import Store

    target = Path(folder) / f"{source.stem}-copy.db"
    # Byte copies of the file and its -wal/-shm (as bench.feed copies a store): SQLite is
    # never pointed at `source`, since even a read-only connection writes its -shm.
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")

    async def open_once() -> None:
        store = await Store.open(target)
        await store.close()

    began = time.perf_counter()
    asyncio.run(open_once())
    return target, time.perf_counter() - began


def load_sqlite(source: Path, admin_url: str, folder: str | None = None) -> Loaded:
    """`source` (a SQLite store, only read) copied into a new database of the cluster
    `admin_url` names, then VACUUMed and ANALYZEd. With `folder`, `source` is first copied there and
    migrated (the copy stays, for the caller to measure); without it `source` is at the
    current schema already and copied as it is."""
    from opsdesk.store.copy import copy_store

    if folder is not None:
        sqlite_store, migrate_s = migrated_copy(source, folder)
    else:
        sqlite_store, migrate_s = source, 0.0
    name = new_database(admin_url)
    url = with_database(admin_url, name)
    report = copy_store(sqlite_store, url)
    if not report.ok:
        drop(admin_url, name)
        raise SystemExit(f"bench: store copy {source} -> {name}: its checks disagreed")
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    analyze_s = time.perf_counter() - began
    return Loaded(url, name, report.seconds, analyze_s, report.rows, migrate_s, sqlite_store)


@contextmanager
def cloned(url: str) -> Iterator[str]:
    """A copy of the database `url` names (CREATE DATABASE ... TEMPLATE: a file copy, so
    nobody may be connected to it meanwhile), as the same role; dropped on the way out.
    For a benchmark that writes (leases, escalations, its own writer) to a store it was
    only given to read."""
    source = urlsplit(url).path.lstrip("/")
    admin = with_database(url, "postgres")
    name = f"{source[:40]}_bench_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source)
            )
        )
    try:
        yield with_database(url, name)
    finally:
        drop(admin, name)
