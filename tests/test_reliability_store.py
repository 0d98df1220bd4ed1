"""Concurrent writers and crashes: nothing reported done is lost, nothing stale is applied,
the file is intact after every SIGKILL, and a killed migration leaves a usable store.

The runs live in tests/reliability.py (also `python -m tests.reliability`, which prints
the figures); these tests run them at the sizes the README quotes and assert on them.
Concurrent writers, killed writers and the checker run on both backends (`store_location`;
on PostgreSQL each worker connects as its person); the killed migration is SQLite's (a
file, its backup and its restore).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.audit_replay import check_store, read_logs
from tests.reliability import (
    ROOT,
    _env,
    prepare,
    run_concurrent,
    run_crashes,
    run_migration_crashes,
    worker_argv,
)
from tests.store_backends import is_postgres, raw


def pg_location(store_location: str) -> str | None:
    """The run's `location`: the PostgreSQL database, or None for a SQLite file in tmp_path."""
    return store_location if is_postgres(store_location) else None


@pytest.mark.slow
def test_eight_writer_processes_lose_nothing(tmp_path: Path, store_location: str) -> None:
    """8 processes × 500 operations on SQLite (its write lock is the contended part); 250
    each on PostgreSQL, whose row locks and Read Committed races show well within that and
    whose every operation is a round trip (the suite's time budget: README)."""
    operations = 250 if is_postgres(store_location) else 500
    run = run_concurrent(
        tmp_path, processes=8, operations=operations, app_workers=3,
        location=pg_location(store_location),
    )  # fmt: skip
    findings = run.findings
    assert findings.problems == [], run.figures()  # with the lock wait it allowed, and why
    assert findings.operations == 8 * operations
    assert findings.refused["stale"] > 0  # consoles really did hold old versions
    assert findings.done > 4 * operations  # most applied; refusals are the workload's races


def test_the_check_notices_a_lost_update_and_a_missing_write(
    tmp_path: Path, store_location: str
) -> None:
    """The checker can fail: a write behind the audit log's back and a lost row are found."""
    store, config = prepare(tmp_path, pg_location(store_location))
    log = tmp_path / "cli1.jsonl"
    argv = worker_argv("cli", "cli1", store, config, log, 60, 3)
    subprocess.run(argv, cwd=ROOT, env=_env(), check=True)
    records = read_logs([log])
    assert check_store(store, records).problems == []
    # PostgreSQL refuses an unaudited change even from its superuser, unless it loads as
    # a replica (what `store copy` does): the checker must still see the damage.
    replica = "SET session_replication_role = replica; " if is_postgres(store) else ""
    raw(store, f"{replica}UPDATE incidents SET assignee = 'mallory' WHERE id = 7")
    raw(store, f"{replica}DELETE FROM overrides WHERE id = (SELECT min(id) FROM overrides)")
    problems = "\n".join(check_store(store, records).problems)
    assert "INC-7: replaying the audit log gives {'assignee'" in problems
    assert "reported done but missing: override" in problems


@pytest.mark.slow
def test_a_writer_killed_again_and_again_leaves_every_reported_write(
    tmp_path: Path, store_location: str
) -> None:
    """100 SIGKILLs on SQLite, where a kill mid-commit could tear the file; 40 on
    PostgreSQL, where the server's WAL keeps the data and what is tested is that every
    write reported done is there and nothing else is."""
    kills = 40 if is_postgres(store_location) else 100
    run = run_crashes(tmp_path, kills=kills, app_every=10, location=pg_location(store_location))
    assert run.integrity_failures == []
    assert run.findings.problems == []
    assert run.findings.done > kills


@pytest.mark.slow
def test_killing_a_migration_leaves_the_old_store_usable_and_the_backup_restorable(
    tmp_path: Path,
) -> None:
    run = run_migration_crashes(tmp_path, kills=20)
    assert run.problems == []
    assert run.left_old + run.left_migrated == 20
    assert run.left_old > 0  # most kills land inside the migration; it rolled back
