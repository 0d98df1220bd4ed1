"""The one place `opsdesk import` talks HTTP: page through a product's API and keep
every answer, so it can be parsed now or saved (`--save-dir`) and imported later.

- The token goes only to the base URL's own host: a `next` link to anywhere else is
  refused (a hostile or misconfigured server cannot make us send the token away), and
  the token is never part of a message.
- Each request times out; each answer is capped in size; a run is capped in pages.
- 429: wait what `Retry-After` (or the product's own header) says (seconds or an HTTP
  date) and try again, up to `ATTEMPTS` times, then stop with one line saying so; asked
  to wait longer than `MAX_WAIT`, stop at once and say for how long (a silent wait of an
  hour looks like a hang).
- 401/403: one line saying the token was refused, naming the environment variable.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from opsdesk.console.domain.imports.common import MemoryBundle, items
from opsdesk.console.domain.imports.model import Endpoint, Importer, Json, Window
from opsdesk.console.errors import OpsdeskError

TIMEOUT = 30.0
MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 2_000
ATTEMPTS = 5
MAX_WAIT = 60.0
HORIZON = timedelta(days=365)
"""How far ahead `{horizon}` in an endpoint's parameters reaches (overrides to import)."""
SAFE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


class FetchError(OpsdeskError):
    """The API could not be read: one line (exit 1)."""


async def fetch_bundle(
    importer: Importer,
    base_url: str,
    token: str,
    token_env: str,
    window: Window | None,
    now: datetime,
    *,
    request_timeout: float = TIMEOUT,
) -> MemoryBundle:
    """Every endpoint of `importer`, every page, as a bundle. In an endpoint's parameters
    `{now}` and `{horizon}` (a year on) become those instants, ISO 8601 in UTC."""
    bundle = MemoryBundle()
    endpoints = list(importer.endpoints(window))
    by_key = {e.key: e for e in endpoints}
    reader = _Reader(base_url, importer.auth_headers(token), token_env, request_timeout, now)
    async with httpx.AsyncClient(timeout=request_timeout, follow_redirects=False) as client:
        reader.client = client
        for endpoint in endpoints:
            if not endpoint.each:
                bundle.saved[endpoint.key] = await reader.pages(endpoint, endpoint.path)
                continue
            parent = by_key[endpoint.each]
            for item in items(bundle.pages(parent.key), parent.items_key, parent.key):
                item_id = item.get("id")
                if not isinstance(item_id, str | int) or not SAFE_ID.fullmatch(str(item_id)):
                    raise FetchError(f"{base_url}: {parent.key} has an id that is unsafe in a URL")
                path = endpoint.path.replace("{id}", str(item_id))
                bundle.saved[f"{endpoint.key}/{item_id}"] = await reader.pages(endpoint, path)
    return bundle


class _Reader:
    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        token_env: str,
        timeout: float,
        now: datetime,
    ) -> None:
        self.now = now
        self.base = base_url.rstrip("/")
        self.origin = _origin(base_url)
        self.headers = dict(headers)
        self.token_env = token_env
        self.timeout = timeout
        self.count = 0
        self.client: httpx.AsyncClient | None = None

    async def pages(self, endpoint: Endpoint, path: str) -> list[Json]:
        url: str | None = self.base + path
        params: dict[str, Any] = {
            key: value.replace("{now}", _iso(self.now)).replace(
                "{horizon}", _iso(self.now + HORIZON)
            )
            for key, value in endpoint.params.items()
        }
        offset = 0
        found: list[Json] = []
        while url is not None:
            if endpoint.pagination == "offset":
                params.update(offset=offset, limit=endpoint.limit)
            page = await self.get(url, params)
            found.append(page)
            url = None
            if endpoint.pagination == "next_url":
                following = _dotted(page, endpoint.next_key)
                if isinstance(following, str) and following:
                    url = urljoin(self.base + "/", following)
                    if _origin(url) != self.origin:
                        raise FetchError(
                            f"{self.base}: a next-page link points to another host "
                            f"({_origin(url)}); not following it with the token"
                        )
                    params = {}  # the link carries its own query
            elif endpoint.pagination == "offset" and isinstance(page, dict) and page.get("more"):
                listed = page.get(endpoint.items_key)
                got = len(listed) if isinstance(listed, list) else 0
                if got:  # by what came: a server may give fewer than `limit` asked for
                    offset += got
                    url = self.base + path
        return found

    async def get(self, url: str, params: Mapping[str, Any]) -> Json:
        assert self.client is not None
        self.count += 1
        if self.count > MAX_PAGES:
            raise FetchError(f"{self.base}: more than {MAX_PAGES} pages; stopped")
        shown = urlsplit(url).path
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = await self.client.get(url, params=params or None, headers=self.headers)
            except httpx.TimeoutException:
                raise FetchError(f"{self.base}{shown}: no answer in {self.timeout:g}s") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{self.base}: cannot connect ({type(exc).__name__})") from None
            if response.status_code == 429:
                wait = _retry_after(_wait_header(response.headers))
                if wait > MAX_WAIT:  # waiting that long in silence would look like a hang
                    raise FetchError(
                        f"{self.base}{shown}: rate limited (HTTP 429) for {wait:.0f}s, longer"
                        f" than the import waits ({MAX_WAIT:.0f}s); run it again after that"
                    )
                if attempt == ATTEMPTS:
                    raise FetchError(
                        f"{self.base}{shown}: still rate limited (HTTP 429) after {ATTEMPTS} "
                        "tries; wait a while and run the import again"
                    )
                await asyncio.sleep(wait)
                continue
            if response.status_code in (401, 403):
                raise FetchError(
                    f"{self.base}{shown}: the token in ${self.token_env} was refused "
                    f"(HTTP {response.status_code}); check it and its permissions"
                )
            if response.status_code >= 400:
                raise FetchError(f"{self.base}{shown}: HTTP {response.status_code}")
            if len(response.content) > MAX_BYTES:
                raise FetchError(f"{self.base}{shown}: answer over {MAX_BYTES} bytes")
            try:
                return json.loads(response.content)
            except ValueError:
                raise FetchError(f"{self.base}{shown}: the answer is not JSON") from None
        raise AssertionError("unreachable")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _dotted(page: Json, key: str) -> Json:
    for part in key.split("."):
        if not isinstance(page, dict):
            return None
        page = page.get(part)
    return page


WAIT_HEADERS = ("Retry-After", "RateLimit-Reset", "X-RateLimit-Period-In-Sec")
"""Where a 429 says how long to wait: the standard header, then PagerDuty's and
Opsgenie's own (both in seconds)."""


def _wait_header(headers: httpx.Headers) -> str | None:
    return next((headers[name] for name in WAIT_HEADERS if name in headers), None)


def _retry_after(value: str | None) -> float:
    """Seconds to wait: `Retry-After` as seconds or an HTTP date (1s when absent); the
    caller stops rather than wait more than MAX_WAIT."""
    if value is None:
        return 1.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
