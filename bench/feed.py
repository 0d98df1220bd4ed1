"""The live change feed on a big store, measured as people meet it: 1 and 8 consoles,
each its own process, on a 1,000,000-incident store, with the writer in ANOTHER process.

For each number of consoles it reports the CPU per console while nobody writes (idle)
and while a writer changes a visible row once a second, and the time from the writer's
commit to the changed row in each console's queue (median, p95, max). The floor is the
same console with its feed off (it never reloads), measured in the same run.

Before measuring, the store's due escalations are caught up once, as `opsdesk serve`
would on its first tick, so "idle" means nobody writes (the consoles still run their
escalation timer and lease).

    python -m bench.feed [--store PATH | --incidents N] [--seconds 20] [--consoles 1,8]
    python -m bench.feed [--store PATH | --incidents N] --postgresql [--pg-admin URL]
    python -m bench.feed --store postgresql://...

The store named by --store is copied (with -wal/-shm), never written. Prints one JSON
object.

On PostgreSQL the consoles hear commits through LISTEN/NOTIFY (store/pg/feed.py) and the
writer is another process on its own connection, as another host would be; the issue's
target is a change-to-screen latency under 1 s. `--postgresql` loads the SQLite store
(--store, or the demo built) into a new database (bench/pg.py) of the cluster --pg-admin
names, or of a throwaway one, and measures both backends in the same run, SQLite first;
`--store postgresql://...` measures a copy of that database (CREATE DATABASE ... TEMPLATE,
so nobody may be connected to it) and drops the copy afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import demo_config_file, demo_store, emit

HERE = Path(__file__).resolve().parent.parent
TARGET_MS = 1000.0
"""Issue 20: a change reaches every console on PostgreSQL within this."""


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The console process ----------------------------------------------------------------


async def console_main(store: str, feed_interval: float, config: str | None = None) -> None:
    """One console (headless, as a terminal would run it, auto-escalation on), driven by
    lines on stdin: `cpu SECONDS` answers the CPU share over that time; `watch KEY`
    records when the queue's row KEY shows another assignee; `seen` answers those."""
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.screens.queue import QueueScreen

    app = OpsdeskApp(
        Options(config=config, store=store),
        feed_interval=feed_interval,
        handle_hangup=False,
        poll_interval=0,
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    seen: list[tuple[float, str | None]] = []
    watching: list[str] = []

    def shown(key: str) -> str | bool | None:
        screen = app.screen
        if not isinstance(screen, QueueScreen):
            return False
        for row in screen.table.loaded_rows():
            if row.key == key:
                return row.record.assignee  # type: ignore[no-any-return]
        return False

    async def follow(_: int) -> None:
        # After a change, look at the row until it shows something new (or 3 s pass).
        if not watching:
            return
        key, last = watching[0], seen[-1][1] if seen else None
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            now_shown = shown(key)
            if now_shown is not False and now_shown != last:
                seen.append((time.time(), now_shown))  # type: ignore[arg-type]
                return
            await asyncio.sleep(0.005)

    def say(**figures: Any) -> None:
        print(json.dumps(figures), flush=True)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.watch(app, "data_generation", lambda g: app.run_worker(follow(g)), init=False)
        screen = app.screen
        top = screen.table.loaded_rows()[0].key if isinstance(screen, QueueScreen) else None
        say(ready=True, top=top)
        while line := (await reader.readline()).decode().split():
            if line[0] == "cpu":
                began_cpu, began = cpu(), time.perf_counter()
                await asyncio.sleep(float(line[1]))
                say(cpu=(cpu() - began_cpu) / (time.perf_counter() - began))
            elif line[0] == "watch":
                watching[:] = [line[1]]
                current = shown(line[1])
                seen[:] = [(time.time(), None if current is False else current)]  # type: ignore[list-item]
                say(watching=line[1], shown=current)
            elif line[0] == "seen":
                say(seen=seen[1:])
            elif line[0] == "quit":
                break


# The writer process -----------------------------------------------------------------


async def writer_main(
    store: str, key: str, every: float, count: int, config: str | None = None
) -> None:
    """Reassign incident `key` between two people once every `every` seconds, `count`
    times; print the wall time of each commit and who it went to."""
    from opsdesk.console.ops.incidents import IncidentOps
    from opsdesk.console.ops.session import Options, open_session

    session = await open_session(Options(config=config, store=store), create=False)
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        logins = [p.login for p in session.config.people][:2]
        for n in range(count):
            began = time.monotonic()
            incident = await session.store.incidents.get(key)
            login = logins[0] if incident.assignee != logins[0] else logins[1]
            await ops.assign(key, login, datetime.now(UTC))
            print(json.dumps({"n": n, "t": time.time(), "login": login}), flush=True)
            await asyncio.sleep(max(0.0, every - (time.monotonic() - began)))
    finally:
        await session.close()


async def settle_escalations(store: str, config: str | None = None) -> int:
    """Catch up the store's due escalations once, as `opsdesk serve` would."""
    from opsdesk.console.ops.incidents import IncidentOps
    from opsdesk.console.ops.pager import SYSTEM
    from opsdesk.console.ops.session import Options, open_session

    session = await open_session(Options(config=config, store=store), create=False)
    total = 0
    try:
        for _ in range(50):
            done = await IncidentOps(session.store, session.config, SYSTEM).escalate_due(
                datetime.now(UTC)
            )
            total += len(done)
            if not done:
                break
    finally:
        await session.close()
    return total


# The orchestra ----------------------------------------------------------------------


class Console:
    def __init__(self, store: str | Path, feed_interval: float, config: str | None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.feed", "--console", "--store", str(store),
             "--feed-interval", str(feed_interval), *configured(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=HERE, text=True,
        )  # fmt: skip
        self.hello = self.read()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"a console died (exit {self.process.wait()})")
        return json.loads(line)  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.process.poll() is None:
            self.send("quit")
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def measure_cpu(consoles: list[Console], seconds: float) -> list[float]:
    for console in consoles:
        console.send(f"cpu {seconds}")
    return [console.read()["cpu"] for console in consoles]


def with_writer(
    consoles: list[Console], store: str | Path, key: str, seconds: float, config: str | None
) -> tuple[list[float], list[float]]:
    """CPU per console while the writer reassigns `key` once a second, and every
    commit-to-screen latency seen (each console, each write)."""
    for console in consoles:
        console.send(f"watch {key}")
        console.read()
    writes = int(seconds)
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.feed", "--writer", "--store", str(store), "--key", key,
         "--count", str(writes), *configured(config)],
        stdout=subprocess.PIPE, cwd=HERE, text=True,
    )  # fmt: skip
    cpus = measure_cpu(consoles, seconds)
    out, _ = writer.communicate(timeout=120)
    commits = [json.loads(line) for line in out.splitlines() if line.strip()]
    latencies = []
    for console in consoles:
        console.send("seen")
        seen = console.read()["seen"]
        for commit in commits:
            after = [t for t, login in seen if login == commit["login"] and t >= commit["t"]]
            nxt = [c["t"] for c in commits if c["n"] == commit["n"] + 1]
            if after and (not nxt or after[0] < nxt[0] + 3):
                latencies.append(after[0] - commit["t"])
    return cpus, latencies


