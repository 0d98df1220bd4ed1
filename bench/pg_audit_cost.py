"""What the database-enforced rules (store/pg/migrations/0002_security.sql) cost a write:
N audited incident creations (the incident, its timeline event and its audit row, one
transaction each, the statements `Incidents.create` sends) into a database with 0001 only
(the floor, measured in the same run) and into one with 0001 + 0002, as an engineer login.
0002 adds per write: the audit trigger (advisory lock, newest row, SHA-256 in SQL), the
who-column triggers, and at commit the deferred check (one probe of audit_txid per row).

    python -m bench.pg_audit_cost [--writes 1000] [--rounds 5]
        [--url postgresql://SUPERUSER@/postgres?host=SOCKET_DIR]

Without --url it starts a throwaway cluster of its own (tests/pg_cluster.py).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

from bench.common import emit

MIGRATIONS = Path(__file__).resolve().parent.parent / "store" / "pg" / "migrations"
LOGIN = "bench_engineer"
AT = "2026-12-01T10:00:00Z"
INCIDENT = (
    "INSERT INTO incidents (title, description, service, impact, urgency, priority, state,"
    " reporter, source, created_at, updated_at, updated_by)"
    " VALUES (%s, '', 'payments', 2, 2, 'P3', 'new', %s, 'manual', %s, %s, %s) RETURNING id"
)
EVENT = (
    "INSERT INTO incident_events (incident_id, at, actor, kind, state, detail)"
    " VALUES (%s, %s, %s, 'created', 'new', '')"
)
AUDIT = (
    "INSERT INTO audit (at, actor, action, entity, entity_key, before, after)"
    " VALUES (%s, %s, 'incident.create', 'incident', %s, NULL, %s)"
)
AFTER = '{"title": "disk full on host-7", "service": "payments", "state": "new"}'


def with_database(url: str, name: str, user: str | None = None) -> str:
    parts = urlparse(url)
    netloc = parts.netloc if user is None else f"{user}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunparse(parts._replace(path=f"/{name}", netloc=netloc))


def create(admin_url: str, secured: bool) -> str:
    """A new database with 0001 (and 0002 when `secured`) applied; its name."""
    name = f"bench_{'secured' if secured else 'floor'}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(with_database(admin_url, name)) as conn:
        conn.execute((MIGRATIONS / "0001_schema.sql").read_bytes())
        if secured:
            conn.execute((MIGRATIONS / "0002_security.sql").read_bytes())
            conn.execute("SELECT opsdesk_grant(%s, 'engineer')", (LOGIN,))
        else:  # the same login, with plain table privileges and no rules
            if (
                conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LOGIN,)).fetchone()
                is None
            ):
                conn.execute(f'CREATE ROLE "{LOGIN}" LOGIN')
            conn.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{LOGIN}"')
    return name


def drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write(url: str, writes: int) -> list[float]:
    """Seconds each audited creation took, commit included."""
    took = []
    with psycopg.connect(url, autocommit=True) as conn:
        login = conn.execute("SELECT session_user").fetchone()
        actor = str(login[0]) if login else "?"
        for n in range(writes):
            began = time.perf_counter()
            with conn.transaction():
                row = conn.execute(INCIDENT, (f"disk full {n}", actor, AT, AT, actor)).fetchone()
                assert row is not None
                conn.execute(EVENT, (row[0], AT, actor))
                conn.execute(AUDIT, (AT, actor, f"INC-{row[0]}", AFTER))
            took.append(time.perf_counter() - began)
    return took


def figures(took: list[float]) -> dict[str, float]:
    ordered = sorted(took)
    return {
        "total_s": round(sum(took), 4),
        "median_ms": round(statistics.median(took) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
        "worst_ms": round(ordered[-1] * 1000, 3),
    }


@contextmanager
def cluster(url: str | None) -> Iterator[str]:
    """A superuser URL: the one given, or that of a throwaway cluster started here."""
    if url is not None:
        yield url
        return
    from tests.pg_cluster import cluster_or_skip

    made = cluster_or_skip()
    made.start()
    try:
        made.allow_runner_as(LOGIN)
        yield made.url("postgres")
    finally:
        made.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="a superuser URL of a scratch cluster")
    args = parser.parse_args()
    with cluster(args.url) as admin_url:
        floor_db, secured_db = create(admin_url, False), create(admin_url, True)
        try:
            floor: list[list[float]] = []
            secured: list[list[float]] = []
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                floor.append(write(with_database(admin_url, floor_db, LOGIN), args.writes))
                secured.append(write(with_database(admin_url, secured_db, LOGIN), args.writes))
        finally:
            drop(admin_url, floor_db)
            drop(admin_url, secured_db)
    floor_totals = [sum(t) for t in floor]
    secured_totals = [sum(t) for t in secured]
    emit(
        {
            "bench": "pg_audit_cost",
            "writes": args.writes,
            "rounds": args.rounds,
            "floor_0001_only": figures(floor[-1])
            | {"median_total_s": round(statistics.median(floor_totals), 4)},
            "secured_0001_0002": figures(secured[-1])
            | {"median_total_s": round(statistics.median(secured_totals), 4)},
            "cost_per_write_ms": round(
                (statistics.median(secured_totals) - statistics.median(floor_totals))
                / args.writes
                * 1000,
                3,
            ),
            "ratio": round(statistics.median(secured_totals) / statistics.median(floor_totals), 3),
        }
    )


if __name__ == "__main__":
    main()
