"""Poll rounds of N Statuspage sources on a local server (its own process) with realistic
latency, against a bare httpx + asyncio.gather of the same requests with the same limits
and timeouts, the JSON parsed (the floor), alternating in the same run: CPU seconds of
each (the figure: the round is CPU-bound) and wall seconds, medians over `--rounds` (and
the worst round, and the worst round's ratio to the floor run just before it); and
how late a timer ran on the awaiting loop meanwhile, which in the console is the loop
that reads the keys (the poller runs as the console runs it, on its own thread).

A second floor (`lanes_*`, `cpu_ratio_lanes`) makes the same requests in the poller's
arrangement, one single-connection client per lane of concurrency, which is most of
what the poller saves against the first (httpcore's bookkeeping over a shared pool):
opsdesk's own work is the poller's CPU beyond that one.

Every answer is the same recorded page, as a status page mostly is between two polls
(the poller then reuses the report it built from the same bytes); `--changing` makes
every answer differ (the page's `updated_at` moves on, as it does with every edit), so
every one is parsed and its report built (which comes out as the last one, so the
poller stores the same data without converting it again); `--changing-reports` also
renames a component in every answer, so every report is new and converted and stored
anew: the hard case.

    python -m bench.poll [--sources 500] [--latency-ms 80] [--rounds 5]
                         [--changing | --changing-reports]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit
from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import CONCURRENCY, MAX_REDIRECTS, Poller
from opsdesk.store import Actor, Store

PAYLOAD = (
    Path(__file__).parent.parent
    / "tests/fixtures/status/statuspage/github_summary_2020-04-02_major_incident.json"
).read_bytes()
UPDATED = b'"updated_at": "2020-04-02T20:37:08.838Z"'  # the page's: the first one
NAMED = b'"name": "Git Operations"'  # a component's
assert UPDATED in PAYLOAD
assert NAMED in PAYLOAD


def changed(n: int, report: bool = False) -> bytes:
    """The payload as the page would be after `n` more milliseconds of updates: as long
    as the recorded one, and different for every `n`; `report`: a component's name
    differs too, so the report made of it is new as well."""
    at = datetime(2020, 4, 2, 20, 37, 8, 838000, tzinfo=UTC) + timedelta(milliseconds=n)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03}Z"
    body = PAYLOAD.replace(UPDATED, f'"updated_at": "{stamp}"'.encode(), 1)
    return body.replace(NAMED, f'"name": "Git Operations {n:08}"'.encode(), 1) if report else body


async def serve(latency: float, changing: str = "") -> tuple[asyncio.Server, int]:
    """A small HTTP/1.1 server: every GET answers the recorded payload (`changing`: a
    different one each time, "reports": with a different report too) after a latency
    drawn around `latency` (keep-alive, so the client's pool is exercised as in life)."""
    answered = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(latency * random.uniform(0.5, 1.5))
                answered[0] += 1
                body = changed(answered[0], changing == "reports") if changing else PAYLOAD
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    return server, server.sockets[0].getsockname()[1]


async def loop_lag(stop: asyncio.Event, samples: list[float]) -> None:
    """How late a 10 ms timer fires on the loop that awaits the round: what a key press
    in the console would wait for."""
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(0.01)
        samples.append(time.perf_counter() - began - 0.01)


async def watched(work: Any) -> tuple[float, float, list[float]]:
    """Run `work()`; its CPU seconds (every thread of this process: the poller's, the
    store's), wall seconds, and the lateness of a timer on this loop meanwhile."""
    stop, lags = asyncio.Event(), []
    watcher = asyncio.create_task(loop_lag(stop, lags))
    await asyncio.sleep(0.02)
    cpu, wall = time.process_time(), time.perf_counter()
    await work()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stop.set()
    await watcher
    return cpu, wall, lags


def serve_forever(latency: float, ready: Any, changing: str = "") -> None:
    """In its own process, as a remote server would be: its work does not share our loop."""

    async def run() -> None:
        server, port = await serve(latency, changing)
        ready.put(port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


async def measure(
    sources: int, latency: float, rounds: int, on_loop: bool, changing: str = ""
) -> dict[str, float]:
    ready: Any = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=serve_forever, args=(latency, ready, changing), daemon=True
    )
    process.start()
    try:
        return await _measure(sources, ready.get(timeout=30), rounds, on_loop)
    finally:
        process.terminate()
        process.join(5)


async def _measure(sources: int, port: int, rounds: int, on_loop: bool) -> dict[str, float]:
    urls = [f"http://127.0.0.1:{port}/s{n}/api/v2/summary.json" for n in range(sources)]
    config = parse_text(
        "".join(
            f'[[sources]]\nname = "s{n}"\nplugin = "statuspage"\nurl = "{url}"\n'
            for n, url in enumerate(urls)
        ),
        "bench",
    )
    timeout = config.sources[0].timeout.total_seconds()
    # The floor: bare httpx + gather, with the poller's limits and timeouts (one client,
    # CONCURRENCY connections and requests in flight, the source's timeout for connect,
    # read, write and pool) and the JSON parsed, as the poller's adapter does.
    floor_client = httpx.AsyncClient(
        limits=httpx.Limits(max_connections=CONCURRENCY),
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
    )
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(url: str) -> Any:
        async with limit:
            answer = await floor_client.get(url)
            assert answer.status_code == 200
            return json.loads(answer.content)

    async def floor_round() -> None:
        answers = await asyncio.gather(*(one(url) for url in urls))
        assert all(a["page"] for a in answers)

    # The same floor in the poller's arrangement (the fair equal of its HTTP work): a
    # client of one connection per lane of CONCURRENCY, each request on a free lane,
    # which spares httpcore's pool its bookkeeping over many connections.
    lane_clients = [
        httpx.AsyncClient(
            limits=httpx.Limits(max_connections=1),
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
        )
        for _ in range(CONCURRENCY)
    ]
    free = list(lane_clients)

    async def one_on_a_lane(url: str) -> Any:
        async with limit:
            client = free.pop()
            try:
                answer = await client.get(url)
            finally:
                free.append(client)
            assert answer.status_code == 200
            return json.loads(answer.content)

    async def lanes_round() -> None:
        answers = await asyncio.gather(*(one_on_a_lane(url) for url in urls))
        assert all(a["page"] for a in answers)

    hour = [0]  # each poller round an hour later, so every source is due again
    base = datetime.now(UTC)

    def clock() -> datetime:
        return base + timedelta(hours=hour[0])

    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "poll.db") as store:
            # As the console polls: on the poller's own thread, loop and store connection.
            direct = Poller(store, config, Actor("bench"), clock)
            poller = direct if on_loop else direct.off_loop()
            polled: list[Any] = []

            async def poller_round() -> None:
                polled[:] = await poller.poll()

            works = (("floor", floor_round), ("lanes", lanes_round), ("poller", poller_round))
            try:
                for n in range(rounds + 1):  # round 0 warms them all (connections, imports)
                    for name, work in works:
                        hour[0] = n
                        cpu, wall, lags = await watched(work)
                        if name == "poller":
                            failed = [r for r in polled if r.error is not None]
                            assert not failed, failed[:3]
                            assert len(polled) == sources
                        if n:
                            figures.setdefault(f"{name}_cpu_s", []).append(cpu)
                            figures.setdefault(f"{name}_wall_s", []).append(wall)
                            figures.setdefault(f"{name}_lags", []).extend(lags)
            finally:
                await poller.close()
                await floor_client.aclose()
                for client in lane_clients:
                    await client.aclose()
            assert len(await store.statuses.all()) == sources
    out = {k: statistics.median(v) for k, v in figures.items() if not k.endswith("_lags")}
    for name in ("floor", "lanes", "poller"):
        out[f"{name}_cpu_worst_s"] = max(figures[f"{name}_cpu_s"])
    # Each round's poller against the floors run just before it: the worst of those.
    for floor, key in (("floor", "cpu_ratio_worst"), ("lanes", "cpu_ratio_lanes_worst")):
        pairs = zip(figures["poller_cpu_s"], figures[f"{floor}_cpu_s"], strict=True)
        out[key] = max(poller / floor for poller, floor in pairs)
    for name in ("floor", "poller"):
        lags = sorted(figures[f"{name}_lags"])
        out[f"{name}_input_lag_p50_ms"] = lags[len(lags) // 2] * 1000
        out[f"{name}_input_lag_p99_ms"] = lags[int(len(lags) * 0.99)] * 1000
        out[f"{name}_input_lag_max_ms"] = lags[-1] * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (medians)")
    parser.add_argument(
        "--on-loop", action="store_true", help="poll on the awaiting loop (the old way)"
    )
    parser.add_argument(
        "--changing", action="store_const", const="answers", default="",
        help="every answer differs (none is reused; the report made of it is the same)",
    )  # fmt: skip
    parser.add_argument(
        "--changing-reports", action="store_const", const="reports", dest="changing",
        help="every answer and the report made of it differ (nothing is reused)",
    )  # fmt: skip
    args = parser.parse_args()
    figures = asyncio.run(
        measure(args.sources, args.latency_ms / 1000, args.rounds, args.on_loop, args.changing)
    )
    emit(
        {
            "benchmark": "poll",
            "sources": args.sources,
            "latency_ms": args.latency_ms,
            "rounds": args.rounds,
            "poller_on": "the awaiting loop" if args.on_loop else "its own thread",
            "answers": {
                "": "the same every round",
                "answers": "all different (their reports the same)",
                "reports": "all different, and their reports",
            }[args.changing],
            **{k: round(v, 3) for k, v in figures.items()},
            "cpu_ratio": round(figures["poller_cpu_s"] / figures["floor_cpu_s"], 2),
            "cpu_ratio_lanes": round(figures["poller_cpu_s"] / figures["lanes_cpu_s"], 2),
            "wall_ratio": round(figures["poller_wall_s"] / figures["floor_wall_s"], 2),
        }
    )


if __name__ == "__main__":
    main()
