"""Self-test of tests/alertmanager_server.py: a real Alertmanager delivers a posted alert,
then its resolution, to a tiny in-process receiver as an Alertmanager webhook (with the
bearer token) and as PagerDuty Events v2 events (with the routing key)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.alertmanager_server import running_alertmanager

TOKEN = "harness-token-7f3a"
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefabcdef"
WAIT = 30.0  # seconds for a delivery; Alertmanager usually takes well under 2 s
LABELS = {"alertname": "HarnessDiskFull", "severity": "critical", "service": "payments"}


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class Receiver:
    url: str
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_for(self, predicate: Callable[[Delivery], bool], what: str) -> Delivery:
        """The first delivery matching predicate, awaiting arrivals for up to WAIT s."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    self.arrived.clear()
                    for delivery in self.deliveries:
                        if predicate(delivery):
                            return delivery
                    await self.arrived.wait()
        except TimeoutError:
            got = [
                (d.path, d.body.get("status") or d.body.get("event_action"))
                for d in self.deliveries
            ]
            raise AssertionError(f"no {what} within {WAIT:.0f} s; got {got}") from None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    box = Receiver(f"http://127.0.0.1:{port}")

    async def record(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        box.deliveries.append(
            Delivery(request.url.path, dict(request.headers), body, time.monotonic())
        )
        box.arrived.set()
        if request.url.path.startswith("/pagerduty"):
            return JSONResponse(
                {
                    "status": "success",
                    "message": "Event processed",
                    "dedup_key": body.get("dedup_key"),
                },
                status_code=202,
            )
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/{rest:path}", record, methods=["POST"])])
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    async with asyncio.timeout(10):
        while not server.started:  # uvicorn exposes a flag, not an event
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
    try:
        yield box
    finally:
        server.should_exit = True
        await task
        listener.close()


def show(title: str, delivery: Delivery) -> None:
    print(f"\n=== {title} ({delivery.path}) ===")
    print("Authorization:", delivery.headers.get("authorization"))
    print("Content-Type:", delivery.headers.get("content-type"))
    print("User-Agent:", delivery.headers.get("user-agent"))
    print(json.dumps(delivery.body, indent=2, sort_keys=True))


async def test_alertmanager_delivers_webhook_and_pagerduty_then_resolved(
    receiver: Receiver, tmp_path: Path
) -> None:
    async with running_alertmanager(
        tmp_path,
        webhook_url=f"{receiver.url}/webhook",
        webhook_bearer=TOKEN,
        pagerduty_url=f"{receiver.url}/pagerduty/v2/enqueue",
        pagerduty_routing_key=ROUTING_KEY,
    ) as am:
        posted = time.monotonic()
        await am.post_alerts(
            [
                {
                    "labels": LABELS,
                    "annotations": {"summary": "disk 97% full", "runbook_url": "https://rb/disk"},
                    "generatorURL": "http://prometheus.example/graph?g0.expr=up",
                }
            ]
        )

        hook = await receiver.wait_for(
            lambda d: d.path == "/webhook" and d.body.get("status") == "firing", "firing webhook"
        )
        pd = await receiver.wait_for(
            lambda d: d.path.startswith("/pagerduty") and d.body.get("event_action") == "trigger",
            "PagerDuty trigger",
        )
        show(f"webhook firing after {hook.at - posted:.2f} s", hook)
        show(f"PagerDuty trigger after {pd.at - posted:.2f} s", pd)

        assert hook.headers["authorization"] == f"Bearer {TOKEN}"
        assert hook.body["version"] == "4"
        assert hook.body["receiver"] == "webhook"
        assert hook.body["externalURL"].startswith("http://")
        [alert] = hook.body["alerts"]
        assert alert["status"] == "firing"
        assert alert["labels"] == LABELS
        assert alert["annotations"]["summary"] == "disk 97% full"
        assert alert["endsAt"] == "0001-01-01T00:00:00Z"
        assert alert["generatorURL"] == "http://prometheus.example/graph?g0.expr=up"
        assert hook.body["groupLabels"] == {"alertname": "HarnessDiskFull"}
        assert hook.body["commonLabels"] == LABELS
        assert hook.body["truncatedAlerts"] == 0

        assert "authorization" not in pd.headers
        assert pd.body["routing_key"] == ROUTING_KEY
        assert pd.body["event_action"] == "trigger"
        assert pd.body["dedup_key"]
        assert pd.body["payload"]["summary"]
        assert pd.body["payload"]["custom_details"]["num_firing"] == "1"

        resolved_at = time.monotonic()
        await am.resolve(LABELS)

        done = await receiver.wait_for(
            lambda d: d.path == "/webhook" and d.body.get("status") == "resolved",
            "resolved webhook",
        )
        pd_done = await receiver.wait_for(
            lambda d: d.path.startswith("/pagerduty") and d.body.get("event_action") == "resolve",
            "PagerDuty resolve",
        )
        show(f"webhook resolved after {done.at - resolved_at:.2f} s", done)
        show(f"PagerDuty resolve after {pd_done.at - resolved_at:.2f} s", pd_done)

        [gone] = done.body["alerts"]
        assert gone["status"] == "resolved"
        assert gone["labels"] == LABELS
        assert gone["endsAt"] != "0001-01-01T00:00:00Z"
        assert gone["fingerprint"] == alert["fingerprint"]
        assert done.headers["authorization"] == f"Bearer {TOKEN}"
        assert pd_done.body["dedup_key"] == pd.body["dedup_key"]
        assert pd_done.body["routing_key"] == ROUTING_KEY
