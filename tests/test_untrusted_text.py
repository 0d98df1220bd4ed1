"""Adversarial text through the store and through every adapter, out through every CLI
command and every screen of the real console in a real terminal.

The store is filled behind opsdesk's back (raw store calls, which do not clean input, as
an older version or another tool might have written it) and by polling recorded vendor
payloads whose every human-readable string was replaced with hostile text. Then: CLI
output carries no control or escape character and `--json` stays valid ASCII JSON; the
console, run in a pseudo-terminal and read by a terminal emulator (pyte), shows markup
literally, never sets the title or the clipboard, and fires no action.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyte
import pytest

from opsdesk.console.cli import run
from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.poller import Poller
from opsdesk.store import NewIncident, Store
from opsdesk.store.records import NewChange
from tests.conftest import FIXED_NOW, ROOT
from tests.hostile_text import (
    HOSTILE,
    INVALID_UTF8,
    LITERAL,
    hostile_feed,
    poisoned_fixture,
    short,
    unsafe_in,
)
from tests.status_server import StatusServer, status_server

SOURCES = {  # name: (plugin, path, payload, extra options)
    "statuspage": ("statuspage", "/sp/api/v2/summary.json",
                   "statuspage/github_summary_2020-04-02_major_incident.json", ""),
    "alertmanager": ("alertmanager", "/am/api/v2/alerts",
                     "alertmanager/k8s_api_v2_alerts_unicode_annotations_linewrapped.json",
                     'open_incidents = true\nservice = "payments"'),
    "prometheus": ("prometheus", "/prom/api/v1/alerts",
                   "prometheus/openshift_api_v1_alerts_firing_pending_2019-11.json", ""),
    "slack": ("slack", "/slack/api/v2.0.0/current",
              "slack/slack_current_2023-09-26_active_escaped_slashes.json", ""),
    "rss": ("rss", "/feed.rss", "", ""),
    "http": ("http", "/health", "", "body_contains = \"ok\""),
    "bad-utf8": ("statuspage", "/bad/api/v2/summary.json", "", ""),
}  # fmt: skip


def config_text(server: StatusServer, me: str) -> str:
    sources = "".join(
        f'[[sources]]\nname = "{name}"\nplugin = "{plugin}"\nurl = "{server.base}{path}"\n'
        f'vendor = "Acme"\ntimeout = "2s"\nretries = 0\n{extra}\n'
        for name, (plugin, path, _, extra) in SOURCES.items()
    )
    return f"""
