"""`opsdesk serve` killed (SIGKILL) while a page is on the wire: the page is not lost, and
is sent at most once more by the serve that comes back, once the dead one's claim runs out.
Real processes, a real store file, a real HTTP webhook stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opsdesk.store import Store

ALERT = {
    "version": "4", "status": "firing", "receiver": "opsdesk", "groupLabels": {},
    "alerts": [{"status": "firing", "fingerprint": "0123456789abcdef",
                "labels": {"alertname": "DiskFull", "severity": "critical"},
                "annotations": {"summary": "disk full"}}],
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Webhook:
    """Takes pages; the first one is held unanswered (the sender dies meanwhile)."""

    def __init__(self) -> None:
        self.got: list[dict[str, object]] = []
        self.changed = asyncio.Condition()
        self.release = asyncio.Event()

    async def endpoint(self, request: Request) -> Response:
        page = await request.json()
        async with self.changed:
            self.got.append(page)
            self.changed.notify_all()
        if len(self.got) == 1:
            await self.release.wait()
        return JSONResponse({})

    async def wait_for(self, count: int) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: len(self.got) >= count), 60)


@asynccontextmanager
async def webhook() -> AsyncIterator[tuple[Webhook, str]]:
    hook = Webhook()
    app = Starlette(routes=[Route("/ana", hook.endpoint, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    try:
        yield hook, f"http://127.0.0.1:{sock.getsockname()[1]}/ana"
    finally:
        hook.release.set()
        server.should_exit = True
        await task
        sock.close()


def start_serve(config: Path, store: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPSDESK_TEST_AM": "s3cret"}
    return subprocess.Popen(
        [sys.executable, "-m", "opsdesk.console", "--config", str(config), "--store", str(store),
         "serve", "--listen", f"127.0.0.1:{port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def ready(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until /healthz answers (an external process starting: a bounded poll)."""
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            assert process.poll() is None, "opsdesk serve exited"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("opsdesk serve did not start")


async def test_a_page_outlives_a_killed_serve_and_is_sent_at_most_once_more(
    tmp_path: Path,
) -> None:
    async with webhook() as (hook, url):
        config = tmp_path / "team.toml"
        config.write_text(f"""
[[people]]
login = "ana"
webhook = "{url}"
[[services]]
name = "payments"
[[escalation_policies]]
service = "payments"
levels = [{{ person = "ana", after = "0m" }}]
[notify]
timeout = "1s"
[serve]
tick = "1s"
[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "OPSDESK_TEST_AM"
""")
        store_path = tmp_path / "s.db"
        port = free_port()
        first = start_serve(config, store_path, port)
        try:
            await ready(port, first)
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"http://127.0.0.1:{port}/integrations/am", json=ALERT,
                    headers={"Authorization": "Bearer s3cret"},
                )  # fmt: skip
            assert answer.status_code == 200 and answer.json()["opened"] == ["INC-1"]
            await hook.wait_for(1)  # the page is on the wire...
            first.send_signal(signal.SIGKILL)  # ...and serve dies before hearing back
            first.wait()
        finally:
            if first.poll() is None:
                first.kill()
        async with await Store.open(store_path) as store:
            [n] = await store.notifications.list("INC-1")
            assert (n.state, n.attempts) == ("sending", 1)  # claimed, never recorded
        second = start_serve(config, store_path, port)
        try:
            await ready(port, second)
            await hook.wait_for(2)  # once the dead serve's claim ran out
            async with await Store.open(store_path) as store:
                for _ in range(200):  # the answer reaches the store just after the page
                    [n] = await store.notifications.list("INC-1")
                    if n.state != "sending":
                        break
                    await asyncio.sleep(0.05)
                assert (n.state, n.attempts) == ("delivered", 2)
        finally:
            second.terminate()
            second.wait()
        assert len(hook.got) == 2  # the one the killed serve sent, and exactly one more
        assert {p["opsdesk"]["incident"] for p in hook.got} == {"INC-1"}  # type: ignore[index]
