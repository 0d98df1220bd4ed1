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
from collections.abc import Callable, Iterator
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
    toml_string,
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
    """The team's config, itself untrusted: hostile text in every free-text field
    (descriptions, contacts, contract terms, a risk question), and names that a name may
    be (markup, wide and right-to-left text; control characters are refused, see
    test_a_name_with_control_characters_is_refused) but that must be drawn literally."""
    sources = "".join(
        f'[[sources]]\nname = "{name}"\nplugin = "{plugin}"\nurl = "{server.base}{path}"\n'
        f'vendor = "Acme"\ntimeout = "2s"\nretries = 0\n{extra}\n'
        for name, (plugin, path, _, extra) in SOURCES.items()
    )
    t = {name: toml_string(text) for name, text in HOSTILE.items()}
    return f"""
[ui]
bell = false
[[people]]
login = "{me}"
[[people]]
login = "ana"
name = {t["action link"]}
email = {t["title OSC 2 (ST)"]}
phone = {t["clipboard OSC 52"]}
[roles]
lead = ["{me}"]
cab = ["{me}", "ana"]
[[services]]
name = "payments"
vendors = ["Acme"]
description = {t["clear screen CSI"]}
[[services]]
name = {t["right to left"]}
description = {t["8-bit CSI/OSC"]}
[[vendors]]
name = {t["markup"]}
description = {t["title OSC 0"]}
[vendors.support]
phone = {t["clipboard OSC 52"]}
email = {t["title OSC 2 (ST)"]}
portal = {t["link"]}
account_manager = {t["8-bit CSI/OSC"]}
[vendors.contract]
cost = 1200
renewal = 2027-01-31
currency = {toml_string(HOSTILE["C0 and NUL"][:12])}
sla = {toml_string(HOSTILE["bidi override"] + HOSTILE["DCS"])}
[[vendors]]
name = "Acme"
description = {t["long line"]}
[vendors.support]
phone = {t["device query"]}
account_manager = {t["title OSC 0"]}
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = {t["wide and emoji"]}
members = ["ana", "{me}"]
rotation = "1d"
start = "2026-01-05T09:00"
[[escalation_policies]]
service = "payments"
levels = [{{ after = "0m", person = "ana" }}]
[[freeze_windows]]
name = {t["link"]}
start = "2020-01-01T00:00:00Z"
end = "2040-01-01T00:00:00Z"
services = [{t["right to left"]}]
[[changes.risk_questions]]
id = "db"
text = {t["device query"]}
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


NAME_SLOTS = {  # a name in the config above: (its line, where the error says it is)
    "login": ('login = "ana"', "people[2].login"),
    "person": (f"name = {toml_string(HOSTILE['action link'])}", "people[2].name"),
    "service": ('[[services]]\nname = "payments"', "services[1].name"),
    "vendor": ('[[vendors]]\nname = "Acme"', "vendors[2].name"),
    "source": ('name = "statuspage"', "sources[1].name"),
    "schedule": ('name = "platform"', "schedules[1].name"),
    "layer": (f"name = {toml_string(HOSTILE['wide and emoji'])}", "schedules[1].layers[1].name"),
    "freeze window": (f"name = {toml_string(HOSTILE['link'])}", "freeze_windows[1].name"),
}
WITH_CONTROLS = [name for name, text in HOSTILE.items() if unsafe_in(text)]


@pytest.mark.parametrize("hostile_name", WITH_CONTROLS)
@pytest.mark.parametrize("slot", sorted(NAME_SLOTS))
def test_a_name_with_control_characters_is_refused(
    slot: str, hostile_name: str, tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names are what CLI arguments, other sections and the store refer to: a config
    whose login, person, service, vendor, source, schedule, layer or freeze window name
    carries an escape sequence or other control character does not load (exit 2, one
    clean line naming the file and key); free text beside it loads and is cleaned."""
    line, where = NAME_SLOTS[slot]
    text = config_text(StatusServer("http://127.0.0.1:9"), me)
    assert text.count(line) == 1, line
    key = line.partition("= ")[0]  # 'login ', or '[[services]]\nname '
    config = tmp_path / "team.toml"
    config.write_text(text.replace(line, f"{key}= {toml_string(HOSTILE[hostile_name])}"), "utf-8")
    assert run(["--config", str(config), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and unsafe_in(err) == [], err
    unlabelled = re.sub(r'\[(\d+) "(?:[^"\\]|\\.)*"\]', r"[\1]", err)
    assert unlabelled.startswith(
        f"opsdesk: {config}: {where}: control characters are not allowed (U+"
    ), err


def test_the_hostile_config_itself_loads(tmp_path: Path, me: str) -> None:
    """The free text and the printable names above are accepted as they are."""
    config = parse_text(config_text(StatusServer("http://127.0.0.1:9"), me), "team.toml")
    assert config.vendors[0].name == HOSTILE["markup"]
    assert config.vendors[0].description == HOSTILE["title OSC 0"]
    assert config.schedules[0].layers[0].name == HOSTILE["wide and emoji"]


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

    def _take(self) -> bool | None:
        """Feed what the console wrote within 50 ms to the emulator: True if it wrote
        something, False if nothing, None once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], 0.05)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return None
        self.raw += chunk
        self.stream.feed(chunk)
        return True

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._take() is not None:
            pass
        self.seen.append("\n".join(self.screen.display))

    def wait_until(self, shown: Callable[[str], bool], what: str, seconds: float = 30) -> None:
        """Read until the screen satisfies `shown`; a real terminal gives no event but its
        output, so `seconds` is a failure bound: past it the test fails naming `what`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.read(0.2)
            if shown(self.seen[-1]):
                return
        raise AssertionError(f"{what} never appeared in {seconds:.0f} s:\n{self.seen[-1]}")

    def wait_for(self, text: str, seconds: float = 30) -> None:
        self.wait_until(lambda screen: text in screen, repr(text), seconds)

    def press(self, keys: bytes, bound: float = 10.0, quiet: float = 0.25) -> None:
        """Type `keys` and read what they drew: until the console has drawn something and
        then written nothing for `quiet` seconds (its repaint is done), or `bound`."""
        os.write(self.master, keys)
        deadline, drawn, last = time.monotonic() + bound, False, time.monotonic()
        while time.monotonic() < deadline:
            took = self._take()
            if took is None:
                break
            if took:
                drawn, last = True, time.monotonic()
            elif drawn and time.monotonic() - last >= quiet:
                break
        self.seen.append("\n".join(self.screen.display))

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
        term.press(b"\r")  # the incident under the cursor, with its notes
        term.press(b"\x1b")
        keys = (b"2", b"v", b"\x1b",  # on-call (escalation contacts), its timeline
                b"3", b"\r", b"\x1b",  # vendors, the first (config text only) in detail
                b"\x1b[B", b"\r", b"\x1b",  # the second (Acme: poisoned reports) in detail
                b"4", b"\r", b"\x1b", b"v", b"\x1b", b"1")  # fmt: skip
        for key in keys:
            term.press(key)
        new = [sys.executable, "-m", "opsdesk.console", "--config", str(hostile.config),
               "--store", str(hostile.store), "incident", "new", "--impact", "1", "--urgency",
               "1", "--service", "payments", "--title", HOSTILE["clipboard OSC 52"]]  # fmt: skip
        subprocess.run(new, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        term.wait_until(lambda screen: "NEW P1" in screen.upper(), "the New P1 toast")
        term.press(b"q")
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
    # Both vendors were shown in detail, the config's contract and contacts drawn cleaned.
    assert "renews 2027-01-31" in everything and "SLA: evil.exe iso" in everything
    assert "support after" in everything and "statuspage (statuspage, every 1m)" in everything
