"""The status poller against a real HTTP server on 127.0.0.1 and a real SQLite store:
claims (one poll per interval across consoles), errors that keep the last good report,
conditional requests, tokens, and alerts that open and annotate queue incidents."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store
from tests.conftest import FIXED_NOW
from tests.status_server import FIXTURES as FIXTURES_DIR
from tests.status_server import StatusServer, status_server

ME = Actor("ana", frozenset({"lead"}))


def team(server: StatusServer, extra: str = "") -> str:
    return f"""
[[services]]
name = "payments"
[[vendors]]
name = "GitHub"
[[sources]]
name = "github"
plugin = "statuspage"
url = "{server.base}"
vendor = "GitHub"
interval = "1m"
timeout = "2s"
retries = 1
{extra}
"""


class Clock:
    def __init__(self, start: datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_a_good_poll_is_stored_and_the_next_waits_its_interval(
    server: StatusServer, tmp_path: Path
) -> None:
    server.serve("/api/v2/summary.json", "statuspage/github_summary_2020-04-02_major_incident.json",
                 etag='W/"1"')  # fmt: skip
    config, clock = parse_text(team(server), "team"), Clock()
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, ME, clock)
        try:
            [result] = await poller.poll()
            assert (result.level, result.error) == ("partial_outage", None)
            state = await store.statuses.get("github")
            assert state is not None and state.summary == "Partial System Outage"
            assert state.report and state.report["incidents"][0]["impact"] == "major"
            assert state.validators == {"etag": 'W/"1"'}
            assert await poller.poll() == []  # not due for another minute
            clock.now += timedelta(minutes=1)
            [again] = await poller.poll()  # answered 304: the report stands
            assert again.level == "partial_outage" and len(server.requests) == 2
            history = await store.statuses.history("github", FIXED_NOW - timedelta(days=1))
            assert [h.level for h in history] == ["partial_outage"]  # changes only
        finally:
            await poller.close()


async def test_consoles_share_one_poll_per_interval(server: StatusServer, tmp_path: Path) -> None:
    server.serve("/api/v2/summary.json", "statuspage/github_summary_2019-12-30_operational.json",
                 delay=0.2)  # fmt: skip
    config = parse_text(team(server), "team")
    path = tmp_path / "s.db"
    await (await Store.open(path)).close()
    stores = [await Store.open(path) for _ in range(4)]
    pollers = [Poller(s, config, ME, Clock(), owner=f"console-{n}") for n, s in enumerate(stores)]
    try:
        results = await asyncio.gather(*(p.poll() for p in pollers))
        assert sum(len(r) for r in results) == 1 and len(server.requests) == 1
    finally:
        for poller, store in zip(pollers, stores, strict=True):
            await poller.close()
            await store.close()


async def test_a_failing_source_keeps_its_last_good_report(
    server: StatusServer, tmp_path: Path
) -> None:
    server.serve("/api/v2/summary.json", "statuspage/github_summary_2019-12-30_operational.json")
    config, clock = parse_text(team(server), "team"), Clock()
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, ME, clock)
        try:
            await poller.poll()
            server.serve("/api/v2/summary.json", body=b"{not json", status=200)
            clock.now += timedelta(minutes=2)
            [failed] = await poller.poll()
            assert failed.error == "the answer is not JSON"
            state = await store.statuses.get("github")
            assert state is not None and state.level == "operational"  # last good kept
            assert state.error == "the answer is not JSON" and state.failures == 1
            assert state.last_ok_at == FIXED_NOW and state.checked_at == clock.now
            assert len(server.requests) == 3  # one retry
        finally:
            await poller.close()


async def test_a_token_goes_to_its_own_source_only(
    server: StatusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.serve("/api/v2/summary.json", "statuspage/github_summary_2019-12-30_operational.json")
    server.serve("/health", body=b"ok")
    monkeypatch.setenv("GH_TOKEN", "s3cret")
    extra = f'token_env = "GH_TOKEN"\n[[sources]]\nname = "api"\nplugin = "http"\nurl = "{server.base}/health"\n'
    config = parse_text(team(server, extra), "team")
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, ME, Clock())
        try:
            await poller.poll()
        finally:
            await poller.close()
        sent = dict(zip(server.requests, server.authorizations, strict=True))
        assert sent == {"/api/v2/summary.json": "Bearer s3cret", "/health": None}
        state = await store.statuses.get("github")
        assert state is not None and "s3cret" not in json.dumps(state.report)


ALERTS = [
    {"labels": {"alertname": "CardAuthFailing", "severity": "critical", "service": "payments"},
     "annotations": {"summary": "card auth errors above 5%"}, "fingerprint": "aaaa000000000001",
     "startsAt": "2026-11-25T11:50:00Z", "status": {"state": "active", "silencedBy": [], "inhibitedBy": []}},
    {"labels": {"alertname": "DiskFull", "severity": "warning"}, "annotations": {},
     "fingerprint": "aaaa000000000002", "startsAt": "2026-11-25T11:55:00Z",
     "status": {"state": "suppressed", "silencedBy": ["x"], "inhibitedBy": []}},
]  # fmt: skip


async def test_firing_alerts_open_incidents_once_and_say_when_they_stop(
    server: StatusServer, tmp_path: Path
) -> None:
    server.serve("/api/v2/alerts", body=json.dumps(ALERTS).encode())
    extra = (
        f'[[sources]]\nname = "prod"\nplugin = "alertmanager"\nurl = "{server.base}"\n'
        'service = "payments"\nopen_incidents = true\nauto_resolve = true\n'
    )
    config, clock = parse_text(team(server, extra), "team"), Clock()
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, ME, clock)
        try:
            await poller.poll(only="prod")
            [incident] = await store.incidents.from_source("alertmanager:prod")
            assert incident.dedup_key == "aaaa000000000001"  # the silenced one opened nothing
            assert (incident.priority, incident.service) == ("P1", "payments")
            assert incident.title == "CardAuthFailing: card auth errors above 5%"
            clock.now += timedelta(minutes=1)
            await poller.poll(only="prod")
            assert len(await store.incidents.from_source("alertmanager:prod", None)) == 1
            server.serve("/api/v2/alerts", body=b"[]")
            clock.now += timedelta(minutes=1)
            await poller.poll(only="prod")
            after = await store.incidents.get(incident.key)
            assert after.state == "resolved"
            notes = [e.detail for e in await store.incidents.events(incident.key)]
            assert "The alert stopped firing (prod)." in notes
        finally:
            await poller.close()


async def test_the_console_polls_by_itself_and_shows_vendor_status_literally(
    server: StatusServer, tmp_path: Path
) -> None:
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.screens.vendors import VendorsScreen
    from tests.test_app import NEVER, SIZE, settle, table_text
    from tests.waits import finish

    hostile = {
        "page": {"url": "https://status.example"},
        "status": {"indicator": "critical", "description": "[@click=app.quit]x[/] \x1b]0;pwn\x07"},
        "components": [], "incidents": [], "scheduled_maintenances": [],
    }  # fmt: skip
    server.serve("/api/v2/summary.json", body=json.dumps(hostile).encode())
    config = tmp_path / "team.toml"
    config.write_text(team(server))
    app = OpsdeskApp(
        Options(store=str(tmp_path / "s.db"), config=str(config)),
        clock=lambda: FIXED_NOW, feed_interval=NEVER, poll_interval=NEVER, handle_hangup=False,
    )  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        # No key: the console polls once on start (the worker settle waits for), and the
        # change feed (looked at by settle, as its tick would) brings the result in.
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, VendorsScreen)
        [row] = table_text(screen)
        assert row.startswith("GitHub ✖ MAJOR") and "[@click=app.quit]x[/]" in row
        assert "\x1b" not in row and "\x07" not in row
        requests = len(server.requests)
        await finish([app.poll_sources()])  # what the poll timer does on each tick
        assert len(server.requests) == requests  # the source is not due again yet
        await pilot.press("r")
        await settle(app, pilot)
        assert len(server.requests) == requests + 1  # re-polled now, not due yet
        assert app.is_running  # no markup action fired


def test_availability_counts_outages_against_known_time() -> None:
    from opsdesk.console.domain.availability import availability
    from opsdesk.store.records import LevelChange

    day = timedelta(days=1)
    start = FIXED_NOW - 10 * day
    changes = [
        LevelChange("s", start - day, "operational", ""),  # in force when the window opens
        LevelChange("s", start + 2 * day, "major_outage", ""),
        LevelChange("s", start + 3 * day, "maintenance", ""),
        LevelChange("s", start + 4 * day, "unknown", ""),
        LevelChange("s", start + 5 * day, "operational", ""),
    ]
    # 10 days, 1 unknown: 9 known, 1 down.
    assert availability(changes, start, FIXED_NOW) == 1 - 1 / 9
    assert availability([], start, FIXED_NOW) is None


async def test_enter_on_a_vendor_shows_its_report_contacts_and_availability(
    server: StatusServer, tmp_path: Path
) -> None:
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.screens.vendor_detail import VendorDetailScreen
    from tests.test_app import SIZE, settle

    server.serve("/api/v2/summary.json", "statuspage/github_summary_2020-04-02_major_incident.json")
    config = tmp_path / "team.toml"
    config.write_text(team(server).replace(
        '[[sources]]', '[vendors.support]\nphone = "+1-555-0199"\n[[sources]]', 1
    ))  # fmt: skip
    options = Options(store=str(tmp_path / "s.db"), config=str(config))
    async with await Store.open(tmp_path / "s.db") as store:
        yesterday = Clock(FIXED_NOW - timedelta(days=1))  # a day of known (bad) status
        poller = Poller(store, parse_text(config.read_text(), "team"), ME, yesterday)
        await poller.poll()
        await poller.close()
    app = OpsdeskApp(options, clock=lambda: FIXED_NOW, poll_interval=0, handle_hangup=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VendorDetailScreen)
        text = str(app.screen.query_one("#vendor").render())
        assert "Partial System Outage" in text and "incident Incident on 2020-04-02" in text
        assert "+1-555-0199" in text and "availability 30d 0.00%" in text


def _self_signed(folder: Path) -> tuple[Path, Path]:
    import subprocess

    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_is_verified_and_a_source_can_trust_its_own_ca(tmp_path: Path) -> None:
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = _self_signed(tmp_path)
    with status_server() as plain:
        plain.serve("/api/v2/summary.json", "statuspage/github_summary_2019-12-30_operational.json")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        plain.wrap(context)
        base = plain.base.replace("http://", "https://")
        text = f"""
