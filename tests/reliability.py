"""The reliability runs the suite asserts on, and their figures.

`python -m tests.reliability` runs them at full size and prints one JSON object (the
figures in README's "Reliability" section come from it); tests/test_reliability_*.py run
the same functions and assert that nothing was lost and nothing failed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsdesk.console.ops.identity import current_login
from tests import workload
from tests.audit_replay import Findings, check_store, read_logs
from tests.hostile_text import HOSTILE as HOSTILE_TEXT

ROOT = Path(__file__).resolve().parent.parent
APP_LOGINS = ("ana", "ben", "dana")

WAIT_IN_OPERATIONS = 2000
"""How long a writer may wait for the write lock before the store gives up and says "busy",
counted in operations of one writer alone (measured in the same run): 2,000 take about
30 s, the store's own limit, on an idle 2-core machine. On a machine slowed by other
work every operation takes longer, and a wait for the others' operations may too, so the
limit grows with it instead of turning a slow machine into "busy" refusals; it never
drops below the store's own limit."""
BASELINE_OPERATIONS = 15


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TZ="UTC")
    env.pop("OPSDESK_CONFIG", None)
    return env


def prepare(folder: Path, location: str | None = None) -> tuple[str, Path]:
    """A store seeded with incidents and submitted changes, and the team's config. The
    store is `location` (a PostgreSQL URL from the tests' cluster) or a SQLite file in
    `folder`; either way, what the checks read it as."""
    from tests.store_backends import is_postgres

    folder.mkdir(parents=True, exist_ok=True)
    store, config = location or str(folder / "ops.db"), folder / "team.toml"
    in_file = not is_postgres(store)
    config.write_text(workload.config_text(current_login(), in_file=in_file), encoding="utf-8")
    asyncio.run(workload.seed(store, config, current_login(), datetime.now(UTC)))
    return store, config


def store_as(location: str, config: Path, login: str) -> str:
    """What a worker acting as `login` passes as --store: the SQLite file, or on PostgreSQL
    the database as that person's login, member of the roles workload.grants gives them
    (there the database, not the file, says who acts: tests/store_backends.py)."""
    from tests.store_backends import is_postgres, url_as

    if not is_postgres(location):
        return location
    return url_as(location, login, workload.roles_of(current_login(), login))


