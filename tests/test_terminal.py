"""The real console in a pseudo-terminal: it draws, and leaves cleanly on hang-up."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def read_until(fd: int, needle: bytes, bound: float) -> bytes:
    """What the pseudo-terminal shows up to and including `needle`. A real terminal gives
    no event but its output, so this reads as it comes; `bound` seconds (or the console
    closing the terminal) without `needle` fails the test, naming what it waited for."""
    seen = b""
    deadline = time.monotonic() + bound
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} never appeared in {bound:.0f} s: {seen[-2000:]!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                raise AssertionError(
                    f"the terminal closed before {needle!r} appeared: {seen[-2000:]!r}"
                ) from None
    return seen


@pytest.mark.parametrize("how", ["sighup", "q"])
def test_console_draws_and_exits_cleanly(demo_store: Path, how: str) -> None:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    config = demo_store.with_name("no-sources.toml")  # the demo's sources are on the internet
    config.write_text("[ui]\nbell = false\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opsdesk.console",
            "--store",
            str(demo_store),
            "--config",
            str(config),
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    try:
        screen = read_until(master, b"INC-300", bound=30)
        assert b"Traceback" not in screen
        if how == "sighup":
            process.send_signal(signal.SIGHUP)
        else:
            os.write(master, b"q")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)


@pytest.mark.parametrize("where", ["stdin /dev/null", "stdin a pipe", "stdout a pipe"])
def test_console_without_a_terminal_says_so_instead_of_spinning(
    demo_store: Path, where: str
) -> None:
    """`ssh host opsdesk` without -t, cron, or a script: nobody can type, and Textual's input
    thread would read end-of-file at a full core forever. The console refuses in one line."""
    master, slave = pty.openpty()
    config = demo_store.with_name("no-sources.toml")
    config.write_text("[ui]\nbell = false\n")
    streams: dict[str, object] = {"stdin": slave, "stdout": slave}
    if where == "stdin /dev/null":
        streams["stdin"] = subprocess.DEVNULL
    elif where == "stdin a pipe":
        streams = {"input": b"", "stdout": slave}
    else:
        streams["stdout"] = subprocess.PIPE
    env = {**os.environ, "TERM": "xterm-256color"}
    argv = [sys.executable, "-m", "opsdesk.console", "--store", str(demo_store),
            "--config", str(config)]  # fmt: skip
    try:
        process = subprocess.run(
            argv,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            **streams,  # type: ignore[call-overload]
        )
    finally:
        os.close(slave)
        os.close(master)
    stream = "standard output" if where == "stdout a pipe" else "standard input"
    assert process.returncode == 2
    assert process.stderr.decode() == (
        f"opsdesk: the console needs a terminal, and {stream} is not one (over ssh use ssh -t);"
        " the commands work without one, e.g. opsdesk incident list\n"
    )
