"""Helpers shared by the benchmarks."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Any


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