def seconds_per_operation(store: str, config: Path) -> float:
    """What one workload operation (a CLI note) takes with no other writer, on this
    machine as loaded as it is now: the median of a few, on a copy of a SQLite `store`
    (on PostgreSQL on the store itself: a note's marker is not a worker's, so the checks
    ignore it)."""
    from tests.store_backends import is_postgres

    if is_postgres(store):
        copy = store_as(store, config, current_login())
    else:
        copy = str(Path(store).with_name("baseline.db"))
        source, target = sqlite3.connect(store), sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    plan = workload.Plan("baseline", 0, current_login())
    took = []
    for _ in range(BASELINE_OPERATIONS):
        argv, _ = workload.cli_command(plan, "note", datetime.now(UTC))
        started = time.monotonic()
        code, _, err = workload._cli(copy, str(config), *argv)
        took.append(time.monotonic() - started)
        if code != 0:
            raise RuntimeError(f"the baseline operation failed: {err.strip()}")
    return sorted(took)[len(took) // 2]


def wait_limit(per_operation: float) -> float:
    """How long to wait on another process (for the write lock, for a worker's first
    report) on this machine: the store's own limit, or WAIT_IN_OPERATIONS operations if
    those take longer."""
    from opsdesk.store import db

    return max(db.WRITE_WAIT_SECONDS, WAIT_IN_OPERATIONS * per_operation)


def worker_argv(kind: str, name: str, store: str, config: Path, log: Path, count: int,
                seed: int, login: str | None = None) -> list[str]:  # fmt: skip
    """A worker's command line; on PostgreSQL its --store is the database as its person
    (`login`, or the CLI's own account)."""
    store = store_as(store, config, login or current_login())
    argv = [sys.executable, "-m", "tests.workload", kind, name, store, str(config)]
    argv += [str(log), str(count), str(seed)]
    return argv + ([login] if login else [])


@dataclass
class ConcurrentRun:
    processes: int
    operations_each: int
    seconds: float
    findings: Findings
    seconds_per_operation: float = 0.0
    write_wait: float = 0.0

    def figures(self) -> dict[str, Any]:
        return {
            "processes": self.processes,
            "operations": self.findings.operations,
            "done": self.findings.done,
            "refused": dict(self.findings.refused),
            "audit_rows": self.findings.audit_rows,
            "seconds": round(self.seconds, 1),
            "baseline_ms_per_operation": round(self.seconds_per_operation * 1000, 1),
            "write_wait_seconds": round(self.write_wait, 1),
            "failures": len(self.findings.problems),
        }


def run_concurrent(folder: Path, *, processes: int = 8, operations: int = 500,
                   app_workers: int = 3, seed: int = 1,
                   location: str | None = None) -> ConcurrentRun:  # fmt: skip
    """`processes` workers at once on one store (`app_workers` of them headless consoles,
    the rest CLI callers), `operations` each; then check the store against their logs.
    How long a worker may wait for the write lock is scaled to the machine (see
    WAIT_IN_OPERATIONS), from one writer's speed measured just before. `location`: a
    PostgreSQL database instead of a SQLite file in `folder`."""
    store, config = prepare(folder, location)
    per_operation = seconds_per_operation(store, config)
    write_wait = wait_limit(per_operation)
    env = {**_env(), workload.WRITE_WAIT_ENV: repr(write_wait)}
    logs, workers = [], []
    started = time.monotonic()
    for n in range(processes):
        app = n < app_workers
        name = f"app{n + 1}" if app else f"cli{n + 1}"
        log = folder / f"{name}.jsonl"
        logs.append(log)
        argv = worker_argv("app" if app else "cli", name, store, config, log, operations,
                           seed * 100 + n, APP_LOGINS[n % len(APP_LOGINS)] if app else None)  # fmt: skip
        workers.append(subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True))
    errors = [w.communicate(timeout=1800)[1] for w in workers]
    seconds = time.monotonic() - started
    findings = check_store(store, read_logs(logs))
    for worker, error in zip(workers, errors, strict=True):
        if worker.returncode != 0:
            findings.problem(f"worker exited {worker.returncode}: {error.strip()[-500:]}")
        elif "locked" in error.lower():
            findings.problem(f"worker stderr: {error.strip()[-500:]}")
    expected = processes * operations
    if findings.operations != expected:
        findings.problem(f"{findings.operations} operations logged, {expected} expected")
    return ConcurrentRun(processes, operations, seconds, findings, per_operation, write_wait)


@dataclass
class CrashRun:
    kills: int
    integrity_failures: list[str]
    findings: Findings

    def figures(self) -> dict[str, Any]:
        return {
            "kills": self.kills,
            "operations_reported_done": self.findings.done,
            "audit_rows": self.findings.audit_rows,
            "failures": len(self.findings.problems) + len(self.integrity_failures),
        }


