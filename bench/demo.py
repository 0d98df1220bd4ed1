"""Demo store creation at N incidents (`opsdesk demo --incidents N`), phase by phase,
against a floor measured in the same run.

- `demo_s` / `demo_cpu_s`: `build_demo` in this process (what the command runs), with the
  wall and CPU seconds of each phase: generating the rows in Python, inserting incidents,
  their timelines and the rest, each index, the search index, the metrics aggregates,
  the commit and the switch back to WAL.
- `cli_s` / `cli_cpu_s`: the real command, `opsdesk --store S demo --incidents N --no-ui
  --reset`, in a child process (interpreter start and imports included).
- the floor: the very rows the demo stored (its incidents and their timeline events, read
  back from it beforehand, untimed, in chunks) inserted with `executemany` into bare
  tables (same columns, no constraints, no index, no trigger, no search index) in one
  transaction with no journal and no syncs. Nothing real can store those rows faster;
  the demo must also generate them and build 20-odd indexes and the search index, so
  `ratio` (demo over floor) is well above 1 by construction.

    python -m bench.demo [--incidents 1000000] [--no-cli]

Prints one JSON object. CPU seconds are reported beside wall seconds because the machine
may be shared: a wall figure far above its CPU figure means waiting for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import emit
from opsdesk.console.ops.demo import build_demo

CHUNK = 20000
TARGET_S = 45.0  # issue 15: a million incidents in under 45 s
FLOOR_TABLES = {  # table: the columns the demo writes, in the order it writes them
    "incidents": None,  # every column
    "incident_events": ("incident_id", "at", "actor", "kind", "state", "detail"),
}


def _chunks(conn: sqlite3.Connection, table: str, columns: str) -> Iterator[list[Any]]:
    last = 0
    while True:
        rows = conn.execute(
            f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, CHUNK),
        ).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [row[1:] for row in rows]


def floor(demo: Path, path: Path) -> dict[str, Any]:
    """Insert the demo's own rows into bare tables; time only the inserts."""
    source = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    wall = cpu = 0.0
    rows = 0
    conn.execute("BEGIN")
    for table, wanted in FLOOR_TABLES.items():
        info = source.execute(f"PRAGMA table_info({table})").fetchall()
        names = [c[1] for c in info] if wanted is None else list(wanted)
        types = {c[1]: c[2] for c in info}
        columns = ", ".join(
            "id INTEGER PRIMARY KEY" if n == "id" else f"{n} {types[n]}" for n in names
        )
        conn.execute(f"CREATE TABLE {table} ({columns})")
        insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        for chunk in _chunks(source, table, ", ".join(names)):
            began, began_cpu = time.perf_counter(), time.process_time()
            conn.executemany(insert, chunk)
            wall += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            rows += len(chunk)
    began, began_cpu = time.perf_counter(), time.process_time()
    conn.execute("COMMIT")
    wall += time.perf_counter() - began
    cpu += time.process_time() - began_cpu
    conn.close()
    source.close()
    return {"floor_s": round(wall, 2), "floor_cpu_s": round(cpu, 2), "floor_rows": rows}


def cli(path: Path, incidents: int) -> dict[str, float]:
    """The real command in a child process: wall and CPU (user + system) seconds."""
    command = [_opsdesk(), "--store", str(path), "demo", "--incidents", str(incidents)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(
        [*command, "--no-ui", "--reset"],
        check=True,
        capture_output=True,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {"cli_s": round(wall, 2), "cli_cpu_s": round(used, 2)}


def _opsdesk() -> str:
    """The `opsdesk` command of this environment (beside this Python), else on PATH."""
    beside = Path(sys.executable).with_name("opsdesk")
    return str(beside) if beside.exists() else shutil.which("opsdesk") or "opsdesk"


def _grouped(phases: dict[str, float]) -> dict[str, float]:
    """Phases with the indexes summed into "indexes" (each is in `index_s`)."""
    grouped: dict[str, float] = {}
    for name, seconds in phases.items():
        key = "indexes" if name.startswith("index:") else name
        grouped[key] = grouped.get(key, 0.0) + seconds
    return {name: round(seconds, 2) for name, seconds in grouped.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--no-cli", action="store_true", help="skip the child-process run")
    args = parser.parse_args()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.db"
        began_cpu = time.process_time()
        result = asyncio.run(
            build_demo(store, incidents=args.incidents, seed=1, now=now, creator="b")
        )
        demo_cpu = time.process_time() - began_cpu
        size_mb = store.stat().st_size / 1e6
        floor_figures = floor(store, Path(folder) / "floor.db")
        (Path(folder) / "floor.db").unlink()
        cli_figures = {} if args.no_cli else cli(Path(folder) / "cli.db", args.incidents)
    figures: dict[str, Any] = {
        "benchmark": "demo",
        "incidents": args.incidents,
        "demo_s": round(result.seconds, 2),
        "demo_cpu_s": round(demo_cpu, 2),
        "phases_s": _grouped(result.phases),
        "phases_cpu_s": _grouped(result.cpu),
        "index_s": {
            name.removeprefix("index:"): round(seconds, 2)
            for name, seconds in result.phases.items()
            if name.startswith("index:")
        },
        **floor_figures,
        **cli_figures,
        "store_mb": round(size_mb, 1),
        "target_s": TARGET_S,
    }
    figures["ratio"] = round(result.seconds / max(floor_figures["floor_s"], 1e-9), 2)
    figures["cpu_ratio"] = round(demo_cpu / max(floor_figures["floor_cpu_s"], 1e-9), 2)
    headline = cli_figures.get("cli_s", result.seconds)
    figures["under_target"] = headline < TARGET_S
    emit(figures)


if __name__ == "__main__":
    main()