[ui]
bell = false
[[people]]
login = "{me}"
[[people]]
login = "ana"
[roles]
lead = ["{me}"]
cab = ["{me}", "ana"]
[[services]]
name = "payments"
vendors = ["Acme"]
[[vendors]]
name = "Acme"
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["ana", "{me}"]
rotation = "1d"
start = "2026-01-05T09:00"
{sources}"""


def serve_hostile(server: StatusServer) -> None:
    for _plugin, path, fixture, _extra in SOURCES.values():
        if fixture:
            server.serve(path, body=poisoned_fixture(fixture))
    server.serve("/feed.rss", body=hostile_feed(), content_type="application/rss+xml")
    server.serve("/health", body=("ok " + HOSTILE["title OSC 0"]).encode())
    body = poisoned_fixture(SOURCES["statuspage"][2])
    server.serve("/bad/api/v2/summary.json", body=body.replace(b"MARKUP", INVALID_UTF8, 1))


async def fill(store_path: Path, config_text_: str, me: str) -> list[str]:
    """Hostile text in every kind of record, written without cleaning; then one poll."""
    config = parse_text(config_text_, "team.toml")
    me_actor, ana = actor_for(config, me), actor_for(config, "ana")
    now = FIXED_NOW
    async with await Store.open(store_path) as store:
        for name, text in HOSTILE.items():
            incident = await store.incidents.create(
                ana, NewIncident(short(name), "payments", 1, 1, "P1", text[:20_000]), now
            )
            await store.incidents.add_note(ana, incident.key, text[:20_000], now)
            start = now + timedelta(days=1 + len(name))
            await store.changes.create(ana, NewChange(
                short(name), "normal", "low", ("payments",), start, start + timedelta(hours=1),
                description=text[:20_000], test_plan=text[:20_000], backout_plan=text[:200],
            ), now)  # fmt: skip
            await store.overrides.add(me_actor, "platform", me, start, start + timedelta(hours=2),
                                      text[:200], now)  # fmt: skip
        await store.handoffs.add(ana, "platform", me, HOSTILE["markup"] + HOSTILE["title OSC 0"],
                                 now)  # fmt: skip
        await store.banner.set(me_actor, HOSTILE["action link"] + HOSTILE["clipboard OSC 52"],
                               0, now)  # fmt: skip
        poller = Poller(store, config, me_actor, lambda: now)
        try:
            results = await poller.poll()
        finally:
            await poller.close()
    return [f"{r.source}: {r.level} {r.error or ''}" for r in results]


@dataclass
class Hostile:
    store: Path
    config: Path
    server: StatusServer
    polled: list[str]


@pytest.fixture
def hostile(tmp_path: Path, me: str) -> Iterator[Hostile]:
    with status_server() as server:
        serve_hostile(server)
        config = tmp_path / "team.toml"
        config.write_text(config_text(server, me), encoding="utf-8")
        store = tmp_path / "s.db"
        polled = asyncio.run(fill(store, config.read_text(), me))
        yield Hostile(store, config, server, polled)


def test_every_adapter_copes_and_invalid_utf8_is_a_clear_error(hostile: Hostile) -> None:
    results = dict(line.split(": ", 1) for line in hostile.polled)
    assert "the answer is not UTF-8 (byte 0xff at " in results["bad-utf8"]
    for name in SOURCES:
        if name != "bad-utf8":
            assert "plugin failed" not in results[name] and "not JSON" not in results[name], (
                name, results[name])  # fmt: skip


READS = [
    ["incident", "list", "--all"],
    ["incident", "show", "INC-1"],
    ["incident", "show", "INC-9"],
    ["incident", "show", "INC-16"],  # opened by the poisoned Alertmanager payload
    ["change", "list"],
    ["change", "show", "CHG-1"],
    ["change", "show", "CHG-15"],
    ["oncall", "now"],
    ["oncall", "override", "list"],
    ["oncall", "handoff", "list"],
    ["vendors", "list"],
    ["vendors", "status"],
    ["audit", "--limit", "500"],
    ["banner", "show"],
]


@pytest.mark.parametrize("argv", READS, ids=lambda a: " ".join(a[:2]))
def test_cli_output_is_clean_text_and_valid_json(
    argv: list[str], hostile: Hostile, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(hostile.config), "--store", str(hostile.store)]
    assert run([*base, *argv]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert unsafe_in(out) == []
    assert "PWNED-TITLE" not in out or "]0;PWNED" in out  # the escape is gone, its text stays
    assert run([*base, *argv, "--json"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert out.isascii()
    json.loads(out)


class Terminal:
    """The console in a pseudo-terminal, its output fed to a terminal emulator."""

    def __init__(self, argv: list[str], columns: int = 100, lines: int = 30) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True)  # fmt: skip
        os.close(slave)
        self.screen = pyte.Screen(columns, lines)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.seen: list[str] = []

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                self.raw += chunk
                self.stream.feed(chunk)
        self.seen.append("\n".join(self.screen.display))

    def wait_for(self, text: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.read(0.2)
            if text in self.seen[-1]:
                return
        raise AssertionError(f"{text!r} never appeared:\n{self.seen[-1]}")

    def press(self, keys: bytes, settle: float = 0.8) -> None:
        os.write(self.master, keys)
        self.read(settle)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self.master)


@pytest.mark.slow
def test_the_console_shows_hostile_text_literally_in_a_real_terminal(hostile: Hostile) -> None:
    term = Terminal([sys.executable, "-m", "opsdesk.console", "--config", str(hostile.config),
                     "--store", str(hostile.store)])  # fmt: skip
    try:
        term.wait_for("Handoff")  # ana's note for me opens first
        term.press(b"\x1b")
        term.wait_for("INC-")
        term.press(b"\r", 1.5)  # the incident under the cursor, with its notes
        term.press(b"\x1b")
        for screen_key in (b"2", b"3", b"\r", b"\x1b", b"4", b"\r", b"\x1b", b"v", b"\x1b", b"1"):
            term.press(screen_key)
        new = [sys.executable, "-m", "opsdesk.console", "--config", str(hostile.config),
               "--store", str(hostile.store), "incident", "new", "--impact", "1", "--urgency",
               "1", "--service", "payments", "--title", HOSTILE["clipboard OSC 52"]]  # fmt: skip
        subprocess.run(new, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        term.read(2.0)  # the new P1 arrives as a toast
        term.press(b"q", 2.0)
        assert term.process.wait(timeout=15) == 0, term.seen[-1]
    finally:
        term.close()
    everything = "\n".join(term.seen)
    output = term.raw.decode("utf-8", errors="replace")
    assert "Traceback" not in everything
    for literal in LITERAL:
        assert literal in everything, literal
    assert "NEW P1" in everything.upper() or "New P1" in everything
    assert "PWNED" not in term.screen.title + term.screen.icon_name
    # The only OSC the terminal receives is Textual's own pointer shape (OSC 22).
    assert set(re.findall(rb"\x1b\](\d*)", term.raw)) <= {b"22"}
    # Nothing from the data acted on the terminal: no title, clipboard, DCS or 8-bit
    # controls, no device queries, no bidi reordering, no NUL.
    for sequence in ("\x1b]0;", "\x1b]2;", "\x1b]52", "\x1bP", "\x1b[21t", "\x9b", "\x9d",
                     "\u202e", "\u2066", "\x00"):  # fmt: skip
        assert sequence not in output, repr(sequence)
