"""`opsdesk serve` over real HTTP: a real uvicorn on 127.0.0.1 in front of the real app,
a real SQLite store in tmp_path and a config written as TOML.

Bad input is refused with the right status and leaves the store untouched; good input
from each integration kind (Alertmanager, Grafana, PagerDuty Events v2, a generic webhook)
opens, acknowledges, notes, resolves and reopens incidents. The last test puts a real
Prometheus Alertmanager in front: its webhook and its PagerDuty sender both reach serve.

Waiting is on events: a thin ASGI wrapper notifies a condition after every answered
request, and the tests re-read the store when it fires (never a fixed sleep).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from opsdesk.console.config.loader import load
from opsdesk.console.config.model import Config
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.pager import SYSTEM
from opsdesk.console.serve.app import ServeState, build_app, load_secrets
from opsdesk.console.serve.metrics import PagerMetrics
from opsdesk.console.serve.pager import Pager
from opsdesk.store import Incident, Store
from opsdesk.store.records import IncidentFilter
from tests.alertmanager_server import running_alertmanager
from tests.conftest import FIXED_NOW

AM_TOKEN = "am-bearer-5b1e0c"
NOTES_TOKEN = "am-notes-bearer-77a2"
HOOK_TOKEN = "hook-bearer-90fd"
PD_KEY = "R0UT1NGKEY0123456789abcdefabcdef"
GRAFANA_USER = "grafana"
GRAFANA_PASSWORD = "graf-pass-3c9e"
MAX_BODY = 32_768  # room for a 10,000-deep JSON (20,000 bytes) below the cap
WAIT = 30.0  # seconds for Alertmanager to deliver; it usually takes well under 2 s

TEAM = f"""
[[people]]
login = "ana"
email = "ana@example.com"
webhook = "http://127.0.0.1:9/hook"

[[services]]
name = "payments"
[[services]]
name = "storage"
[[services]]
name = "web"
[[services]]
name = "infra"

