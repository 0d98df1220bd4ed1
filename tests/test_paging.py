"""The on-call loop end to end: an incident pages level 1, nobody answers, level 2 is paged
after its delay, an acknowledgement through the link stops level 3; email through a real
SMTP server and its link followed over real HTTP; failing endpoints retried and the
failure shown; a worker dying mid-send costs at most one duplicate. Time is driven by hand
(the pager's clock), except where a real server's own loop runs.

Each runs on both backends (`store_location`). On PostgreSQL `opsdesk serve` connects as a
role of its own (SERVE below, as a team would run it) and the database records that role
as the actor of everything serve writes, an acknowledgement through a person's link
included: who the link was for is in the notification row and the event's detail."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message as MailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opsdesk.console.cli.main import run
from opsdesk.console.config.loader import load
from opsdesk.console.config.model import Config
from opsdesk.console.ops.delivery import DeliveryWorker
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.serve.app import ServeState, build_app, load_secrets
from opsdesk.console.serve.metrics import PagerMetrics
from opsdesk.console.serve.pager import Pager
from opsdesk.store import Actor, Store
from tests.store_backends import is_postgres, open_as, url_as

T0 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # a P1 at 3 a.m.
KEY = b"k" * 32
SERVE = "opsdesk"
"""The login `opsdesk serve` acts as: on SQLite the name its pager writes with, on
PostgreSQL the role it connects as."""


def acting(location: str, person: str) -> str:
    """Who the store records for something `person` did through serve (a link)."""
    return SERVE if is_postgres(location) else person


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Hooks:
    """A stand-in for people's webhooks (and ntfy): keeps what each path was sent; answers
    with the statuses scripted for it (200 once the script runs out)."""

    got: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    script: dict[str, list[int]] = field(default_factory=dict)
    hold: asyncio.Event | None = None  # set: answer; unset: hang (a worker "dies" meanwhile)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def endpoint(self, request: Request) -> Response:
        path = request.path_params["who"]
        self.got.setdefault(path, []).append(json.loads(await request.body()))
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        statuses = self.script.get(path, [])
        return JSONResponse({}, statuses.pop(0) if statuses else 200)


def _socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Run an ASGI app on a real uvicorn server on 127.0.0.1; its base URL."""
    sock = _socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


TEAM = """
[[people]]
login = "ana"
webhook = "{hooks}/ana"
[[people]]
login = "ben"
webhook = "{hooks}/ben"
[[people]]
login = "dana"
webhook = "{hooks}/dana"
[[services]]
name = "payments"
[[escalation_policies]]
service = "payments"
levels = [{{ person = "ana", after = "0m" }}, {{ person = "ben", after = "15m" }},
          {{ person = "dana", after = "30m" }}]
repeat = {repeat}
repeat_after = "20m"
[notify]
attempts = {attempts}
timeout = "5s"
[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "OPSDESK_TEST_AM"
"""


def team(
    tmp_path: Path, hooks: str, *, repeat: int = 0, attempts: int = 5, extra: str = ""
) -> Path:
    path = tmp_path / "team.toml"
    path.write_text(TEAM.format(hooks=hooks, repeat=repeat, attempts=attempts) + extra)
    return path


@dataclass
class Rig:
    config: Config
    store: Store
    clock: Clock
    pager: Pager
    app: Starlette
    client: httpx.AsyncClient  # talks to `app` in process


