"""Helpers shared by the benchmarks."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.demo_team import demo_config


def emit(figures: dict[str, Any]) -> None:
    print(json.dumps(figures, sort_keys=True))


def time_process(code: str, *args: str, runs: int = 5) -> float:
    """Median wall seconds of `python -c code args...` over `runs` runs."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def demo_store(folder: str, incidents: int) -> Path:
    """Build a demo store in `folder` anchored at the current hour; return its path."""
    store = Path(folder) / "demo.db"
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    asyncio.run(build_demo(store, incidents=incidents, seed=1, now=now, creator="bench"))
    return store


def demo_config_file(folder: str | Path, creator: str = "bench") -> Path:
    """The demo team's configuration written to a file in `folder`: a PostgreSQL store
    never brings in the demo team (its people come from config, its roles from the
    database), so a benchmark that runs a console on both backends names this file on
    both, and both see the same people, services and review rules."""
    import tomli_w

    path = Path(folder) / "demo-team.toml"
    path.write_bytes(tomli_w.dumps(demo_config(creator)).encode())
    path.chmod(0o600)
    return path
