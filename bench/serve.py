"""`opsdesk serve` over real sockets: Alertmanager webhooks in (groups of 1 and of 50 new
alerts, and a group re-sent unchanged as Alertmanager does every group_interval), against
a floor (the same Starlette on uvicorn, same settings, whose endpoint only reads and
parses the body) driven by the same load generator with the same payloads in the same
run; and the time from an alert's 2xx to its page reaching a webhook receiver.

    python -m bench.serve [--quick] [--seconds 6] [--connections 4] [--pages 200]

`opsdesk serve` and the floor each run as their own process (`opsdesk serve --config X
--store Y`, a `python -c` uvicorn), so neither shares a loop with the load generator. The
person's webhook receiver is a small asyncio HTTP/1.1 server in this process. While the
throughput phases run, the pager inside `opsdesk serve` is paging every new incident at
the same time (as it would in life); after each phase the bench waits until every page
has arrived (`drain_s`) so phases do not overlap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit

TOKEN = "bench-t0ken"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

CONFIG = """
[[people]]
login = "ana"
webhook = "http://127.0.0.1:{hook}/hook"

[[services]]
name = "payments"

[[escalation_policies]]
service = "payments"
levels = [{{ person = "ana", after = "0m" }}]

[[integrations]]
name = "am"
kind = "alertmanager"
service = "payments"
secret_env = "AM_TOKEN"
rate_limit = 100000000
"""

# The floor: the same server library and settings as `opsdesk serve` (console/cli/paging.py),
# with an endpoint that reads the body, parses it and answers 200.
FLOOR = """
import json, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def take(request):
    payload = json.loads(await request.body())
    return JSONResponse({"status": "ok", "received": len(payload["alerts"])})

async def healthz(request):
    return JSONResponse({"status": "ok"})

