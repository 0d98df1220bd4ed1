"""A real HTTP server on 127.0.0.1 that serves an on-call product's API the way the real
one pages it, for `opsdesk import` tests: Grafana OnCall (and Opsgenie's `paging.next`)
hand out the next page's full URL, PagerDuty pages with `offset`/`limit`/`more`.

Modes: `token` (the exact `Authorization` header it accepts; anything else is a 401),
`throttle` (that many requests answered 429 with `Retry-After: retry_after` first).
Tests add data only: `server.collection(path, items, style=..., ...)` or
`server.document(path, body)`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

Style = Literal["next_url", "offset", "document"]


@dataclass
class Collection:
    items: list[Any]
    style: Style = "next_url"
    items_key: str = "results"
    next_key: str = "next"
    """Dotted: `next` (OnCall), `paging.next` (Opsgenie)."""
    page_size: int = 2
    envelope: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    """For `document`: the whole answer."""


@dataclass
class ApiServer:
    base: str
    token: str = ""
    throttle: int = 0
    retry_after: str = "0"
    routes: dict[str, Collection] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    throttled: int = 0

    def collection(self, path: str, items: list[Any], **options: Any) -> None:
        self.routes[path] = Collection(list(items), **options)

    def document(self, path: str, body: Any) -> None:
        self.routes[path] = Collection([], style="document", body=body)

    def page(self, path: str, query: dict[str, list[str]]) -> Any:
        route = self.routes[path]
        if route.style == "document":
            return route.body
        if route.style == "offset":
            offset = int(query.get("offset", ["0"])[0])
            limit = min(int(query.get("limit", [str(route.page_size)])[0]), route.page_size)
            chunk = route.items[offset : offset + limit]
            more = offset + limit < len(route.items)
            return {**route.envelope, route.items_key: chunk, "offset": offset,
                    "limit": limit, "more": more, "total": None}  # fmt: skip
        number = int(query.get("page", ["1"])[0])
        size = route.page_size
        chunk = route.items[(number - 1) * size : number * size]
        following = None
        if number * size < len(route.items):
            rest = {k: v[0] for k, v in query.items() if k != "page"}
            following = f"{self.base}{path}?{urlencode({**rest, 'page': number + 1})}"
        body: dict[str, Any] = {**route.envelope, route.items_key: chunk}
        node = body
        *parents, last = route.next_key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = following
        return body


@contextmanager
def api_server(token: str = "") -> Iterator[ApiServer]:
    state = ApiServer("", token=token)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with lock:
                state.requests.append(self.path)
                state.authorizations.append(self.headers.get("Authorization"))
                throttled = state.throttle > 0
                if throttled:
                    state.throttle -= 1
                    state.throttled += 1
            if throttled:
                self.answer(429, {"message": "rate limited"}, {"Retry-After": state.retry_after})
                return
            if state.token and self.headers.get("Authorization") != state.token:
                self.answer(401, {"detail": "Invalid token."})
                return
            if parts.path not in state.routes:
                self.answer(404, {"detail": "Not found."})
                return
            self.answer(200, state.page(parts.path, parse_qs(parts.query)))

        def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