@asynccontextmanager
async def rig(config_path: Path, location: str, clock: Clock) -> AsyncIterator[Rig]:
    config = load(str(config_path)).config
    store = await open_as(location, SERVE)
    metrics = PagerMetrics()
    pager = Pager(
        store, config, key=KEY, base_url="http://opsdesk.test", owner="serve-1", clock=clock,
        metrics=metrics,
    )  # fmt: skip
    state = ServeState(store, config, KEY, clock, load_secrets(config, None), pager, metrics)
    app = build_app(state, run_pager=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://opsdesk.test") as client:
            yield Rig(config, store, clock, pager, app, client)
    finally:
        await pager.close()
        await store.close()


@pytest.fixture
async def hooks() -> AsyncIterator[tuple[Hooks, str]]:
    box = Hooks()
    app = Starlette(
        routes=[
            Route("/{who}", box.endpoint, methods=["POST"]),
            Route("/{who}/", box.endpoint, methods=["POST"]),  # ntfy publishes to <server>/
        ]
    )
    async with serving(app) as url:
        yield box, url


@pytest.fixture(autouse=True)
def am_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_TEST_AM", "s3cret-token")


def ack_path(page: dict[str, Any]) -> str:
    url = page["opsdesk"]["ack_url"]
    assert url.startswith("http://opsdesk.test/ack/")
    return url.removeprefix("http://opsdesk.test")


async def test_level_1_then_level_2_after_its_delay_and_an_ack_stops_level_3(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    box, url = hooks
    clock = Clock(T0)
    async with rig(team(tmp_path, url), store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0, impact=1, urgency=1
        )
        await r.pager.tick()
        assert list(box.got) == ["ana"]  # level 1 at once
        assert box.got["ana"][0]["opsdesk"]["incident"] == incident.key
        assert box.got["ana"][0]["opsdesk"]["urgency"] == "high"
        clock.advance(minutes=14, seconds=59)
        await r.pager.tick()
        assert list(box.got) == ["ana"]  # not yet
        clock.advance(seconds=1)
        await r.pager.tick()
        assert sorted(box.got) == ["ana", "ben"]  # level 2 after its 15 minutes
        after = await r.store.incidents.get(incident.key)
        assert (after.escalation_level, after.assignee, after.state) == (2, "ben", "new")
        clock.advance(minutes=1)
        answer = await r.client.post(ack_path(box.got["ben"][0]))
        assert answer.status_code == 200 and "acknowledged by ben" in answer.text
        clock.advance(minutes=30)
        await r.pager.tick()
        assert sorted(box.got) == ["ana", "ben"]  # dana is never paged
        acked = await r.store.incidents.get(incident.key)
        assert (acked.state, acked.escalation_level) == ("acknowledged", 2)
        events = await r.store.incidents.events(incident.key)
        escalated = [e for e in events if e.kind == "escalated"]
        assert [(e.actor, e.detail) for e in escalated] == [
            ("opsdesk", "not acknowledged after 15m; level 2 of 3: ben (via person)")
        ]
        ack = next(e for e in events if e.state == "acknowledged")
        assert (ack.actor, ack.detail) == (acting(store_location, "ben"), "via webhook link")
        audit = [
            a
            for a in await r.store.audit.entries(entity_key=incident.key)
            if a.action == "incident.acknowledge"
        ]
        assert audit[0].actor == acting(store_location, "ben")
        assert audit[0].after["via"] == "webhook link"


async def test_after_downtime_levels_catch_up_one_at_a_time_and_the_policy_repeats(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    box, url = hooks
    clock = Clock(T0)
    async with rig(team(tmp_path, url, repeat=1), store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0, impact=1, urgency=1
        )
        clock.advance(hours=2)  # serve was down for two hours: levels 2 and 3 are overdue
        await r.pager.tick()
        assert sorted(box.got) == ["ana", "ben"]  # level 1 (queued at T0) and level 2 only
        clock.advance(minutes=14)
        await r.pager.tick()
        assert "dana" not in box.got  # level 3 comes its 15-minute gap after level 2 paged
        clock.advance(minutes=1)
        await r.pager.tick()
        assert len(box.got["dana"]) == 1
        clock.advance(minutes=20)  # repeat_after: the policy starts again from level 1
        await r.pager.tick()
        assert len(box.got["ana"]) == 2
        again = await r.store.incidents.get(incident.key)
        assert (again.escalation_level, again.escalation_round) == (1, 2)
        for _ in range(3):
            clock.advance(minutes=15)
            await r.pager.tick()
        assert (len(box.got["ben"]), len(box.got["dana"])) == (2, 2)
        clock.advance(hours=1)
        await r.pager.tick()  # repeat = 1: exhausted, nobody is paged a third time
        assert [len(box.got[p]) for p in ("ana", "ben", "dana")] == [2, 2, 2]


async def test_a_failing_endpoint_is_retried_with_backoff_and_the_failure_shows(
    tmp_path: Path,
    hooks: tuple[Hooks, str],
    store_location: str,
    capsys: pytest.CaptureFixture[str],
    me: str,
) -> None:
    box, url = hooks
    box.script = {"ana": [500, 503, 502]}
    clock = Clock(T0)
    config_path = team(tmp_path, url, attempts=3)
    async with rig(config_path, store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0, impact=1, urgency=1
        )
        await r.pager.tick()
        [first] = await r.store.notifications.list(incident.key)
        assert (first.state, first.attempts) == ("pending", 1)
        assert "500" in (first.error or "")
        assert first.not_before == T0 + timedelta(seconds=30)  # backoff
        await r.pager.tick()
        assert len(box.got["ana"]) == 1  # not before its retry time
        clock.advance(seconds=30)
        await r.pager.tick()
        clock.advance(seconds=60)
        await r.pager.tick()
        [last] = await r.store.notifications.list(incident.key)
        assert (last.state, last.attempts, len(box.got["ana"])) == ("failed", 3, 3)
        events = await r.store.incidents.events(incident.key)
        failed = [e.detail for e in events if e.kind == "notify_failed"]
        assert failed == [f"notifying ana by webhook failed after 3 attempts: {last.error}"]
    args = ["--config", str(config_path), "--store", url_as(store_location, me),
            "notifications", "list", "--incident", incident.key, "--json"]  # fmt: skip
    code = await asyncio.to_thread(run, args)
    listed = json.loads(capsys.readouterr().out)
    assert code == 0 and [(n["state"], n["attempts"]) for n in listed] == [("failed", 3)]


async def test_an_endpoint_that_recovers_gets_the_page_once(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    box, url = hooks
    box.script = {"ana": [503]}
    clock = Clock(T0)
    async with rig(team(tmp_path, url), store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0
        )
        await r.pager.tick()
        clock.advance(seconds=30)
        await r.pager.tick()
        [n] = await r.store.notifications.list(incident.key)
        assert (n.state, n.attempts, n.error) == ("delivered", 2, None)
        assert len(box.got["ana"]) == 2


async def test_a_worker_dying_mid_send_costs_at_most_one_duplicate(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    box, url = hooks
    box.hold = asyncio.Event()  # the endpoint takes the page and does not answer yet
    clock = Clock(T0)
    async with rig(team(tmp_path, url), store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0
        )
        dying = asyncio.create_task(r.pager.worker.run_once())
        await box.arrived.wait()
        dying.cancel()  # the worker is gone mid-send: its claim stays, unrecorded
        await asyncio.gather(dying, return_exceptions=True)
        box.hold.set()
        other = DeliveryWorker(
            r.store, r.config, owner="serve-2", link_for=r.pager.link, clock=clock
        )
        try:
            assert await other.run_once() == []  # the lease still holds: not sent twice at once
            clock.advance(seconds=15)  # past the lease (2 × timeout + 5 s)
            [sent] = await other.run_once()
            assert sent.ok
            assert await other.run_once() == []
        finally:
            await other.close()
        [n] = await r.store.notifications.list(incident.key)
        assert (n.state, n.attempts) == ("delivered", 2)
        assert len(box.got["ana"]) == 2  # the one the dead worker sent, and one more


async def test_ack_links_refuse_replay_alteration_expiry_and_an_answered_incident(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    box, url = hooks
    clock = Clock(T0)
    async with rig(team(tmp_path, url), store_location, clock) as r:
        ops = IncidentOps(r.store, r.config, Actor("eve"))
        first = await ops.create("card auth down", "payments", T0)
        second = await ops.create("refunds slow", "payments", T0)
        third = await ops.create("wallet errors", "payments", T0)
        await r.pager.tick()
        links = {p["opsdesk"]["incident"]: ack_path(p) for p in box.got["ana"]}
        page = await r.client.get(links[first.key])
        assert page.status_code == 200 and first.key in page.text and "<form" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        altered = links[first.key][:-2] + ("AA" if not links[first.key].endswith("AA") else "BB")
        assert (await r.client.post(altered)).status_code == 403
        other_id = links[first.key].replace("/ack/1.", "/ack/2.", 1)
        assert (await r.client.post(other_id)).status_code == 403  # re-aimed at another page
        assert (await r.client.post(links[first.key])).status_code == 200
        replay = await r.client.post(links[first.key])
        assert replay.status_code == 403 and "used already" in replay.text
        await ops.transition(second.key, "acknowledge", T0 + timedelta(minutes=1))
        taken = await r.client.post(links[second.key])
        assert taken.status_code == 403 and "acknowledged already" in taken.text
        clock.advance(hours=25)  # serve.link_lifetime is a day
        late = await r.client.post(links[third.key])
        assert late.status_code == 403 and "expired" in late.text
        assert (await r.store.incidents.get(third.key)).state == "new"


@dataclass
class Inbox:
    mails: list[MailMessage] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    loop: asyncio.AbstractEventLoop | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()  # the test sets `loop` to its own
    sock = _socket()
    port = sock.getsockname()[1]
    sock.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def test_an_alert_emails_the_person_and_the_link_in_the_mail_acknowledges_over_http(
    tmp_path: Path, smtp: tuple[Inbox, int], store_location: str
) -> None:
    """Real pieces all the way: an alert posted to a running `opsdesk serve` app (uvicorn,
    its own pager loop on the real clock), a real SMTP server, the link from the mail's
    text followed with an HTTP client: acknowledged as the person, escalation stopped."""
    inbox, port = smtp
    inbox.loop = asyncio.get_running_loop()
    config_path = tmp_path / "team.toml"
    config_path.write_text(f"""
[[people]]
login = "ana"
email = "ana@example.com"
[[people]]
login = "ben"
email = "ben@example.com"
[[services]]
name = "payments"
[[escalation_policies]]
service = "payments"
levels = [{{ person = "ana", after = "0m" }}, {{ person = "ben", after = "10m" }}]
[notify.email]
smtp_host = "127.0.0.1"
smtp_port = {port}
sender = "pager@example.com"
[serve]
tick = "1s"
[[integrations]]
name = "am"
kind = "alertmanager"
secret_env = "OPSDESK_TEST_AM"
service = "payments"
""")
    config = load(str(config_path)).config
    store = await open_as(store_location, SERVE)
    metrics = PagerMetrics()

    def clock() -> datetime:
        return datetime.now(UTC)

    sock = _socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    pager = Pager(
        store, config, key=KEY, base_url=base, owner="serve", clock=clock, metrics=metrics
    )
    state = ServeState(store, config, KEY, clock, load_secrets(config, None), pager, metrics)
    app = build_app(state)
    host, port_text = base.removeprefix("http://").split(":")
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=int(port_text), log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
            if task.done():
                task.result()
        alert = {
            "version": "4", "status": "firing", "receiver": "opsdesk", "groupLabels": {},
            "alerts": [{"status": "firing", "fingerprint": "a1b2c3d4e5f60718",
                        "labels": {"alertname": "CardAuthDown", "severity": "critical"},
                        "annotations": {"summary": "card auth <b>down</b>"},
                        "startsAt": "2026-11-30T02:59:00Z"}],
        }  # fmt: skip
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            answer = await http.post(
                "/integrations/am", json=alert, headers={"Authorization": "Bearer s3cret-token"}
            )
            assert answer.status_code == 200 and answer.json()["opened"] == ["INC-1"]
            await asyncio.wait_for(inbox.arrived.wait(), 30)
            [mail] = inbox.mails
            assert mail["To"] == "ana <ana@example.com>"
            assert "[P1] INC-1" in mail["Subject"]
            text = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
            link = re.search(r"Acknowledge: (\S+)", text.get_payload(decode=True).decode())
            assert link is not None and link[1].startswith(f"{base}/ack/")
            confirm = await http.get(link[1])
            assert confirm.status_code == 200 and "INC-1" in confirm.text
            done = await http.post(link[1])
            assert done.status_code == 200 and "acknowledged by ana" in done.text
        incident = await store.incidents.get("INC-1")
        assert (incident.state, incident.assignee) == ("acknowledged", "ana")
        assert await store.notifications.list("INC-1", state="pending") == []
        assert (
            await IncidentOps(store, config, Actor("x")).escalate_due(
                clock() + timedelta(minutes=11)
            )
            == []
        )  # acknowledged: level 2 never comes
    finally:
        server.should_exit = True
        await task
        await store.close()


async def test_the_ntfy_acknowledge_button_calls_back_and_acknowledges(
    tmp_path: Path, hooks: tuple[Hooks, str], store_location: str
) -> None:
    """ntfy's "http" action POSTs to the link with no body, as the phone does."""
    box, url = hooks
    clock = Clock(T0)
    extra = f'[notify.ntfy]\nserver = "{url}/ntfy"\n'
    config_path = team(tmp_path, url, extra=extra)
    config_path.write_text(
        config_path.read_text().replace(f'webhook = "{url}/ana"', 'ntfy = "ana-pages-7f3k"')
    )
    async with rig(config_path, store_location, clock) as r:
        incident = await IncidentOps(r.store, r.config, Actor("eve")).create(
            "card auth down", "payments", T0, impact=1, urgency=1
        )
        await r.pager.tick()
        [published] = box.got["ntfy"]
        assert (published["topic"], published["priority"]) == ("ana-pages-7f3k", 5)
        [button] = published["actions"]
        assert (button["action"], button["label"], button["method"]) == (
            "http", "Acknowledge", "POST",
        )  # fmt: skip
        clock.advance(minutes=2)
        pressed = await r.client.post(button["url"].removeprefix("http://opsdesk.test"))
        assert pressed.status_code == 200
        after = await r.store.incidents.get(incident.key)
        assert (after.state, after.assignee) == ("acknowledged", "ana")
        [n] = await r.store.notifications.list(incident.key)
        assert n.acknowledged_via == "ntfy link"