app = Starlette(routes=[
    Route("/integrations/{name}", take, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
])
uvicorn.Server(uvicorn.Config(
    app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info", access_log=False,
    proxy_headers=True, server_header=False, lifespan="on",
)).run()
"""

ALERT = {
    "status": "firing",
    "labels": {
        "alertname": "InstanceDown",
        "instance": "host-@N@-@I@:9100",
        "job": "node",
        "severity": "critical",
    },
    "annotations": {
        "summary": "Instance host-@N@-@I@:9100 down",
        "description": "host-@N@-@I@:9100 of job node has been down for more than 1 minute.",
    },
    "startsAt": "2023-06-12T08:24:38.326Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
    "fingerprint": "@P@-@N@-@I@",
}


def template(size: int) -> bytes:
    """An Alertmanager v4 group of `size` firing alerts; `@N@` is the request's number,
    `@P@` the phase's prefix, so each request's alerts have fingerprints of their own."""
    alerts = [json.loads(json.dumps(ALERT).replace("@I@", str(i))) for i in range(size)]
    return json.dumps(
        {
            "receiver": "opsdesk",
            "status": "firing",
            "alerts": alerts,
            "groupLabels": {"alertname": "InstanceDown"},
            "commonLabels": {"alertname": "InstanceDown", "job": "node", "severity": "critical"},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "version": "4",
            "groupKey": '{}:{alertname="InstanceDown"}',
            "truncatedAlerts": 0,
        }
    ).encode()


def bodies(size: int, prefix: str, fixed: bool = False) -> Callable[[int], bytes]:
    """Request number → body; `fixed`: the same group every time (a re-send)."""
    base = template(size).replace(b"@P@", prefix.encode())
    if fixed:
        body = base.replace(b"@N@", b"0")
        return lambda n: body
    return lambda n: base.replace(b"@N@", str(n).encode())


class Receiver:
    """The person's webhook: notes when each incident's page arrives (perf_counter)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.server: asyncio.Server | None = None
        self.port = 0
        self.open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.open):
            writer.close()
        await self.server.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                assert length is not None, head
                body = await reader.readexactly(int(length.group(1)))
                when = time.perf_counter()
                key = json.loads(body)["opsdesk"]["incident"]
                self.arrived.setdefault(key, when)
                future = self.waiting.pop(key, None)
                if future is not None and not future.done():
                    future.set_result(when)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open.discard(writer)
            writer.close()

    def wait_for(self, key: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if key in self.arrived:
            future.set_result(self.arrived[key])
        else:
            self.waiting[key] = future
        return future

    async def drain(self, keys: list[str], within: float) -> float:
        """Seconds until every one of `keys` has had its page."""
        began = time.perf_counter()
        while any(k not in self.arrived for k in keys):
            if time.perf_counter() - began > within:
                missing = sum(k not in self.arrived for k in keys)
                raise RuntimeError(f"{missing} of {len(keys)} pages not received in {within}s")
            await asyncio.sleep(0.01)
        return time.perf_counter() - began


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def ready(client: httpx.AsyncClient, base: str, process: asyncio.subprocess.Process) -> None:
    for _ in range(600):
        if process.returncode is not None:
            raise RuntimeError(f"{base}: the server exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(f"{base}/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{base} did not come up")


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def drive(
    client: httpx.AsyncClient,
    url: str,
    make: Callable[[int], bytes],
    *,
    size: int,
    seconds: float,
    connections: int,
    warmup: int,
    first: int = 0,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """`connections` workers POST bodies back to back for `seconds` (after `warmup`
    requests not counted); the figures and every answer's JSON."""
    answers: list[dict[str, Any]] = []
    latencies: list[float] = []
    number = first

    def next_body() -> bytes:
        nonlocal number
        number += 1
        return make(number)

    async def post(body: bytes) -> float:
        began = time.perf_counter()
        answer = await client.post(url, content=body, headers=HEADERS)
        took = time.perf_counter() - began
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {answer.status_code} {answer.text[:300]}")
        answers.append(answer.json())
        return took

    for _ in range(warmup):
        await post(next_body())
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            latencies.append(await post(next_body()))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    wall = time.perf_counter() - began
    latencies.sort()
    figures = {
        "requests": len(latencies),
        "alerts_per_request": size,
        "requests_per_s": round(len(latencies) / wall, 1),
        "alerts_per_s": round(len(latencies) * size / wall, 1),
        "latency_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
    }
    return figures, answers


def opened(answers: list[dict[str, Any]]) -> list[str]:
    return [key for a in answers for key in a["opened"] + a["reopened"]]


async def pages(
    client: httpx.AsyncClient, url: str, receiver: Receiver, count: int, prefix: str
) -> dict[str, float]:
    """One alert at a time: its 2xx answer → its page at the receiver."""
    make = bodies(1, prefix)
    waits = []
    for n in range(count):
        answer = await client.post(url, content=make(n), headers=HEADERS)
        answered = time.perf_counter()
        if answer.status_code != 200:
            raise RuntimeError(f"HTTP {answer.status_code} {answer.text[:300]}")
        (key,) = answer.json()["opened"]
        arrived = await asyncio.wait_for(receiver.wait_for(key), 30)
        waits.append(max(0.0, arrived - answered))
    waits.sort()
    return {
        "pages": count,
        "p50_ms": round(statistics.median(waits) * 1000, 2),
        "p99_ms": round(percentile(waits, 0.99) * 1000, 2),
        "max_ms": round(waits[-1] * 1000, 2),
    }


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def metric(text: str, name: str) -> float:
    return sum(float(m.group(1)) for m in re.finditer(rf"(?m)^{name}\{{[^}}]*\}} (\S+)$", text))


async def start(*command: str, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, "AM_TOKEN": TOKEN},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


async def measure(seconds: float, connections: int, page_count: int) -> dict[str, Any]:
    receiver = Receiver()
    await receiver.start()
    ops_port, floor_port = free_port(), free_port()
    with tempfile.TemporaryDirectory() as folder:
        config, store = Path(folder) / "bench.toml", Path(folder) / "bench.db"
        config.write_text(CONFIG.format(hook=receiver.port))
        ops_log, floor_log = Path(folder) / "serve.log", Path(folder) / "floor.log"
        listen = f"127.0.0.1:{ops_port}"
        ops = await start(
            sys.executable, "-m", "opsdesk.console", "serve", "--config", str(config),
            "--store", str(store), "--listen", listen, log=ops_log,
        )  # fmt: skip
        floor = await start(sys.executable, "-c", FLOOR, str(floor_port), log=floor_log)
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        ops_base, floor_base = f"http://127.0.0.1:{ops_port}", f"http://127.0.0.1:{floor_port}"
        try:
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:
                await ready(client, ops_base, ops)
                await ready(client, floor_base, floor)
                return await _measure(
                    client, receiver, ops_base, floor_base, seconds, connections, page_count
                )
        except BaseException:
            sys.stderr.write(ops_log.read_text()[-3000:] + floor_log.read_text()[-1000:])
            raise
        finally:
            await asyncio.gather(stop(ops), stop(floor))
            await receiver.close()


async def _measure(
    client: httpx.AsyncClient,
    receiver: Receiver,
    ops_base: str,
    floor_base: str,
    seconds: float,
    connections: int,
    page_count: int,
) -> dict[str, Any]:
    ops_url, floor_url = f"{ops_base}/integrations/am", f"{floor_base}/integrations/am"
    common = {"seconds": seconds, "connections": connections}
    figures: dict[str, Any] = {}

    # Alert → page first, on a fresh store, then again once the throughput phases have
    # filled it with thousands of open incidents.
    figures["ack_to_notify"] = await pages(client, ops_url, receiver, page_count, "page")

    for size in (1, 50):
        floor, _ = await drive(
            client, floor_url, bodies(size, f"floor{size}"), size=size, warmup=20, **common
        )
        figures[f"floor_{size}"] = floor
        began = time.perf_counter()
        group, answers = await drive(
            client, ops_url, bodies(size, f"group{size}"), size=size, warmup=20, **common
        )
        keys = opened(answers)
        assert len(keys) == len(answers) * size, (len(keys), len(answers))
        # Pages go out while alerts come in; what is left is sent after the last answer.
        group["drain_s"] = round(await receiver.drain(keys, 300), 3)
        group["pages"] = len(keys)  # warm-up requests' alerts included
        last = max(receiver.arrived[k] for k in keys)
        group["pages_per_s"] = round(len(keys) / (last - began), 1)
        figures[f"group_{size}"] = group

    # The re-send: the same group of 50, already open, again and again: nothing changes.
    primed = await client.post(ops_url, content=bodies(50, "resend", True)(0), headers=HEADERS)
    keys = primed.json()["opened"]
    assert len(keys) == 50, primed.text
    await receiver.drain(keys, 60)
    resend, answers = await drive(
        client, ops_url, bodies(50, "resend", True), size=50, warmup=5, **common
    )
    assert all(a["unchanged"] == 50 and not a["opened"] for a in answers)
    figures["resend_50"] = resend

    figures["ack_to_notify_busy_store"] = await pages(client, ops_url, receiver, page_count, "busy")
    text = (await client.get(f"{ops_base}/metrics")).text
    figures["serve_metrics"] = {
        "notifications_sent": metric(text, "opsdesk_notifications_sent_total"),
        "notifications_failed": metric(text, "opsdesk_notifications_failed_total"),
        "requests_rejected": metric(text, "opsdesk_requests_rejected_total"),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--seconds", type=float, help="per throughput phase (default 6; 1.5 quick)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--pages", type=int, help="alerts timed to their page (200; 40 quick)")
    args = parser.parse_args()
    seconds = args.seconds or (1.5 if args.quick else 6.0)
    page_count = args.pages or (40 if args.quick else 200)
    began = time.perf_counter()
    figures = asyncio.run(measure(seconds, args.connections, page_count))
    ratio = {
        name: round(figures[name]["alerts_per_s"] / figures[floor]["alerts_per_s"], 3)
        for name, floor in (
            ("group_1", "floor_1"),
            ("group_50", "floor_50"),
            ("resend_50", "floor_50"),
        )
    }
    floor = {"group_1": figures.pop("floor_1"), "group_50": figures.pop("floor_50")}
    emit(
        {
            "benchmark": "serve",
            "quick": args.quick,
            "seconds_per_phase": seconds,
            "connections": args.connections,
            **figures,
            "floor": floor,
            "ratio_vs_floor": ratio,
            "machine": machine(),
            "wall_s": round(time.perf_counter() - began, 1),
        }
    )


if __name__ == "__main__":
    main()
