"""The poller's lanes (one single-connection client per request in flight) against a real
HTTP server on 127.0.0.1: never more requests in flight than the concurrency allows,
every source polled once a round, and the lanes' connections kept alive between rounds
rather than opened anew for every request."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store
from tests.status_server import FIXTURES
from tests.test_poller import Clock

BODY = (FIXTURES / "statuspage/github_summary_2019-12-30_operational.json").read_bytes()
LANES = 3
SOURCES = 12


class Server:
    """Answers each GET once `LANES` requests are in flight together (or after a second,
    if they never are), counting requests in flight and connections accepted."""

    def __init__(self) -> None:
        self.in_flight = self.most_in_flight = self.connections = 0
        self.paths: list[str] = []
        self.full = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.paths.append(head.split(b" ")[1].decode())
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                if self.in_flight >= LANES:
                    self.full.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.full.wait(), 1)
                self.in_flight -= 1
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
                    + BODY
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_lanes_cap_requests_in_flight_and_keep_their_connections(tmp_path: Path) -> None:
    served = Server()
    server = await asyncio.start_server(served.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = parse_text(
        "".join(
            f'[[sources]]\nname = "s{n}"\nplugin = "statuspage"\n'
            f'url = "http://127.0.0.1:{port}/s{n}"\ninterval = "1m"\ntimeout = "5s"\n'
            for n in range(SOURCES)
        ),
        "team",
    )
    clock = Clock()
    async with server, await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, Actor("ana"), clock, concurrency=LANES)
        try:
            for _ in range(2):
                results = await poller.poll()
                assert [r.error for r in results] == [None] * SOURCES
                assert {r.level for r in results} == {"operational"}
                clock.now += timedelta(minutes=1)
        finally:
            await poller.close()
    assert served.most_in_flight == LANES
    expected = [f"/s{n}/api/v2/summary.json" for n in range(SOURCES)]
    assert sorted(served.paths) == sorted(expected * 2)
    assert served.connections <= LANES  # kept alive, across both rounds
