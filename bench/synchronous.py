"""What `PRAGMA synchronous = FULL` costs against NORMAL (WAL mode) on concurrent writers:
P processes writing one store file at once, each write a real opsdesk mutation (an
incident created, acknowledged or noted: one transaction with its audit row), timed from
the call to its return (so the wait for the write lock counts). Rounds alternate NORMAL
and FULL on fresh stores; the figures are over every write of every round.

    python -m bench.synchronous [--processes 4] [--writes 200] [--rounds 3] [--dir PATH]

Run it where stores live: on tmpfs an fsync costs nothing and the comparison says nothing
(the JSON names the filesystem).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import emit
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store import db as db_module

MODES = ("NORMAL", "FULL")


async def _writes(path: Path, mode: str, count: int, seed: int, start: Any) -> list[float]:
    db_module.SYNCHRONOUS = mode
    actor = Actor(f"bench{seed}")
    latencies = []
    async with await Store.open(path) as store:
        assert await store._db.scalar("PRAGMA synchronous") == {"NORMAL": 1, "FULL": 2}[mode]
        await asyncio.to_thread(start.wait)  # every writer has its store open: go
        key = None
        for n in range(count):
            now = datetime.now(UTC)
            began = time.perf_counter()
            if key is None or n % 3 == 0:
                created = await store.incidents.create(
                    actor,
                    NewIncident(f"disk {n} full", "payments", 2, 2, "P3"),
                    now,
                )
                key = created.key
            else:
                await store.incidents.add_note(actor, key, f"note {n}", now)
            latencies.append(time.perf_counter() - began)
    return latencies


def _worker(path: str, mode: str, count: int, seed: int, start: Any, out: Any) -> None:
    out.put(asyncio.run(_writes(Path(path), mode, count, seed, start)))


def one_round(folder: Path, mode: str, processes: int, writes: int) -> tuple[float, list[float]]:
    """(wall seconds, every write's latency) for `processes` writers on a fresh store."""
    store = folder / f"{mode.lower()}-{time.monotonic_ns()}.db"
    asyncio.run(_create(store))
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    workers = [
        context.Process(target=_worker, args=(str(store), mode, writes, n, start, out))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    time.sleep(2.0)  # let every interpreter start and open the store before the gun
    began = time.perf_counter()
    start.set()
    latencies = [x for _ in workers for x in out.get(timeout=600)]
    wall = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return wall, latencies


async def _create(store: Path) -> None:
    await (await Store.open(store)).close()


def figures(walls: list[float], latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "writes": len(ordered),
        "writes_per_s": round(len(ordered) / sum(walls), 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
    }


def fsync_ms(folder: Path, samples: int = 200) -> float:
    """Median milliseconds of one fsync after a 4 KiB write there: what the disk (or the
    virtual disk's cache) charges FULL per commit."""
    path = folder / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        times = []
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            began = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - began)
    finally:
        os.close(fd)
        path.unlink()
    return round(statistics.median(times) * 1000, 3)


def filesystem(folder: Path) -> str:
    """The type of the filesystem holding `folder`, from /proc/mounts (Linux)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    where = str(folder.resolve())
    for line in mounts:
        parts = line.split()
        point = parts[1]
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, parts[2]
    return kind


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--writes", type=int, default=200, help="per process per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to put the stores (a real disk)")
    args = parser.parse_args()
    results: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in MODES}
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for _ in range(args.rounds):
            for mode in MODES:
                wall, latencies = one_round(Path(folder), mode, args.processes, args.writes)
                results[mode][0].append(wall)
                results[mode][1].extend(latencies)
        kind, fsync = filesystem(Path(folder)), fsync_ms(Path(folder))
    measured = {mode: figures(*results[mode]) for mode in MODES}
    normal, full = measured["NORMAL"], measured["FULL"]
    emit(
        {
            "processes": args.processes,
            "rounds": args.rounds,
            "filesystem": kind,
            "fsync_p50_ms": fsync,
            "cpus": os.cpu_count(),
            **{mode.lower(): measured[mode] for mode in MODES},
            "full_vs_normal": {
                "throughput_ratio": round(full["writes_per_s"] / normal["writes_per_s"], 2),
                "p50_ms_added": round(full["p50_ms"] - normal["p50_ms"], 2),
                "p99_ms_added": round(full["p99_ms"] - normal["p99_ms"], 2),
            },
        }
    )


if __name__ == "__main__":
    main()