[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = ["ana"]
rotation = "1d"
start = "2026-11-01T09:00"

[[escalation_policies]]
service = "payments"
levels = [{{ schedule = "platform", after = "0m" }}]
[[escalation_policies]]
service = "storage"
levels = [{{ schedule = "platform", after = "0m" }}]
[[escalation_policies]]
service = "web"
levels = [{{ schedule = "platform", after = "0m" }}]
[[escalation_policies]]
service = "infra"
levels = [{{ schedule = "platform", after = "0m" }}]

[serve]
max_body = {MAX_BODY}

[reviews]
required_for = []  # closing without a post-incident review here

[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "OPSDESK_TEST_AM_TOKEN"

[[integrations]]
name = "am-notes"
kind = "alertmanager"
service = "payments"
auto_resolve = false
secret_env = "OPSDESK_TEST_NOTES_TOKEN"

[[integrations]]
name = "graf"
kind = "grafana"
service = "infra"
auth = "basic"
username = "{GRAFANA_USER}"
secret_file = "grafana.secret"

[[integrations]]
name = "pd"
kind = "pagerduty"
service = "storage"
secret_env = "OPSDESK_TEST_PD_KEY"

[[integrations]]
name = "hook"
kind = "webhook"
service = "web"
rate_limit = 5
secret_env = "OPSDESK_TEST_HOOK_TOKEN"
[integrations.fields]
title = "alert.name"
dedup_key = "alert.id"
severity = "level"
resolved = "state"
"""


# -- Helpers ---------------------------------------------------------------------------


@dataclass
class Clock:
    """The app's clock, moved by hand."""

    now: datetime = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now


class Answered:
    """ASGI wrapper around the app: notifies `changed` after every HTTP request the app
    has answered, so a test waits for the next request instead of sleeping."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.changed = asyncio.Condition()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                async with self.changed:
                    self.changed.notify_all()


@dataclass
class Serve:
    """A running `opsdesk serve` and what a test needs to talk to it and look inside."""

    url: str
    port: int
    store: Store
    config: Config
    clock: Clock
    answered: Answered
    client: httpx.AsyncClient = field(init=False)

    async def post(
        self,
        path: str,
        body: Any = None,
        *,
        token: str | None = AM_TOKEN,
        content: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST `body` as JSON (or raw `content`), with `token` as a bearer unless None."""
        sent = dict(headers or {})
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token}")
        if content is None:
            content = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        return await self.client.post(path, content=content, headers=sent)

    async def incidents(self) -> list[Incident]:
        """Every incident, oldest first."""
        return list(reversed(await self.store.incidents.recent(limit=1000)))

    async def footprint(self) -> tuple[int, int, int]:
        """(incidents, timeline events, notifications): what any write would change."""
        count = await self.store.incidents.count(IncidentFilter())
        events = 0
        for incident in await self.incidents():
            events += len(await self.store.incidents.events(incident.key))
        notifications = len(await self.store.notifications.list(limit=100_000))
        return count, events, notifications

    async def wait_until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Re-run `check` after every answered request until it holds (WAIT s at most)."""
        try:
            async with asyncio.timeout(WAIT):
                async with self.answered.changed:
                    while not await check():
                        await self.answered.changed.wait()
        except TimeoutError:
            seen = [(i.key, i.source, i.state) for i in await self.incidents()]
            raise AssertionError(f"not {what} within {WAIT:.0f} s; incidents: {seen}") from None


def write_team(folder: Path) -> Path:
    """The config file and its owner-only Grafana secret file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder / "grafana.secret"
    secret.write_text(GRAFANA_PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    path = folder / "opsdesk.toml"
    path.write_text(TEAM, encoding="utf-8")
    return path


def listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@asynccontextmanager
async def serving(tmp_path: Path, *, run_pager: bool = False) -> AsyncIterator[Serve]:
    """Load the TOML config, open the store file and run the app under uvicorn on a
    pre-bound 127.0.0.1 socket, as `opsdesk serve` does; stop it all afterwards."""
    loaded = load(str(write_team(tmp_path / "etc")))
    config = loaded.config
    store = await Store.open(tmp_path / "opsdesk.db")
    clock = Clock()
    key = os.urandom(32)
    sock = listening_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    metrics = PagerMetrics()
    pager = Pager(store, config, key=key, base_url=url, owner="test", clock=clock, metrics=metrics)
    secrets = load_secrets(config, loaded.config_dir)
    state = ServeState(store, config, key, clock, secrets, pager, metrics)
    answered = Answered(build_app(state, run_pager=run_pager))
    server = uvicorn.Server(
        uvicorn.Config(answered, host="127.0.0.1", lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # uvicorn has a flag, not an event
                if task.done():
                    task.result()
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        running = Serve(url, port, store, config, clock, answered)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            running.client = client
            yield running
    finally:
        server.should_exit = True
        await task
        sock.close()
        await store.close()


def am_alert(
    name: str, fingerprint: str, *, status: str = "firing", **labels: str
) -> dict[str, Any]:
    """One entry of an Alertmanager webhook's `alerts`."""
    return {
        "status": status,
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": f"{name} is firing"},
        "startsAt": "2026-11-25T11:50:00Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-25T11:59:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": fingerprint,
    }


def am_payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    """An Alertmanager webhook body (version 4) around `alerts`."""
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "receiver": "opsdesk",
        "status": "firing" if firing else "resolved",
        "alerts": list(alerts),
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }


def pd_event(action: str, dedup_key: str | None = "srv01/mysql", **extra: Any) -> dict[str, Any]:
    """A PagerDuty Events API v2 event for the `pd` integration."""
    event: dict[str, Any] = {"routing_key": PD_KEY, "event_action": action, **extra}
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    if action == "trigger":
        event.setdefault(
            "payload",
            {"summary": "DISK at 99% on db3", "source": "db3.example", "severity": "critical"},
        )
    return event


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def grafana_payload() -> dict[str, Any]:
    alert = am_alert("HighMemory", "c6eadffa33fcdf37", zone="us-1")
    alert.update(silenceURL="https://grafana.example/silence", valueString="[ var='B' ]")
    return {**am_payload(alert), "version": "1", "orgId": 1, "state": "alerting"}


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of sample `name` with exactly these labels in a /metrics answer."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSDESK_TEST_AM_TOKEN", AM_TOKEN)
    monkeypatch.setenv("OPSDESK_TEST_NOTES_TOKEN", NOTES_TOKEN)
    monkeypatch.setenv("OPSDESK_TEST_HOOK_TOKEN", HOOK_TOKEN)
    monkeypatch.setenv("OPSDESK_TEST_PD_KEY", PD_KEY)


@pytest.fixture
async def serve(tmp_path: Path, secrets_env: None) -> AsyncIterator[Serve]:
    async with serving(tmp_path) as running:
        yield running


# -- Refused: status, and nothing written --------------------------------------------


async def test_missing_or_wrong_bearer_and_unknown_integration_answer_alike(serve: Serve) -> None:
    """No bearer, a wrong bearer, an unknown integration and the PagerDuty integration's
    name all get the same 401 and body: a prober learns nothing. Nothing is stored."""
    before = await serve.footprint()
    body = am_payload(am_alert("DiskFull", "a000000000000001"))
    answers = [
        await serve.post("/integrations/am", body, token=None),
        await serve.post("/integrations/am", body, token="wrong"),
        await serve.post("/integrations/am", body, token=NOTES_TOKEN),
        await serve.post("/integrations/no-such-thing", body),
        await serve.post("/integrations/pd", body, token=PD_KEY),
    ]
    assert [a.status_code for a in answers] == [401] * 5
    assert {a.content for a in answers} == {answers[0].content}
    assert {a.headers.get("www-authenticate") for a in answers} == {'Bearer realm="opsdesk"'}
    assert answers[0].json()["status"] == "refused"
    assert await serve.footprint() == before


async def test_wrong_basic_password_is_401_and_the_right_one_is_taken(serve: Serve) -> None:
    """Grafana's basic auth: a wrong password or user is refused with nothing stored; the
    right pair (the secret read from the owner-only file) opens an incident on `infra`."""
    before = await serve.footprint()
    for headers in (
        basic(GRAFANA_USER, "not-the-password"),
        basic("someone", GRAFANA_PASSWORD),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": f"Bearer {GRAFANA_PASSWORD}"},
    ):
        answer = await serve.post("/integrations/graf", grafana_payload(), headers=headers)
        assert answer.status_code == 401, headers
    assert await serve.footprint() == before

    answer = await serve.post(
        "/integrations/graf", grafana_payload(), headers=basic(GRAFANA_USER, GRAFANA_PASSWORD)
    )
    assert answer.status_code == 200, answer.text
    [key] = answer.json()["opened"]
    incident = await serve.store.incidents.get(key)
    assert (incident.service, incident.source) == ("infra", "grafana:graf")


async def test_body_over_max_body_with_content_length_is_413(serve: Serve) -> None:
    """A declared Content-Length over `serve.max_body` is refused before reading."""
    before = await serve.footprint()
    alert = am_alert("Big", "b000000000000001")
    alert["annotations"]["description"] = "x" * (MAX_BODY + 1000)
    answer = await serve.post("/integrations/am", am_payload(alert))
    assert answer.status_code == 413
    assert str(MAX_BODY) in answer.json()["message"]
    assert await serve.footprint() == before


async def test_chunked_body_over_max_body_is_413(serve: Serve) -> None:
    """Without a Content-Length (chunked), the body is cut off once it passes the cap."""
    before = await serve.footprint()
    alert = am_alert("Big", "b000000000000002")
    alert["annotations"]["description"] = "x" * (MAX_BODY + 1000)
    raw = json.dumps(am_payload(alert)).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 4096):
            yield raw[start : start + 4096]

    answer = await serve.post(
        "/integrations/am", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert await serve.footprint() == before


async def test_json_nested_10000_deep_is_400_with_one_line(serve: Serve) -> None:
    before = await serve.footprint()
    deep = b"[" * 10_000 + b"]" * 10_000
    answer = await serve.post("/integrations/am", content=deep)
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert "nested deeper than" in message
    assert "\n" not in message and len(message) < 200
    assert await serve.footprint() == before


async def test_not_json_is_400(serve: Serve) -> None:
    before = await serve.footprint()
    answer = await serve.post("/integrations/am", content=b"status=firing&alert=DiskFull")
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("not JSON")
    assert await serve.footprint() == before


async def test_unknown_extra_fields_are_accepted(serve: Serve) -> None:
    """Fields a newer Alertmanager may add (top level and per alert) are ignored."""
    alert = {**am_alert("DiskFull", "c000000000000001"), "newAlertField": {"x": [1, 2]}}
    body = {**am_payload(alert), "futureField": "yes", "anotherOne": {"nested": True}}
    answer = await serve.post("/integrations/am", body)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["opened"]) == 1
    assert (await serve.footprint())[0] == 1


async def test_flood_beyond_rate_limit_is_429_with_retry_after(serve: Serve) -> None:
    """`hook` takes 5 requests a minute: the first 5 (each a new alert) open incidents,
    the 6th is refused with Retry-After and stores nothing."""
    for n in range(5):
        body = {"alert": {"name": f"Probe {n} failing", "id": f"probe-{n}"}, "level": "error"}
        answer = await serve.post("/integrations/hook", body, token=HOOK_TOKEN)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["opened"]) == 1
    before = await serve.footprint()
    assert before[0] == 5
    body = {"alert": {"name": "Probe 5 failing", "id": "probe-5"}, "level": "error"}
    answer = await serve.post("/integrations/hook", body, token=HOOK_TOKEN)
    assert answer.status_code == 429
    assert int(answer.headers["retry-after"]) >= 1
    assert await serve.footprint() == before
    # Another integration has its own bucket.
    other = await serve.post("/integrations/am", am_payload(am_alert("X", "d000000000000001")))
    assert other.status_code == 200


