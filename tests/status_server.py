"""A real HTTP server on 127.0.0.1 that serves recorded status payloads, and the odd
behaviours of real endpoints (slow, silent, huge, redirect loops, ETags), for adapter and
poller tests."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "status"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    etag: str = ""
    location: str = ""
    drip: float = 0.0  # seconds between body bytes: a server that answers byte by byte


@dataclass
class StatusServer:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    server: ThreadingHTTPServer | None = None

    def wrap(self, context: ssl.SSLContext) -> None:
        """Speak TLS from now on (for certificate tests)."""
        assert self.server is not None
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def serve(self, path: str, fixture: str = "", **route: object) -> str:
        """Serve `fixture` (a file under tests/fixtures/status) or `body` at `path`."""
        if fixture:
            route.setdefault("body", (FIXTURES / fixture).read_bytes())
        self.routes[path] = Route(**route)  # type: ignore[arg-type]
        return self.base + path


@contextmanager
def status_server() -> Iterator[StatusServer]:
    state = StatusServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            state.authorizations.append(self.headers.get("Authorization"))
            state.headers.append(dict(self.headers.items()))
            route = state.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            time.sleep(route.delay)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            if route.location:
                self.send_header("Location", route.location)
            if route.etag:
                self.send_header("ETag", route.etag)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.drip:
                self.wfile.write(route.body)
                return
            for byte in route.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(route.drip)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    state.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
