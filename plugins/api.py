"""The plugin contract: what a status adapter declares and what it returns.

An adapter is a class registered under the entry-point group `opsdesk.plugins` (the
built-ins in this package register the same way). It has a `name`, an `Options`
dataclass (checked when config loads, with the same one-line errors as the rest of the
config) and an async `fetch(client, source)` that reads one endpoint and returns a
normalized `StatusReport`. Adapters never touch the store or the UI: the poller decides
when to call them, keeps the last good report, and records errors.

Everything an adapter reads comes from outside: treat every enum as open (unknown values
become "unknown"), accept null, missing and [] alike, cap text, and raise `AdapterError`
with one line that says what was wrong. The HTTP helpers here cap the body size, speak
conditional requests (ETag / Last-Modified) and turn transport failures into that error.
"""

from __future__ import annotations

import json
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

import httpx

Level = Literal[
    "operational", "maintenance", "degraded", "partial_outage", "major_outage", "unknown"
]
LEVELS: tuple[Level, ...] = (
    "operational", "maintenance", "degraded", "partial_outage", "major_outage", "unknown",
)  # fmt: skip
_RANK = {level: rank for rank, level in enumerate(LEVELS[:-1])}
MAX_BODY = 5 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_TEXT = 2000
MAX_ITEMS = 500


class AdapterError(Exception):
    """A source could not be read or understood; the message is one line for people."""


class NotModified(Exception):
    """The source answered 304: the previous report still holds."""


@dataclass(frozen=True)
class Component:
    name: str
    level: Level
    group: str = ""


@dataclass(frozen=True)
class Incident:
    title: str
    impact: str = ""
    status: str = ""
    started: datetime | None = None
    last_update: str = ""
    link: str = ""


@dataclass(frozen=True)
class Maintenance:
    title: str
    start: datetime | None = None
    end: datetime | None = None
    status: str = ""


@dataclass(frozen=True)
class Alert:
    """A firing alert from monitoring (Alertmanager, Prometheus): what the queue can
    open an incident from, deduplicated by `fingerprint`."""

    fingerprint: str
    name: str
    level: Level
    severity: str = ""
    summary: str = ""
    started: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    suppressed: bool = False


@dataclass(frozen=True)
class StatusReport:
    level: Level
    summary: str
    components: tuple[Component, ...] = ()
    incidents: tuple[Incident, ...] = ()
    maintenances: tuple[Maintenance, ...] = ()
    alerts: tuple[Alert, ...] = ()
    link: str = ""


@dataclass(frozen=True)
class NoOptions:
    """For adapters that take no options of their own."""


@dataclass
class Source:
    """One configured endpoint as an adapter sees it. `headers` carry the token the
    config names (sent to this source only); `validators` is where the HTTP helpers keep
    ETag / Last-Modified between polls."""

    name: str
    url: str
    options: Any = field(default_factory=NoOptions)
    timeout: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)
    validators: dict[str, str] = field(default_factory=dict)
    max_body: int = MAX_BODY
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    """When this poll happens (the poller and tests set it): for adapters that judge
    how recent something is."""


