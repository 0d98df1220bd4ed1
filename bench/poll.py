"""One poll cycle of N Statuspage sources on a local server with realistic latency, against
a bare httpx + asyncio.gather of the same requests (the floor), measured in the same run;
plus how late the event loop (the console's input handling) ran during the cycle.

    python -m bench.poll [--sources 500] [--latency-ms 80]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit
from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store

PAYLOAD = (
    Path(__file__).parent.parent
    / "tests/fixtures/status/statuspage/github_summary_2020-04-02_major_incident.json"
).read_bytes()


async def serve(latency: float) -> tuple[asyncio.Server, int]:
    """A small HTTP/1.1 server: every GET answers the recorded payload after a latency
    drawn around `latency` (keep-alive, so the client's pool is exercised as in life)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(latency * random.uniform(0.5, 1.5))
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(PAYLOAD)}\r\n\r\n".encode()
                    + PAYLOAD
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    return server, server.sockets[0].getsockname()[1]


async def loop_lag(stop: asyncio.Event, samples: list[float]) -> None:
    """How late a 10 ms timer fires: what a keypress would wait for."""
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(0.01)
        samples.append(time.perf_counter() - began - 0.01)


def serve_forever(latency: float, ready: Any) -> None:
    """In its own process, as a remote server would be: its work does not share our loop."""

    async def run() -> None:
        server, port = await serve(latency)
        ready.put(port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


async def measure(sources: int, latency: float) -> dict[str, float]:
    ready: Any = multiprocessing.Queue()
    process = multiprocessing.Process(target=serve_forever, args=(latency, ready), daemon=True)
    process.start()
    try:
        return await _measure(sources, ready.get(timeout=30))
    finally:
        process.terminate()
        process.join(5)


async def _measure(sources: int, port: int) -> dict[str, float]:
    urls = [f"http://127.0.0.1:{port}/s{n}/api/v2/summary.json" for n in range(sources)]
    began = time.perf_counter()
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(*(client.get(url) for url in urls))
        assert all(a.status_code == 200 for a in answers)
    floor = time.perf_counter() - began

    config = parse_text(
        "".join(
            f'[[sources]]\nname = "s{n}"\nplugin = "statuspage"\nurl = "{url}"\n'
            for n, url in enumerate(urls)
        ),
        "bench",
    )
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "poll.db") as store:
            poller = Poller(store, config, Actor("bench"), lambda: datetime.now(UTC))
            stop, lags = asyncio.Event(), []
            watcher = asyncio.create_task(loop_lag(stop, lags))
            began = time.perf_counter()
            results = await poller.poll()
            wall = time.perf_counter() - began
            stop.set()
            await watcher
            await poller.close()
            states = await store.statuses.all()
    failed = [r for r in results if r.error is not None]
    assert not failed, failed[:3]
    assert len(results) == len(states) == sources
    lags.sort()
    return {
        "wall_s": wall,
        "floor_s": floor,
        "input_lag_p50_ms": lags[len(lags) // 2] * 1000,
        "input_lag_max_ms": lags[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.sources, args.latency_ms / 1000))
    emit(
        {
            "benchmark": "poll",
            "sources": args.sources,
            "latency_ms": args.latency_ms,
            **{k: round(v, 3) for k, v in figures.items()},
            "ratio": round(figures["wall_s"] / figures["floor_s"], 2),
        }
    )


if __name__ == "__main__":
    main()