def run_consoles(
    store: str | Path, count: int, feed_interval: float, seconds: float, config: str | None
) -> dict[str, Any]:
    consoles = [Console(store, feed_interval, config) for _ in range(count)]
    try:
        key = consoles[0].hello["top"]
        time.sleep(1)  # let start-up work end
        idle = measure_cpu(consoles, seconds)
        busy, latencies = with_writer(consoles, store, key, seconds, config)
    finally:
        for console in consoles:
            console.close()
    figures: dict[str, Any] = {
        "idle_cpu_pct_per_console_mean": round(statistics.mean(idle) * 100, 3),
        "idle_cpu_pct_per_console_max": round(max(idle) * 100, 3),
        "writer_cpu_pct_per_console_mean": round(statistics.mean(busy) * 100, 3),
        "writer_cpu_pct_per_console_max": round(max(busy) * 100, 3),
    }
    if latencies:
        ordered = sorted(latencies)
        figures |= {
            "latency_ms_median": round(statistics.median(ordered) * 1000, 1),
            "latency_ms_p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
            "latency_ms_max": round(ordered[-1] * 1000, 1),
            "latency_samples": len(ordered),
            "latency_over_500ms": sum(1 for x in ordered if x > 0.5),
        }
    return figures


def copy_store(source: Path, folder: str) -> Path:
    target = Path(folder) / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    return target