def test_group_readable_secret_file_stops_serve_naming_the_integration(
    tmp_path: Path, secrets_env: None
) -> None:
    loaded = load(str(write_team(tmp_path / "etc")))
    assert load_secrets(loaded.config, loaded.config_dir)["graf"] == GRAFANA_PASSWORD
    (tmp_path / "etc" / "grafana.secret").chmod(0o640)
    with pytest.raises(ConfigError) as raised:
        load_secrets(loaded.config, loaded.config_dir)
    assert "integrations.graf.secret_file" in str(raised.value)
    assert "chmod 600" in str(raised.value)


# -- PagerDuty Events API v2 -----------------------------------------------------------


async def test_pagerduty_unknown_routing_key_is_404(serve: Serve) -> None:
    before = await serve.footprint()
    answer = await serve.post(
        "/v2/enqueue", {**pd_event("trigger"), "routing_key": "not-a-key"}, token=None
    )
    assert answer.status_code == 404
    missing = await serve.post("/v2/enqueue", {"event_action": "trigger"}, token=None)
    assert missing.status_code == 404
    assert await serve.footprint() == before


async def test_pagerduty_invalid_event_action_is_400_event_object_is_invalid(
    serve: Serve,
) -> None:
    before = await serve.footprint()
    answer = await serve.post("/v2/enqueue", pd_event("explode"), token=None)
    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid event"
    assert answer.json()["message"] == "Event object is invalid"  # PagerDuty's own words
    assert "event_action" in answer.json()["errors"][0]
    assert await serve.footprint() == before


