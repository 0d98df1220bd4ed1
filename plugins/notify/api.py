"""The notifier API: what a channel (email, ntfy, a webhook, your own) is given and returns.

A notifier turns one `Message` for one `Recipient` into one delivery attempt. It never
touches the store or the UI: the delivery worker (console/ops/delivery.py) claims the
notification, calls `send`, and records what it returned or raised. Text in a Message
comes from alerts and tickets: untrusted. A notifier escapes it for its medium (HTML,
Slack mrkdwn, mail headers) and never lets it choose where the message goes.

Register a notifier in your package's pyproject:

    [project.entry-points."opsdesk.notifiers"]
    pager = "my_package.pager:PagerNotifier"

and people reach it with `contacts = { pager = "<address>" }`; settings come from
`[notify.options.pager]` as a plain dict.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

import httpx

from opsdesk.plugins.api import transport_problem

MAX_ANSWER = 4096
"""How much of a server's answer `post_json` reads: enough for an id or an error line."""


class NotifyError(Exception):
    """The attempt failed; the message says why in one line (no secrets). `retry`: a
    later attempt may succeed (a timeout, a 5xx); False for a refusal that will not
    change (an unknown address, a 4xx)."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


@dataclass(frozen=True)
class Message:
    """One page. `ack_url` is a signed link: GET shows a confirm page, POST acknowledges
    (None when there is nothing to acknowledge: a test, a page without an incident)."""

    notification_id: int
    incident_key: str | None  # "INC-12"
    priority: str | None  # "P1"
    urgency: Literal["high", "low"]
    title: str  # the incident's title or the page's message (untrusted)
    body: str  # plain text, several lines (untrusted parts included)
    service: str | None = None
    ack_url: str | None = None
    incident_url: str | None = None


@dataclass(frozen=True)
class Recipient:
    login: str
    name: str
    address: str  # an email address, an ntfy topic, a URL, ...: what the method needs


class Notifier(Protocol):
    """A channel. `name` is the method people's rules name (`email`, `ntfy`, ...)."""

    name: ClassVar[str]

    async def send(
        self,
        message: Message,
        recipient: Recipient,
        settings: Mapping[str, Any],
        client: httpx.AsyncClient,
    ) -> str:
        """Deliver once; return a short receipt for the log ("250 queued as 4F2", "HTTP 200"),
        or raise NotifyError. `settings`: the channel's config with secrets already read
        from their environment variables; `client`: a shared httpx client (timeouts set)."""
        ...


def subject_line(message: Message) -> str:
    """`[P1] INC-12: title` (or just the title): one line, for subjects and titles, without
    control characters or bidi overrides (the title is untrusted)."""
    words = " ".join(clean(message.title).split())
    head = " ".join(
        p
        for p in (f"[{message.priority}]" if message.priority else "", message.incident_key or "")
        if p
    )
    line = f"{head}: {words}" if head else words
    return line[:200]


# C0 controls except \t and \n, DEL, C1 controls and the bidi overrides/isolates that make
# a line read differently from what it holds (the console's own cleaner lives above the
# plugins layer, so the few lines are repeated here).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # a whole colour/cursor sequence, not just its ESC


def clean(text: str, limit: int | None = None) -> str:
    """Untrusted text made safe to hand to another program: line breaks become "\\n", other
    control characters and bidi overrides go, and it is capped at `limit` characters."""
    text = _CSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _UNSAFE.sub("", text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and its escaped repr) replaced: an error line goes to the
    log and the store, a token or password must not."""
    for secret in secrets:
        for form in {secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]}:
            if len(form) >= 4:
                text = text.replace(form, "[redacted]")
    return text


def is_web_url(url: str | None) -> bool:
    """An absolute http(s) URL with a host: the only kind a notifier posts to or links."""
    if not url:
        return False
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # at most MAX_ANSWER bytes; b"" when the answer was compressed


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    payload: Any,
    *,
    who: str,
    headers: Mapping[str, str] | None = None,
    seconds: float | None = None,
) -> Answer:
    """POST `payload` as JSON to `url` and return the (2xx) answer, or raise NotifyError
    with one line naming `who` ("ntfy", "the webhook").

    Redirects are not followed: where a page goes is the config's choice, not the
    server's. A 5xx or 429 may pass (retry), any other status will not. Header values
    (tokens) never reach the error line. Only the start of the answer is read, and an
    uncompressed one is asked for, so a hostile server cannot make the worker inflate
    or buffer much. `seconds`, when given, replaces the client's timeout."""
    sent = {"Accept-Encoding": "identity", **(headers or {})}
    extra: dict[str, Any] = {} if seconds is None else {"timeout": seconds}
    try:
        async with client.stream(
            "POST", url, json=payload, headers=sent, follow_redirects=False, **extra
        ) as response:
            body = b""
            if response.headers.get("content-encoding", "identity").lower() == "identity":
                async for chunk in response.aiter_raw():
                    body += chunk
                    if len(body) >= MAX_ANSWER:
                        break
            body = body[:MAX_ANSWER]
    except httpx.TimeoutException:
        raise NotifyError(f"{who} did not answer in time") from None
    except httpx.HTTPError as exc:
        problem = redact(transport_problem(exc), (headers or {}).values())
        raise NotifyError(clean(f"cannot reach {who}: {problem}", 300).replace("\n", " ")) from None
    status = response.status_code
    if 200 <= status < 300:
        return Answer(status, body)
    if 300 <= status < 400:
        raise NotifyError(f"{who} answered HTTP {status}: a redirect, not followed", retry=False)
    reason = _reason(body) or response.reason_phrase or "no reason given"
    raise NotifyError(
        f"{who} answered HTTP {status}: {reason}", retry=status >= 500 or status in (408, 429)
    )


def _reason(body: bytes) -> str:
    """A short, single-line reason from an error answer: a JSON `error`/`message` field
    (ntfy, Mattermost), else the first line of a text answer (Slack's "invalid_payload")."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if isinstance(data.get(key), str) and data[key].strip():
                text = data[key]
                break
    elif text.lstrip().startswith("<"):  # an HTML error page: the status says it better
        return ""
    lines = clean(text, 120).strip().splitlines()
    return lines[0].strip() if lines else ""