def measure_store(
    store: str, consoles: str, feed_interval: float, seconds: float, config: str | None = None
) -> dict[str, Any]:
    """The floor (feed off) and each number of consoles on `store`, after catching up its
    escalations once."""
    settled = asyncio.run(settle_escalations(store, config))
    figures: dict[str, Any] = {
        "escalations_caught_up_first": settled,
        "floor_feed_off": run_consoles(store, 1, 3600.0, seconds, config),
    }
    for count in (int(c) for c in consoles.split(",")):
        figures[f"consoles_{count}"] = run_consoles(store, count, feed_interval, seconds, config)
    return figures


def configured(config: str | None) -> list[str]:
    return [] if config is None else ["--config", config]


def under_target(figures: dict[str, Any]) -> bool:
    """Every latency of every console count under the issue's 1 s, and some measured."""
    runs = [v for k, v in figures.items() if k.startswith("consoles_")]
    return bool(runs) and all(
        run.get("latency_samples", 0) > 0 and run["latency_ms_max"] < TARGET_MS for run in runs
    )


def main() -> None:
    from opsdesk.store.location import is_pg_url

    parser = argparse.ArgumentParser()
    parser.add_argument("--store", help="a store to copy (never written): a file or a URL")
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--consoles", default="1,8")
    parser.add_argument("--feed-interval", type=float, default=None)
    parser.add_argument(
        "--postgresql", action="store_true", help="also load the store into PostgreSQL"
    )
    parser.add_argument(
        "--pg-admin", metavar="URL", help="a superuser URL of the cluster --postgresql loads into"
    )
    parser.add_argument("--console", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.console:
        from opsdesk.console.ops.feed import DEFAULT_INTERVAL

        asyncio.run(console_main(args.store, args.feed_interval or DEFAULT_INTERVAL, args.config))
        return
    if args.writer:
        asyncio.run(writer_main(args.store, args.key, 1.0, args.count, args.config))
        return
    pg_store = bool(args.store) and is_pg_url(args.store)
    if args.postgresql and pg_store:
        parser.error("--postgresql loads a SQLite store: --store must be a file")
    if args.pg_admin and not args.postgresql:
        parser.error("--pg-admin goes with --postgresql")
    if args.store and not pg_store and not Path(args.store).is_file():
        parser.error(f"--store {args.store}: no such file")
    from opsdesk.console.ops.feed import DEFAULT_INTERVAL

    feed_interval = args.feed_interval or DEFAULT_INTERVAL
    figures: dict[str, Any] = {
        "benchmark": "feed",
        "store": args.store or f"demo of {args.incidents:,} incidents",
        "seconds": args.seconds,
        "feed_interval_s": feed_interval,
    }
    if pg_store:
        from bench.pg import cloned

        with tempfile.TemporaryDirectory() as folder, cloned(args.store) as url:
            config = str(demo_config_file(folder))
            pg = measure_store(url, args.consoles, feed_interval, args.seconds, config)
        emit(figures | {"postgresql": pg, "target_ms": TARGET_MS, "under_target": under_target(pg)})
        return
    with tempfile.TemporaryDirectory() as folder:
        if args.store:
            store = copy_store(Path(args.store), folder)
        else:
            store = demo_store(folder, args.incidents)
        if not args.postgresql:
            emit(figures | measure_store(str(store), args.consoles, feed_interval, args.seconds))
            return
        from bench.pg import cluster, drop, load_sqlite

        with cluster(args.pg_admin) as admin:
            # The copy is migrated first: store copy reads a store at the current schema.
            loaded = load_sqlite(store, admin, folder)
            # The demo team's config named on both: PostgreSQL never brings it in itself.
            config = str(demo_config_file(folder))
            try:
                sqlite = measure_store(
                    str(loaded.sqlite_store), args.consoles, feed_interval, args.seconds, config
                )
                pg = measure_store(loaded.url, args.consoles, feed_interval, args.seconds, config)
            finally:
                drop(admin, loaded.database)
    emit(
        figures
        | {
            "sqlite": sqlite,
            "postgresql": pg,
            "pg_load": loaded.report(),
            "target_ms": TARGET_MS,
            "under_target": under_target(pg),
        }
    )


if __name__ == "__main__":
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    main()