async def test_pagerduty_trigger_acknowledge_resolve_act_on_one_incident(serve: Serve) -> None:
    """trigger → 202 success with the dedup_key and a new incident on `storage`;
    acknowledge and resolve with the same dedup_key move that incident, and the timeline
    says the acknowledgement came via the integration."""
    answer = await serve.post("/v2/enqueue", pd_event("trigger"), token=None)
    assert answer.status_code == 202, answer.text
    reply = answer.json()
    assert reply["status"] == "success"
    assert reply["dedup_key"] == "srv01/mysql"
    [key] = reply["incidents"]
    incident = await serve.store.incidents.get(key)
    assert (incident.service, incident.source, incident.state) == (
        "storage",
        "pagerduty:pd",
        "new",
    )
    assert incident.priority == "P1"  # critical

    answer = await serve.post("/v2/enqueue", pd_event("acknowledge"), token=None)
    assert answer.status_code == 202, answer.text
    assert (await serve.store.incidents.get(key)).state == "acknowledged"

    answer = await serve.post("/v2/enqueue", pd_event("resolve"), token=None)
    assert answer.status_code == 202, answer.text
    assert (await serve.store.incidents.get(key)).state == "resolved"

    assert (await serve.footprint())[0] == 1
    events = await serve.store.incidents.events(key)
    states = [(e.state, e.detail) for e in events if e.kind == "state"]
    assert ("acknowledged", "via pd integration") in states
    assert states[-1][0] == "resolved"


