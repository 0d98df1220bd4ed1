"""A plain HTTP health check: expected status codes, optionally a body substring or a
JSON field with an expected value; slower than a threshold counts as degraded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opsdesk.plugins.api import (
    Adapter,
    Source,
    StatusReport,
    get_body,
    text,
)

if TYPE_CHECKING:  # the poller passes the client; loading the plugin needs no httpx
    import httpx


@dataclass
class HttpOptions:
    expect_status: list[int] = field(default_factory=lambda: [200])
    body_contains: str = ""
    json_field: str = ""
    """A dotted path into a JSON answer, e.g. "status.indicator"."""
    json_value: str = ""
    degraded_after_ms: float = 2000.0


class HttpAdapter(Adapter):
    name = "http"
    description = "HTTP health check (status code, body text or JSON field, latency)"
    Options = HttpOptions

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        options: HttpOptions = source.options
        fetched = await get_body(client, source, source.url, any_status=True)
        millis = fetched.seconds * 1000
        took = f"in {millis:.0f} ms"
        if fetched.status not in options.expect_status:
            return StatusReport(
                "major_outage", f"HTTP {fetched.status} {took}; expected {options.expect_status}"
            )
        body = fetched.body.decode("utf-8", "replace")
        if options.body_contains and options.body_contains not in body:
            return StatusReport(
                "major_outage", f"HTTP {fetched.status} {took} without the expected text"
            )
        if options.json_field:
            found = _field(body, options.json_field)
            if found != options.json_value:
                shown = "missing" if found is None else repr(text(found, 60))
                expected = f"expected {options.json_value!r}"
                return StatusReport("major_outage", f"{options.json_field} is {shown}, {expected}")
        if millis > options.degraded_after_ms:
            return StatusReport("degraded", f"HTTP {fetched.status} {took} (slow)")
        return StatusReport("operational", f"HTTP {fetched.status} {took}", link=source.url)


def _field(body: str, path: str) -> str | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) else json.dumps(value)