class Adapter(ABC):
    """Subclass this, set `name`, `description` and (if it has options) `Options`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions

    @abstractmethod
    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        """Read `source` with `client` and say what state it is in."""


def worst(levels: Iterable[Level]) -> Level:
    """The most severe known level; "unknown" only when nothing else is known."""
    given = list(levels)
    known = [level for level in given if level in _RANK]
    if known:
        return max(known, key=_RANK.__getitem__)
    return "unknown" if given else "operational"


def text(value: object, limit: int = MAX_TEXT) -> str:
    """A string from untrusted data: non-strings become "", HTML tags and runs of space
    collapse, capped at `limit` characters. (Control characters are removed where text
    is shown; this keeps reports small and readable.)"""
    if not isinstance(value, str):
        return ""
    value = re.sub(r"<[^>]{0,200}>", " ", value)
    value = re.sub(r"\s+", " ", value).strip()
    return value[:limit]


def as_list(value: object) -> list[Any]:
    """null, missing and non-lists read as [], capped at MAX_ITEMS entries."""
    return value[:MAX_ITEMS] if isinstance(value, list) else []


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_time(value: object) -> datetime | None:
    """ISO 8601 with or without offset (none means UTC), RFC 822 ("Mon, 27 Dec 2021
    10:17:00 PST"), or None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: httpx.Headers
    body: bytes
    seconds: float


async def get_body(
    client: httpx.AsyncClient,
    source: Source,
    url: str,
    params: Any = None,
    *,
    any_status: bool = False,
) -> Fetched:
    """GET `url` for `source`: its headers, conditional-request validators, its timeout,
    the body read up to `source.max_body`. Raises NotModified on 304, AdapterError on a
    transport failure, an oversized body or (unless `any_status`) a status outside 2xx."""
    headers = dict(source.headers)
    if "etag" in source.validators:
        headers["If-None-Match"] = source.validators["etag"]
    if "last-modified" in source.validators:
        headers["If-Modified-Since"] = source.validators["last-modified"]
    began = time.perf_counter()
    target: httpx.URL | str = url
    try:
        for _ in range(MAX_REDIRECTS + 1):
            async with client.stream(
                "GET", target, params=params, headers=headers, timeout=source.timeout,
                follow_redirects=False,
            ) as response:  # fmt: skip
                following = response.next_request.url if response.next_request else None
                if response.is_redirect and following is not None:
                    if _origin(following) != _origin(response.url):
                        # httpx keeps custom headers (X-Api-Key: token) across hosts:
                        # the source's token never leaves the source's own origin.
                        headers = {}
                    target, params = following, None
                    continue
                if response.status_code == 304:
                    raise NotModified
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > source.max_body:
                        raise AdapterError(f"response larger than {source.max_body:,} bytes")
                    chunks.append(chunk)
                break
        else:
            raise AdapterError("too many redirects")
    except httpx.TimeoutException:
        raise AdapterError(f"no answer within {source.timeout:g} s") from None
    except httpx.HTTPError as exc:
        problem = _redacted(transport_problem(exc), source.headers)
        raise AdapterError(f"cannot reach it: {problem}"[:300]) from None
    if not any_status and not 200 <= response.status_code < 300:
        raise AdapterError(f"HTTP {response.status_code} {response.reason_phrase}"[:120])
    for name in ("etag", "last-modified"):
        if name in response.headers:
            source.validators[name] = response.headers[name]
    body = b"".join(chunks)
    return Fetched(response.status_code, response.headers, body, time.perf_counter() - began)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _redacted(text: str, headers: dict[str, str]) -> str:
    """`text` without any header value (or its escaped repr) in it: httpx quotes a header
    it refuses, and a token must not reach an error line, a log or the store."""
    for value in headers.values():
        for form in {value, repr(value)[1:-1], repr(value.encode())[2:-1]}:
            if len(form) >= 4:
                text = text.replace(form, "[redacted]")
    return text


def transport_problem(exc: httpx.HTTPError) -> str:
    """What went wrong on the wire, in words: httpx's messages are sometimes empty (a
    connection reset) and TLS failures hide behind ConnectError."""
    detail = str(exc).strip()
    if "SSL" in detail or "CERTIFICATE" in detail:
        return f"TLS failed: {detail}"
    if not detail or isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        closed = "the server closed the connection"
        return f"{closed} ({detail})" if detail else f"{closed} without answering"
    return f"{type(exc).__name__}: {detail}"


async def get_json(client: httpx.AsyncClient, source: Source, url: str, params: Any = None) -> Any:
    fetched = await get_body(client, source, url, params)
    try:
        return json.loads(fetched.body)
    except UnicodeDecodeError as exc:
        raise AdapterError(
            f"the answer is not UTF-8 (byte 0x{fetched.body[exc.start]:02x} at {exc.start:,})"
        ) from None
    except ValueError:
        raise AdapterError("the answer is not JSON") from None