# -- Alertmanager semantics ------------------------------------------------------------


async def test_same_alertmanager_payload_twice_changes_nothing(serve: Serve) -> None:
    """Alertmanager re-sends whole groups: the second identical post opens nothing, adds
    no timeline event and queues no notification."""
    body = am_payload(
        am_alert("InstanceDown", "f404ecabc8dd5cd7", instance="a:1"),
        am_alert("InstanceDown", "f8f08d4e32c61a9d", status="resolved", instance="a:2"),
    )
    first = await serve.post("/integrations/am", body)
    assert first.status_code == 200, first.text
    assert len(first.json()["opened"]) == 1
    after_first = await serve.footprint()
    assert after_first[0] == 1 and after_first[2] >= 1  # opened and paged

    second = await serve.post("/integrations/am", body)
    assert second.status_code == 200, second.text
    assert second.json()["opened"] == [] and second.json()["unchanged"] == 2
    assert await serve.footprint() == after_first


async def test_resolved_alert_with_auto_resolve_false_only_notes(serve: Serve) -> None:
    fire = am_payload(am_alert("QueueStuck", "e000000000000001"))
    answer = await serve.post("/integrations/am-notes", fire, token=NOTES_TOKEN)
    [key] = answer.json()["opened"]

    done = am_payload(am_alert("QueueStuck", "e000000000000001", status="resolved"))
    answer = await serve.post("/integrations/am-notes", done, token=NOTES_TOKEN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["noted"] == [key] and answer.json()["resolved"] == []
    assert (await serve.store.incidents.get(key)).state == "new"
    last = (await serve.store.incidents.events(key))[-1]
    assert (last.kind, last.detail) == ("note", "The alert resolved (am-notes).")


async def test_refiring_alert_reopens_resolved_and_opens_new_after_close(serve: Serve) -> None:
    """Fire → open; resolved → resolved (auto_resolve); fire again → the same incident
    reopens; resolved, then closed by hand; fire again → a new incident."""
    fire = am_payload(am_alert("CardAuth", "f000000000000001"))
    done = am_payload(am_alert("CardAuth", "f000000000000001", status="resolved"))

    [key] = (await serve.post("/integrations/am", fire)).json()["opened"]
    serve.clock.now += timedelta(minutes=5)
    assert (await serve.post("/integrations/am", done)).json()["resolved"] == [key]
    assert (await serve.store.incidents.get(key)).state == "resolved"

    serve.clock.now += timedelta(minutes=5)
    answer = await serve.post("/integrations/am", fire)
    assert answer.json()["reopened"] == [key] and answer.json()["opened"] == []
    assert (await serve.store.incidents.get(key)).state == "in_progress"

    serve.clock.now += timedelta(minutes=5)
    assert (await serve.post("/integrations/am", done)).json()["resolved"] == [key]
    ops = IncidentOps(serve.store, serve.config, SYSTEM)
    await ops.transition(key, "close", serve.clock.now)
    assert (await serve.store.incidents.get(key)).state == "closed"

    serve.clock.now += timedelta(minutes=5)
    answer = await serve.post("/integrations/am", fire)
    [new_key] = answer.json()["opened"]
    assert new_key != key
    assert (await serve.store.incidents.get(key)).state == "closed"
    assert (await serve.store.incidents.get(new_key)).state == "new"


# -- Health and metrics ----------------------------------------------------------------


async def test_healthz_answers_json(serve: Serve) -> None:
    answer = await serve.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["status"] == "ok"
    assert set(answer.json()["pager"]) == {"last_tick", "last_error"}


async def test_metrics_count_received_alerts_and_refusals(serve: Serve) -> None:
    body = am_payload(
        am_alert("InstanceDown", "1000000000000001", instance="a:1"),
        am_alert("InstanceDown", "1000000000000002", instance="a:2"),
    )
    assert (await serve.post("/integrations/am", body)).status_code == 200
    assert (await serve.post("/integrations/am", body, token="wrong")).status_code == 401
    assert (await serve.post("/integrations/nope", body)).status_code == 401

    answer = await serve.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'opsdesk_alerts_received_total{integration="am"} 2.0' in text
    assert "opsdesk_requests_rejected_total" in text
    assert metric(text, "opsdesk_alerts_received_total", integration="am") == 2.0
    assert metric(text, "opsdesk_incidents_opened_total", integration="am") == 2.0
    rejected = "opsdesk_requests_rejected_total"
    assert metric(text, rejected, integration="am", status="401") == 1.0
    assert metric(text, rejected, integration="unknown", status="401") == 1.0


# -- A real Alertmanager in front ------------------------------------------------------


async def test_real_alertmanager_webhook_and_pagerduty_open_then_resolve(
    tmp_path: Path, secrets_env: None
) -> None:
    """A real Alertmanager sends one alert both to /integrations/am (bearer) and to
    /v2/enqueue (routing key): each opens an incident on its own integration's service;
    resolving the alert in Alertmanager resolves both."""
    labels = {"alertname": "OpsdeskE2EDiskFull", "instance": "db3:9100", "severity": "critical"}
    async with (
        serving(tmp_path, run_pager=True) as serve,
        running_alertmanager(
            tmp_path,
            webhook_url=f"{serve.url}/integrations/am",
            webhook_bearer=AM_TOKEN,
            pagerduty_url=f"{serve.url}/v2/enqueue",
            pagerduty_routing_key=PD_KEY,
            group_by=("alertname", "instance"),
        ) as am,
    ):
        await am.post_alerts([{"labels": labels, "annotations": {"summary": "disk full on db3"}}])

        async def by_source() -> dict[str, Incident]:
            return {i.source: i for i in await serve.incidents()}

        async def both_opened() -> bool:
            return {"alertmanager:am", "pagerduty:pd"} <= set(await by_source())

        await serve.wait_until(both_opened, "opened by both integrations")
        opened = await by_source()
        assert set(opened) == {"alertmanager:am", "pagerduty:pd"}, am.log()
        assert opened["alertmanager:am"].service == "payments"
        assert opened["alertmanager:am"].title == "disk full on db3"
        assert opened["alertmanager:am"].priority == "P1"  # severity label critical
        assert opened["pagerduty:pd"].service == "storage"
        assert opened["pagerduty:pd"].priority == "P2"  # Alertmanager always sends "error"

        await am.resolve(labels)

        async def both_resolved() -> bool:
            return all(i.state == "resolved" for i in (await by_source()).values())

        await serve.wait_until(both_resolved, "both resolved")
        assert len(await serve.incidents()) == 2


async def test_pagerduty_triggers_without_a_dedup_key_are_separate_and_answer_their_key(
    serve: Serve,
) -> None:
    """As PagerDuty: each keyless trigger is its own alert, and the 202 says its key so
    the sender can resolve it later."""
    first = (
        await serve.post("/v2/enqueue", pd_event("trigger", dedup_key=None), token=None)
    ).json()
    second = (
        await serve.post("/v2/enqueue", pd_event("trigger", dedup_key=None), token=None)
    ).json()
    assert first["dedup_key"] and second["dedup_key"] and first["dedup_key"] != second["dedup_key"]
    assert first["incidents"] != second["incidents"] and len(second["incidents"]) == 1
    resolve = pd_event("resolve", dedup_key=first["dedup_key"])
    assert (await serve.post("/v2/enqueue", resolve, token=None)).status_code == 202
    [key] = first["incidents"]
    assert (await serve.store.incidents.get(key)).state == "resolved"
