"""Start-up, as a person meets it.

- The real `opsdesk` command in a pseudo-terminal, from exec until its first full frame
  (the queue's rows and the metrics strip's figures, not "computing…"), against a bare
  Textual app drawing a 200-row table in the same pseudo-terminal (the floor).
- `opsdesk --version` against `python -c 'import textual'` (CPU seconds, user + sys: the
  quick commands should cost less than loading the UI toolkit).

Prints one JSON object (medians over `--runs`).

    python -m bench.startup [--runs 5] [--version-runs 30] [--incidents 100000]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import demo_store, emit

OPSDESK = str(Path(sys.executable).with_name("opsdesk"))

FLOOR = """
from textual.app import App
from textual.widgets import DataTable, Footer
class Bare(App):
    def compose(self):
        table = DataTable()
        table.add_columns("Key", "Pri", "State", "Title", "Service", "Assignee", "Age")
        for n in range(200):
            table.add_row(f"INC-{n}", "P3", "new", "Disk full on host", "payments", "ana", "1h")
        yield table
        yield Footer()
Bare().run()
"""


def first_frame(
    argv: list[str], needles: tuple[bytes, ...], bound: float = 120
) -> tuple[float, float]:
    """Wall and CPU seconds from exec until every one of `needles` has been drawn on an
    80x24 pseudo-terminal; the process is hung up on then."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    began = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    seen = b""
    try:
        while not all(needle in seen for needle in needles):
            if time.perf_counter() - began > bound:
                raise RuntimeError(f"{needles} not drawn in {bound} s: {seen[-1500:]!r}")
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    raise RuntimeError(f"the terminal closed: {seen[-1500:]!r}") from None
        wall = time.perf_counter() - began
        os.killpg(process.pid, signal.SIGKILL)  # the CPU is counted up to this moment
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = -9
        return wall, usage.ru_utime + usage.ru_stime
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(master)


def cpu_of(argv: list[str]) -> float:
    """CPU seconds (user + sys) of one run of `argv` to its end."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, argv
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version-runs", type=int, default=30)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()

    textual, version = [], []
    for _ in range(args.version_runs):  # alternating, so both see the same machine load
        textual.append(cpu_of([sys.executable, "-c", "import textual"]))
        version.append(cpu_of([OPSDESK, "--version"]))

    with tempfile.TemporaryDirectory() as folder:
        store = demo_store(folder, args.incidents)
        config = Path(folder) / "no-sources.toml"  # the demo's sources are on the internet
        config.write_text("[ui]\nbell = false\n", encoding="utf-8")
        console = [OPSDESK, "--store", str(store), "--config", str(config)]
        floor_wall, floor_cpu, wall, cpu = [], [], [], []
        for _ in range(args.runs):
            w, c = first_frame([sys.executable, "-c", FLOOR], (b"INC-", b"1h"))
            floor_wall.append(w)
            floor_cpu.append(c)
            w, c = first_frame(console, (b"INC-", b"MTTA"))
            wall.append(w)
            cpu.append(c)

    def ms(samples: list[float]) -> float:
        return round(statistics.median(samples) * 1000, 1)

    emit(
        {
            "benchmark": "startup",
            "incidents": args.incidents,
            "first_full_frame_ms": ms(wall),
            "first_full_frame_worst_ms": round(max(wall) * 1000, 1),
            "first_full_frame_cpu_ms": ms(cpu),
            "floor_ms": ms(floor_wall),
            "floor_cpu_ms": ms(floor_cpu),
            "ratio": round(statistics.median(wall) / statistics.median(floor_wall), 2),
            "version_cpu_ms": ms(version),
            "import_textual_cpu_ms": ms(textual),
            "version_ratio": round(statistics.median(version) / statistics.median(textual), 2),
        }
    )


if __name__ == "__main__":
    main()
