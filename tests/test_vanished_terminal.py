"""A console whose terminal vanished without a SIGHUP (an SSH session dropped under
`sudo -u`, `runuser` or `su`: the pty's other end closes and nobody signals the console)
leaves at once instead of spinning a core on end-of-file forever."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from tests.test_terminal import read_until

EXIT_WITHIN = 1.0
"""What the issue asks: gone within a second of the terminal going."""
FAILURE_BOUND = 30.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_console_exits_when_its_terminal_vanishes_without_sighup(demo_store: Path) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    config = demo_store.with_name("no-sources.toml")  # the demo's sources are on the internet
    config.write_text("[ui]\nbell = false\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "opsdesk.console", "--store", str(demo_store),
         "--config", str(config)],
        stdin=slave, stdout=slave, stderr=slave, env=env,
        start_new_session=True,  # no controlling terminal: closing the pty sends no SIGHUP
    )  # fmt: skip
    os.close(slave)
    try:
        screen = read_until(master, b"INC-300", bound=FAILURE_BOUND)
        assert b"Traceback" not in screen
        os.close(master)
        master = -1
        gone = time.monotonic()
        try:
            code = process.wait(timeout=FAILURE_BOUND)
        except subprocess.TimeoutExpired:
            spin = cpu_seconds(process.pid)
            raise AssertionError(
                f"still running {FAILURE_BOUND:.0f} s after its terminal vanished "
                f"({spin:.1f} s of CPU used)"
            ) from None
        waited = time.monotonic() - gone
        assert code == 0
        assert waited < EXIT_WITHIN, f"left {waited:.2f} s after its terminal vanished"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if master >= 0:
            os.close(master)