[[sources]]
name = "strict"
plugin = "statuspage"
url = "{base}"
retries = 0
[[sources]]
name = "own-ca"
plugin = "statuspage"
url = "{base}"
ca_bundle = "{cert}"
"""
        async with await Store.open(tmp_path / "s.db") as store:
            poller = Poller(store, parse_text(text, "team"), ME, Clock())
            try:
                results = {r.source: r for r in await poller.poll()}
            finally:
                await poller.close()
    assert "CERTIFICATE_VERIFY_FAILED" in (results["strict"].error or "")
    assert (results["own-ca"].level, results["own-ca"].error) == ("operational", None)


async def test_a_source_that_drips_its_answer_times_out_cleanly(
    server: StatusServer, tmp_path: Path
) -> None:
    body = (FIXTURES_DIR / "statuspage/github_summary_2019-12-30_operational.json").read_bytes()
    server.serve("/api/v2/summary.json", body=body, drip=0.05)  # ~40 s for the whole body
    text = (
        team(server)
        .replace('timeout = "2s"', 'timeout = "1s"')
        .replace("retries = 1", "retries = 0")
    )
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, parse_text(text, "team"), ME, Clock())
        began = asyncio.get_running_loop().time()
        try:
            [result] = await poller.poll()
        finally:
            await poller.close()
        assert result.error == "no report within 2 s"
        assert asyncio.get_running_loop().time() - began < 5


def test_poll_once_from_the_cli(server: StatusServer, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.console.cli import run

    server.serve("/api/v2/summary.json", "statuspage/github_summary_2020-04-02_major_incident.json")
    config = tmp_path / "team.toml"
    config.write_text(team(server))
    base = ["--config", str(config), "--store", str(tmp_path / "s.db")]
    assert run([*base, "poll", "--once", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"source": "github", "level": "partial_outage", "error": None}
    ]
    assert run([*base, "vendors", "status", "--json"]) == 0
    [status] = json.loads(capsys.readouterr().out)
    assert (status["vendor"], status["level"], status["error"]) == (
        "GitHub",
        "partial_outage",
        None,
    )
    assert status["incidents"][0]["impact"] == "major" and status["checked_at"]
    for command in (["vendors", "status"], ["vendors", "list"], ["poll", "--once"]):
        run([*base, *command, "--force"] if command[0] == "poll" else [*base, *command])
        text = capsys.readouterr().out  # text says the level in words, JSON in snake_case
        assert "partial outage" in text and "partial_outage" not in text, (command, text)
    assert run([*base, "vendors", "status", "--vendor", "Githib"]) == 1
    assert 'did you mean "GitHub"' in capsys.readouterr().err
