"""`opsdesk store copy` at N incidents: a demo store copied SQLite -> PostgreSQL and the
result back PostgreSQL -> SQLite, each `--runs` times, against floors measured in the
same run.

- `to_pg_s` / `to_sqlite_s`: `copy_store` as the command runs it (open and migrate DST,
  stream every table in one transaction, rebuild what DST derives, the checks after:
  counts, metrics, `audit --verify`), median and worst of the runs.
- floors: `floor_pg_s`, the same rows of every copied table streamed from the SQLite
  file the same way (chunks of store/copy.py's CHUNK) and COPYed into bare tables (the
  columns alone: no key, index, trigger, generated column or check) in one transaction;
  `floor_sqlite_s`, SQLite's online backup (`sqlite3 .backup`) of the copied-back file,
  a page copy. Neither checks or rebuilds anything, so each ratio is above 1 by
  construction; it says what the checks, indexes and derived tables cost.

    python -m bench.store_copy [--incidents 100000] [--runs 3]
        [--url postgresql://SUPERUSER@/postgres?host=SOCKET_DIR]

Without --url it starts a throwaway cluster of its own (tests/pg_cluster.py).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import secrets
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import demo_store, emit
from bench.pg_audit_cost import cluster, drop, with_database
from opsdesk.store.copy import CHUNK, NOT_COPIED, copy_store


def new_database(admin_url: str, kind: str) -> str:
    name = f"bench_copy_{kind}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        owner = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'opsdesk_owner'").fetchone()
        suffix = " OWNER opsdesk_owner" if owner else ""
        conn.execute(sql.SQL(f"CREATE DATABASE {{}}{suffix}").format(sql.Identifier(name)))  # type: ignore[arg-type]
    return name


def floor_pg(store: Path, url: str) -> float:
    """The rows alone, streamed and COPYed into bare tables in one transaction."""
    source = sqlite3.connect(store)
    tables = [
        name
        for (name,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            " AND name NOT LIKE 'incidents_fts%' ORDER BY name"
        )
        if name not in NOT_COPIED
    ]
    columns = {t: [row[1] for row in source.execute(f'PRAGMA table_info("{t}")')] for t in tables}
    with psycopg.connect(url) as conn:
        for table in tables:  # untimed: empty tables of text and numbers, nothing else
            listed = ", ".join(f'"{c}" text' for c in columns[table])
            conn.execute(f'CREATE TABLE "bare_{table}" ({listed})')  # type: ignore[arg-type]
        conn.commit()
        began = time.perf_counter()
        for table in tables:
            listed = ", ".join(f'"{c}"' for c in columns[table])
            cursor = source.execute(f'SELECT {listed} FROM "{table}"')
            with conn.cursor().copy(f'COPY "bare_{table}" ({listed}) FROM STDIN') as copy:  # type: ignore[arg-type]
                while batch := cursor.fetchmany(CHUNK):
                    for row in batch:
                        copy.write_row(row)
        conn.commit()
        took = time.perf_counter() - began
    source.close()
    return took


def floor_sqlite(store: Path, folder: Path) -> float:
    target = folder / f"backup-{secrets.token_hex(3)}.db"
    began = time.perf_counter()
    source, copy = sqlite3.connect(store), sqlite3.connect(target)
    source.backup(copy)
    copy.close()
    source.close()
    took = time.perf_counter() - began
    target.unlink()
    return took


def spread(samples: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(samples), 3), "worst": round(max(samples), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="a superuser URL of a scratch cluster")
    args = parser.parse_args()
    to_pg: list[float] = []
    to_sqlite: list[float] = []
    floors_pg: list[float] = []
    floors_sqlite: list[float] = []
    rows = 0
    with tempfile.TemporaryDirectory() as tmp, cluster(args.url) as admin_url:
        folder = Path(tmp)
        store = demo_store(tmp, args.incidents)
        for run in range(args.runs):
            target, bare = new_database(admin_url, "dst"), new_database(admin_url, "floor")
            try:
                url = with_database(admin_url, target)
                there = copy_store(store, url)
                back = folder / f"back-{run}.db"
                again = copy_store(url, back)
                if not (there.ok and again.ok):
                    raise SystemExit("bench.store_copy: a copy's checks disagreed")
                to_pg.append(there.seconds)
                to_sqlite.append(again.seconds)
                rows = there.rows
                floors_pg.append(floor_pg(store, with_database(admin_url, bare)))
                floors_sqlite.append(floor_sqlite(back, folder))
                back.unlink()
            finally:
                drop(admin_url, target)
                drop(admin_url, bare)
    emit(
        {
            "incidents": args.incidents,
            "rows": rows,
            "runs": args.runs,
            "to_pg_s": spread(to_pg),
            "to_sqlite_s": spread(to_sqlite),
            "floor_pg_s": spread(floors_pg),
            "floor_sqlite_s": spread(floors_sqlite),
            "to_pg_ratio": round(statistics.median(to_pg) / statistics.median(floors_pg), 2),
            "to_sqlite_ratio": round(
                statistics.median(to_sqlite) / statistics.median(floors_sqlite), 2
            ),
        }
    )


if __name__ == "__main__":
    main()
