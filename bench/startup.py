"""Start-up, as a person meets it.

- The real `opsdesk` command in a pseudo-terminal, from exec until its first full frame
  (the queue's rows and the metrics strip's figures, not "computing…"), against a bare
  Textual app drawing a 200-row table in the same pseudo-terminal (the floor).
- The quick commands against `python -c 'import textual'` (CPU seconds, user + sys, to
  the command's end: they should cost less than loading the UI toolkit): `opsdesk
  --version`, `opsdesk incident list --limit 1` and `opsdesk oncall now` on the demo
  store with the demo team (its schedules), alternating with the floor run by run.

Every child runs with its modules' bytecode cached (in a folder of this run, after one
warm-up run of each), as an installed opsdesk and Textual are: a shell that sets
PYTHONDONTWRITEBYTECODE would otherwise make each opsdesk run compile every module from
source while Textual's bytecode ships compiled, and the figure would measure the compiler.
The children get their own HOME and XDG folders, so no config of the person running the
benchmark is read.

Prints one JSON object (medians over `--runs`, worst cases beside them).

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
from typing import Any

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


def child_env(folder: Path) -> dict[str, str]:
    """The environment of every measured child: bytecode cached under `folder` (written by
    the warm-up runs), and HOME/XDG folders of its own (nothing of ours is read)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.pop("OPSDESK_CONFIG", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env["HOME"] = str(folder / "home")
    for name, sub in (("CONFIG", ".config"), ("DATA", ".local/share"), ("STATE", ".local/state")):
        env[f"XDG_{name}_HOME"] = str(folder / "home" / sub)
    return env


def first_frame(
    argv: list[str], needles: tuple[bytes, ...], env: dict[str, str], bound: float = 120
) -> tuple[float, float]:
    """Wall and CPU seconds from exec until every one of `needles` has been drawn on an
    80x24 pseudo-terminal; the process is hung up on then."""
    master, slave = pty.openpty()
    env = {**env, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
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


def cpu_of(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + sys) of one run of `argv` to its end."""
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    said = process.stderr.read()
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{argv} exited {process.returncode}: {said[-1500:]}")
    return usage.ru_utime + usage.ru_stime


def quick_commands(store: Path, env: dict[str, str], runs: int) -> dict[str, Any]:
    """CPU of each quick command and of `import textual`, alternating run by run so all
    see the same machine load, after one warm-up run each (it writes the bytecode)."""
    floor = [sys.executable, "-c", "import textual"]
    commands = {
        "version": [OPSDESK, "--version"],
        "incident_list": [OPSDESK, "--store", str(store), "incident", "list", "--limit", "1"],
        "oncall_now": [OPSDESK, "--store", str(store), "oncall", "now"],
    }
    for argv in [floor, *commands.values()]:
        cpu_of(argv, env)
    textual: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        textual.append(cpu_of(floor, env))
        for name, argv in commands.items():
            samples[name].append(cpu_of(argv, env))
    base = statistics.median(textual)
    figures: dict[str, Any] = {"import_textual_cpu_ms": ms(textual)}
    for name, taken in samples.items():
        figures[f"{name}_cpu_ms"] = ms(taken)
        figures[f"{name}_worst_cpu_ms"] = round(max(taken) * 1000, 1)
        figures[f"{name}_ratio"] = round(statistics.median(taken) / base, 2)
    return figures


def ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version-runs", type=int, default=30)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        env = child_env(folder)
        store = demo_store(name, args.incidents)
        quick = quick_commands(store, env, args.version_runs)
        config = folder / "no-sources.toml"  # the demo's sources are on the internet
        config.write_text("[ui]\nbell = false\n", encoding="utf-8")
        console = [OPSDESK, "--store", str(store), "--config", str(config)]
        first_frame([sys.executable, "-c", FLOOR], (b"INC-", b"1h"), env)  # warm-ups: they
        first_frame(console, (b"INC-", b"MTTA"), env)  # write the screens' bytecode
        floor_wall, floor_cpu, wall, cpu = [], [], [], []
        for _ in range(args.runs):
            w, c = first_frame([sys.executable, "-c", FLOOR], (b"INC-", b"1h"), env)
            floor_wall.append(w)
            floor_cpu.append(c)
            w, c = first_frame(console, (b"INC-", b"MTTA"), env)
            wall.append(w)
            cpu.append(c)

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
            **quick,
        }
    )


if __name__ == "__main__":
    main()