def integrity(path: str | Path) -> str:
    """SQLite's integrity_check of a store file; "ok" for a PostgreSQL store, whose server
    survives its clients (a killed client's transaction is rolled back by it)."""
    from tests.store_backends import is_postgres

    if is_postgres(str(path)):
        return "ok"
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _wait_for_first_line(log: Path, worker: subprocess.Popen[str], limit: float) -> None:
    """Until the worker has reported its first operation done (a line in its log; another
    process gives no other event), or failed; `limit` seconds is a failure bound."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and worker.poll() is None:
        if log.exists() and log.stat().st_size > 0:
            return
        time.sleep(0.01)
    raise RuntimeError(f"worker wrote nothing in {limit:.0f} s: {worker.returncode}")


def run_crashes(folder: Path, *, kills: int = 100, app_every: int = 10, seed: int = 1,
                location: str | None = None) -> CrashRun:  # fmt: skip
    """Start a writer, let it work, SIGKILL it at a random moment, check the file; again.
    Every `app_every`-th writer is a headless console instead of a CLI caller. At the end
    the store is checked against everything any writer had reported done. `location`: a
    PostgreSQL database instead of a SQLite file in `folder`."""
    store, config = prepare(folder, location)
    first_line_limit = wait_limit(seconds_per_operation(store, config))
    rng = random.Random(seed)
    logs, broken = [], []
    for n in range(kills):
        app = app_every and n % app_every == app_every - 1
        name = f"crash{n + 1}"
        log = folder / f"{name}.jsonl"
        logs.append(log)
        argv = worker_argv("app" if app else "cli", name, store, config, log, 100_000, n,
                           APP_LOGINS[n % len(APP_LOGINS)] if app else None)  # fmt: skip
        worker = subprocess.Popen(argv, cwd=ROOT, env=_env(), stderr=subprocess.PIPE, text=True)
        try:
            _wait_for_first_line(log, worker, first_line_limit)
            time.sleep(rng.uniform(0, 0.4))
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.communicate()
        if worker.returncode != -signal.SIGKILL:
            broken.append(f"{name} ended by itself ({worker.returncode}) before the kill")
        result = integrity(store)
        if result != "ok":
            broken.append(f"after kill {n + 1}: integrity_check: {result}")
    findings = check_store(store, read_logs(logs))
    return CrashRun(kills, broken, findings)


@dataclass
class MigrationCrashRun:
    kills: int
    left_old: int
    left_migrated: int
    seconds_to_migrate: float
    problems: list[str]

    def figures(self) -> dict[str, Any]:
        return {
            "kills": self.kills,
            "store_left_at_old_schema": self.left_old,
            "store_left_migrated": self.left_migrated,
            "migration_seconds": round(self.seconds_to_migrate, 2),
            "failures": len(self.problems),
        }


OLD_SCHEMA = 4


def old_store(path: Path, incidents: int) -> None:
    """A schema-4 store (before the search index) holding `incidents` incidents, so that
    migrating it takes long enough to be killed in the middle."""
    from opsdesk.store import Store
    from opsdesk.store import db as db_module

    saved = db_module.migrations, db_module.LATEST_SCHEMA
    first = db_module.migrations()[:OLD_SCHEMA]
    db_module.migrations, db_module.LATEST_SCHEMA = (lambda: first), OLD_SCHEMA  # type: ignore[assignment]
    try:
        asyncio.run(_close(Store.open(path)))
    finally:
        db_module.migrations, db_module.LATEST_SCHEMA = saved  # type: ignore[assignment]
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO incidents (title, description, service, impact, urgency, priority,"
            " state, reporter, created_at, updated_at, updated_by) VALUES (?, ?, 'payments',"
            " 2, 2, 'P3', 'new', 'eve', '2026-11-01T10:00:00Z', '2026-11-01T10:00:00Z', 'eve')",
            ((f"old incident {n}", f"disk {n} full on host-{n % 97}") for n in range(incidents)),
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def _close(opening: Any) -> None:
    await (await opening).close()


def _schema_and_count(path: Path) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        return int(version), int(conn.execute("SELECT count(*) FROM incidents").fetchone()[0])
    finally:
        conn.close()


def _open_with_cli(store: Path, config: Path) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "opsdesk.console", "--config", str(config), "--store",
            str(store), "incident", "list", "--limit", "1"]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def run_migration_crashes(folder: Path, *, kills: int = 20, incidents: int = 100_000,
                          seed: int = 1) -> MigrationCrashRun:  # fmt: skip
    """Kill `opsdesk` while it migrates a schema-4 store at random moments (before, during
    and after the backup copy and the migration transaction). Each time the store must be
    intact, at schema 4 or the newest (never between), with every incident, and open
    normally afterwards. Then restore a backup with the documented command."""
    from opsdesk.store.db import LATEST_SCHEMA

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "team.toml"
    config.write_text(workload.config_text(current_login()), encoding="utf-8")
    template = folder / "template.db"
    old_store(template, incidents)
    rng, problems = random.Random(seed), []
    counts = {OLD_SCHEMA: 0, LATEST_SCHEMA: 0}

    def fresh(name: str) -> Path:
        (folder / name).mkdir()
        store = folder / name / "opsdesk.db"
        shutil.copy(template, store)
        return store

    started = time.monotonic()
    whole = _open_with_cli(fresh("whole"), config)
    _, err = whole.communicate(timeout=600)
    seconds = time.monotonic() - started
    if whole.returncode != 0:
        problems.append(f"migrating without a kill failed: {err.strip()}")
    for n in range(kills):
        store = fresh(f"kill{n + 1}")
        worker = _open_with_cli(store, config)
        time.sleep(rng.uniform(0, seconds))
        worker.send_signal(signal.SIGKILL)
        worker.communicate()
        if integrity(store) != "ok":
            problems.append(f"kill {n + 1}: integrity_check: {integrity(store)}")
            continue
        version, count = _schema_and_count(store)
        if version not in counts or count != incidents:
            problems.append(f"kill {n + 1}: left at schema {version} with {count} incidents")
            continue
        counts[version] += 1
        again = _open_with_cli(store, config)
        _, err = again.communicate(timeout=600)
        if again.returncode != 0 or _schema_and_count(store) != (LATEST_SCHEMA, incidents):
            problems.append(f"kill {n + 1}: did not open afterwards: {err.strip()}")
    problems += restore_backup(folder / "whole", incidents)
    return MigrationCrashRun(kills, counts[OLD_SCHEMA], counts[LATEST_SCHEMA], seconds, problems)


def restore_backup(folder: Path, incidents: int) -> list[str]:
    """docs/operations.md: `mv opsdesk.db.schemaN-TIMESTAMP.bak opsdesk.db && rm -f
    opsdesk.db-wal opsdesk.db-shm` gives back the store as it was before migrating."""
    backups = sorted(folder.glob(f"opsdesk.db.schema{OLD_SCHEMA}-*.bak"))
    if len(backups) != 1:
        return [f"expected one backup beside the migrated store, found {backups}"]
    command = f"mv {backups[0].name} opsdesk.db && rm -f opsdesk.db-wal opsdesk.db-shm"
    subprocess.run(command, shell=True, cwd=folder, check=True)
    store = folder / "opsdesk.db"
    if integrity(store) != "ok" or _schema_and_count(store) != (OLD_SCHEMA, incidents):
        return [f"the restored backup is not the old store: {_schema_and_count(store)}"]
    return []


TIMEOUT_S = 1.0
HOSTILE = {
    "silent": ("/silent", "no answer within 1 s"),
    "gigabytes": ("/gigabytes", "response larger than 5,242,880 bytes"),
    "drop": ("/drop", "cannot reach it: the server closed the connection"),
    "drop-mid-body": ("/drop-mid-body", "cannot reach it: the server closed the connection"),
    "not-tls": ("/not-tls", "cannot reach it: TLS failed"),
    "drip": ("/drip", "no report within 2 s"),
    "redirect-loop": ("/redirect-loop", "too many redirects"),
}


@dataclass
class HostileRun:
    seconds: float
    peak_mb: float
    polled: dict[str, dict[str, Any]]
    stored: dict[str, dict[str, Any]]
    stderr: str

    def figures(self) -> dict[str, Any]:
        failures = sum(
            expected not in (self.polled.get(name, {}).get("error") or "")
            for name, (_, expected) in HOSTILE.items()
        ) + (self.polled.get("good", {}).get("level") != "operational")
        return {
            "endpoints": len(HOSTILE) + 1,
            "poll_seconds": round(self.seconds, 2),
            "peak_rss_mb": round(self.peak_mb, 1),
            "failures": failures + ("Traceback" in self.stderr),
        }


def hostile_config(base: str) -> str:
    sources = []
    for name, (path, _) in {**HOSTILE, "good": ("/ok", "")}.items():
        url = base + path
        if name == "not-tls":
            url = url.replace("http://", "https://")
        sources.append(
            f'[[sources]]\nname = "{name}"\nplugin = "statuspage"\nurl = "{url}?x=.json"\n'
            f'vendor = "V"\ntimeout = "{TIMEOUT_S:g}s"\nretries = 0\n'
        )
    return '[[vendors]]\nname = "V"\n' + "\n".join(sources)


def run_hostile_endpoints(folder: Path) -> HostileRun:
    """`opsdesk poll --once` over seven misbehaving endpoints and a good one at once (its
    own process, so its peak memory is its own), then `vendors status` for what is stored."""
    from tests.hostile_server import hostile_server

    folder.mkdir(parents=True, exist_ok=True)
    with hostile_server() as server:
        team = folder / "team.toml"
        team.write_text(hostile_config(server.base), encoding="utf-8")
        base = [sys.executable, "-m", "opsdesk.console", "--config", str(team),
                "--store", str(folder / "s.db")]  # fmt: skip
        started = time.monotonic()
        out, err, peak_mb = run_measured([*base, "poll", "--once", "--json"])
        seconds = time.monotonic() - started
        status = subprocess.run([*base, "vendors", "status", "--json"], cwd=ROOT, env=_env(),
                                capture_output=True, text=True, check=True)  # fmt: skip
    polled = {r["source"]: r for r in json.loads(out)}
    stored = {s["source"]: s for s in json.loads(status.stdout)}
    return HostileRun(seconds, peak_mb, polled, stored, err)


def run_measured(argv: list[str]) -> tuple[str, str, float]:
    """Run `argv` to the end: (stdout, stderr, its peak RSS in MB). The peak is the
    process's own VmHWM, sampled from /proc while it runs: wait4's ru_maxrss would carry
    over the high-water mark of the (large) test process it was forked from."""
    child = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    streams: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda n=n, f=f: streams.__setitem__(n, f.read()))
        for n, f in (("out", child.stdout), ("err", child.stderr))
    ]
    for reader in readers:
        reader.start()
    peak_kb = 0
    status = Path(f"/proc/{child.pid}/status")
    while child.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    for reader in readers:
        reader.join()
    return streams["out"], streams["err"], peak_kb / 1024


SUITES = {  # the rest of the reliability suite, whose figures are test counts
    "untrusted_text": "tests/test_untrusted_text.py",
    "permissions": "tests/test_permissions.py",
    "secrets": "tests/test_secrets.py",
    "full_disk_and_read_only": "tests/test_disk_and_read_only.py",
    "config_fuzz": "tests/test_config_fuzz.py",
    "adapter_fuzz": "tests/test_adapter_fuzz.py",
}


def run_suites(folder: Path) -> dict[str, dict[str, int]]:
    """Run the other reliability tests and count what they tried and what failed."""
    from xml.etree import ElementTree

    found = {}
    for name, path in SUITES.items():
        report = folder / f"{name}.xml"
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path,
                        f"--junitxml={report}"], cwd=ROOT, env=_env(), capture_output=True)  # fmt: skip
        suite = ElementTree.parse(report).getroot().find("testsuite")
        assert suite is not None
        found[name] = {
            "tests": int(suite.get("tests", 0)),
            "skipped": int(suite.get("skipped", 0)),
            "failures": int(suite.get("failures", 0)) + int(suite.get("errors", 0)),
        }
    return found


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="opsdesk-reliability-") as tmp:
        folder = Path(tmp)
        concurrent = run_concurrent(folder / "concurrent", operations=100 if quick else 500)
        crashes = run_crashes(folder / "crashes", kills=20 if quick else 100)
        migration = run_migration_crashes(folder / "migration", kills=5 if quick else 20)
        hostile = run_hostile_endpoints(folder / "hostile")
        report: dict[str, Any] = {
            "concurrent": concurrent.figures(),
            "crashes": crashes.figures(),
            "migration_crashes": migration.figures(),
            "hostile_endpoints": hostile.figures(),
            "hostile_strings": len(HOSTILE_TEXT),
            **run_suites(folder),
        }
    print(json.dumps(report))
    failed = [v for v in report.values() if isinstance(v, dict) and v.get("failures")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
