"""The plugin contract: what a status adapter declares and what it returns.

An adapter is a class registered under the entry-point group `opsdesk.plugins` (the
built-ins in this package register the same way). It has a `name`, an `Options`
dataclass (checked when config loads, with the same one-line errors as the rest of the
config) and an async `fetch(client, source)` that reads one endpoint and returns a
normalized `StatusReport`. Adapters never touch the store or the UI: the poller decides
when to call them, keeps the last good report, and records errors.

Everything an adapter reads comes from outside: treat every enum as open (unknown values
become "unknown"), accept null, missing and [] alike, cap text, and raise `AdapterError`
with one line that says what was wrong. The HTTP helpers here cap the body size (counted
after decompression, which is bounded by what is left of the cap, so a gzip bomb costs no
more than an honest body), speak conditional requests (ETag / Last-Modified) and turn
transport failures into that error.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:  # httpx is imported when a request is made: a command that reads the
    import httpx  # config (and so this module) never pays for it, nor for rich and click

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
INFLATE_STEP = 64 * 1024  # the most zlib may produce in one call, so one chunk cannot balloon
MAX_ENCODINGS = 3  # "Content-Encoding: gzip, gzip, ..." beyond this is refused


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
    memo: dict[str, Any] = field(default_factory=dict)
    """Kept by the poller between polls of this source, in memory only: where
    `get_report` remembers the last answer (its bytes, or a digest of a large one) and
    the report built from it."""


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
    if "<" in value:
        value = _TAG.sub(" ", value)
    return " ".join(value.split())[:limit]  # str.split's whitespace is re's \s


_TAG = re.compile(r"<[^>]{0,200}>")


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
        from email.utils import parsedate_to_datetime  # RFC 822 only: not at every start

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
    import httpx  # already loaded by whoever made `client`

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
                chunks = await _read_capped(response, source.max_body)
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
        value = response.headers.get(name)  # one scan of the headers, not two
        if value is not None:
            source.validators[name] = value
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)  # one chunk: no copy
    return Fetched(response.status_code, response.headers, body, time.perf_counter() - began)


async def _read_capped(response: httpx.Response, cap: int) -> list[bytes]:
    """The body of `response`, decoded, as chunks adding up to at most `cap` bytes.

    The raw bytes are read and decompressed here rather than by httpx, whose decoders
    inflate each network chunk whole: 64 KB of a gzip bomb become 64 MB before any cap
    can look at them. Here no zlib call may produce more than what is left of the cap
    (nor more than INFLATE_STEP), and the caller leaves its `async with`, closing the
    response, the moment the decoded size passes `cap`. The compressed size is held to
    `cap` too, so endless bytes after the end of a gzip stream are cut off as well."""
    decoders = _decoders(response.headers)
    too_big = f"response larger than {cap:,} bytes"
    inflated_too_big = too_big
    if decoders:
        codings = ", ".join(d.coding for d in reversed(decoders))
        inflated_too_big = f"{too_big} once decompressed ({codings})"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise AdapterError(f"{too_big} (Content-Length {int(declared):,})")
    chunks: list[bytes] = []
    raw = 0
    if not decoders:  # the usual answer: what arrives is the body, one cap for both
        async for chunk in response.aiter_raw():
            raw += len(chunk)
            if raw > cap:
                raise AdapterError(too_big)
            if chunk:
                chunks.append(chunk)
        return chunks
    body = _Budget(cap)
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > cap:
            raise AdapterError(too_big)
        for piece in _inflate(decoders, chunk, body):
            body.left -= len(piece)
            if body.left < 0:
                raise AdapterError(inflated_too_big)
            chunks.append(piece)
    return chunks


@dataclass
class _Budget:
    """How many more decoded bytes the body may have; one more is allowed out of zlib,
    so that passing the cap shows."""

    left: int

    def step(self) -> int:
        return max(1, min(self.left + 1, INFLATE_STEP))


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_UNREADABLE = ("br", "zstd", "compress", "x-compress")


class _Inflater:
    """One Content-Encoding (gzip or deflate) undone a bounded step at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._zlib = zlib.decompressobj(_WBITS[coding])
        # "deflate" is meant to be zlib-wrapped, but some servers send it raw: like
        # httpx, try the wrapped form first and fall back if the very start fails.
        self._may_fall_back = coding == "deflate"

    def inflate(self, data: bytes, budget: _Budget) -> Iterator[bytes]:
        """What `data` inflates to, in pieces no larger than `budget.step()` at the time
        each is made. Anything after the end of the stream is ignored, as httpx does."""
        pending = data
        while not self._zlib.eof:
            step = budget.step()
            try:
                out = self._zlib.decompress(pending, step)
            except zlib.error as exc:
                if self._may_fall_back:
                    self._may_fall_back = False
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise AdapterError(f"the {self.coding} body is corrupt ({exc})") from None
            self._may_fall_back = False
            pending = self._zlib.unconsumed_tail
            if out:
                yield out
            if not pending and len(out) < step:  # a full piece may leave output in zlib
                return


def _decoders(headers: httpx.Headers) -> list[_Inflater]:
    """Inflaters for the response's Content-Encoding, in the order to undo them (the
    coding applied last comes off first). Like httpx, codings it does not know are
    skipped, except compressions it cannot read, which are an error."""
    if "content-encoding" not in headers:  # most answers: no list to build
        return []
    codings = [c.strip().lower() for c in headers.get_list("content-encoding", split_commas=True)]
    unreadable = [c for c in codings if c in _UNREADABLE]
    if unreadable:
        raise AdapterError(f"the answer is compressed with {unreadable[0]}, which is not supported")
    known = [c for c in codings if c in _WBITS]
    if len(known) > MAX_ENCODINGS:
        raise AdapterError(
            f"the answer is compressed {len(known)} times over (at most {MAX_ENCODINGS})"
        )
    return [_Inflater(c) for c in reversed(known)]


def _inflate(decoders: list[_Inflater], data: bytes, budget: _Budget) -> Iterator[bytes]:
    """`data` through every decoder in turn, no piece larger than the budget allows."""
    if not decoders:
        if data:
            yield data
        return
    first, rest = decoders[0], decoders[1:]
    for piece in first.inflate(data, budget):
        yield from _inflate(rest, piece, budget)


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
    import httpx

    detail = str(exc).strip()
    if "SSL" in detail or "CERTIFICATE" in detail:
        return f"TLS failed: {detail}"
    if not detail or isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        closed = "the server closed the connection"
        return f"{closed} ({detail})" if detail else f"{closed} without answering"
    return f"{type(exc).__name__}: {detail}"


async def get_json(client: httpx.AsyncClient, source: Source, url: str, params: Any = None) -> Any:
    return parse_json((await get_body(client, source, url, params)).body)


def parse_json(body: bytes) -> Any:
    """`body` as JSON, or AdapterError saying why not."""
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise AdapterError(
            f"the answer is not UTF-8 (byte 0x{body[exc.start]:02x} at {exc.start:,})"
        ) from None
    except ValueError:
        raise AdapterError("the answer is not JSON") from None


async def get_report(
    client: httpx.AsyncClient, source: Source, url: str, build: Callable[[Any], StatusReport]
) -> StatusReport:
    """`build(await get_json(client, source, url))`, except when the answer is byte for
    byte the one `url` gave this source last time (kept in `source.memo`, see
    `_fingerprint`): then the report built from it is returned, without parsing or
    building again. Most polls of a status page find it as it was, and many pages send
    no validators for a 304; parsing and building a report anew were ~20 ms of a
    500-source round. A new answer whose report comes out identical to the last one (see
    `_identical`) hands back the last report object too, so the poller's conversion for
    the store is reused.
    Only for adapters whose report depends on nothing but the answer and what is fixed
    for the source (its url and options), not on `source.now`. A report is frozen, so
    sharing it is safe."""
    body = (await get_body(client, source, url)).body
    answer = (url, source.url, _fingerprint(body))
    memo = source.memo
    if memo.get("answer") == answer:
        report: StatusReport = memo["report"]
        return report
    report = build(parse_json(body))
    last = memo.get("report")
    if last is not None and _identical(report, last):
        # The answer changed only where the report does not look (a page's
        # `updated_at` moves on with every edit): the last report object stands, so the
        # poller does not convert and store the same data again.
        report = last
    memo["answer"], memo["report"] = answer, report
    return report


_EXACT = frozenset((str, int, float, bool, type(None)))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _identical(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are the same data down to what the store would write of them:
    equal and of the same types (1, 1.0 and True are equal, their JSON is not), dates at
    the same UTC offset (one instant prints differently at two offsets), items and keys
    in the same order. Anything else is not known to be the same: False."""
    if a is b:  # shared (an interned component, a constant): the same, whatever it is
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _EXACT:
        return bool(a == b)
    if kind is datetime:
        return bool(a == b and a.utcoffset() == b.utcoffset())
    if kind is tuple or kind is list:
        return len(a) == len(b) and all(map(_identical, a, b))
    if kind is dict:
        return len(a) == len(b) and all(map(_identical, a.items(), b.items()))
    names = _FIELDS.get(kind)
    if names is None:
        if not is_dataclass(a):
            return False
        names = _FIELDS[kind] = tuple(f.name for f in fields(a))
    return all(_identical(getattr(a, name), getattr(b, name)) for name in names)


MEMO_BYTES = 32 * 1024
"""Answers up to this size are remembered whole, larger ones by digest."""


def _fingerprint(body: bytes) -> tuple[str, bytes]:
    """What `get_report` remembers of an answer to know it again: a small one itself
    (comparing bytes is a memcmp, 20 times cheaper than hashing them, ~5 µs for a
    status page's summary), a larger one as a blake2b digest (memory stays bounded).
    Tagged, so that no answer can pass for the digest of another."""
    if len(body) <= MEMO_BYTES:
        return "bytes", body
    return "blake2b", hashlib.blake2b(body, digest_size=20).digest()
