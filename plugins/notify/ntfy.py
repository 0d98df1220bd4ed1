"""The ntfy channel: a push notification to a phone through an ntfy server.

It publishes with ntfy's JSON API (one POST to the server's root naming the topic)
rather than the header API: titles then travel as JSON strings, so no text of an alert
can become a header, and the Acknowledge button is a structured action. The body is
sent as plain text (no `markdown` flag), so untrusted text cannot format or link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from opsdesk.plugins.notify.api import (
    Message,
    NotifyError,
    Recipient,
    clean,
    is_web_url,
    post_json,
    subject_line,
)

DEFAULT_SERVER = "https://ntfy.sh"
MAX_MESSAGE_BYTES = 3500  # ntfy turns a message over 4096 bytes into an attachment
_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")


class NtfyNotifier:
    """ntfy push to a topic, with an Acknowledge button; `[notify.ntfy]`."""

    name: ClassVar[str] = "ntfy"

    async def send(
        self,
        message: Message,
        recipient: Recipient,
        settings: Mapping[str, Any],
        client: httpx.AsyncClient,
    ) -> str:
        topic = recipient.address.strip()
        if not _TOPIC.fullmatch(topic):
            raise NotifyError(
                f"not an ntfy topic (letters, digits, - and _, at most 64): {clean(topic, 80)!r}",
                retry=False,
            )
        server = str(settings.get("server") or DEFAULT_SERVER).strip()
        if not is_web_url(server):
            raise NotifyError(
                f"the ntfy server is not an http(s) URL: {clean(server, 80)!r}", retry=False
            )
        headers = {}
        token = str(settings.get("token") or "")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = settings.get("timeout")
        answer = await post_json(
            client,
            server.rstrip("/") + "/",
            payload(message, topic),
            who="ntfy",
            headers=headers,
            seconds=float(timeout) if timeout else None,
        )
        receipt = f"HTTP {answer.status}"
        try:
            published = json.loads(answer.body)
        except ValueError:
            return receipt
        if isinstance(published, dict) and isinstance(published.get("id"), str):
            receipt += f", ntfy id {clean(published['id'], 40)}"
        return receipt


def payload(message: Message, topic: str) -> dict[str, Any]:
    """The JSON ntfy publishes: urgent pages at priority 5 (they break through Do Not
    Disturb on the phone), others at 3; tapping opens the incident."""
    high = message.urgency == "high"
    body = _capped(clean(message.body), MAX_MESSAGE_BYTES)
    data: dict[str, Any] = {
        "topic": topic,
        "title": subject_line(message),
        "message": body or subject_line(message),
        "priority": 5 if high else 3,
        "tags": ["rotating_light" if high else "bell"],
    }
    if message.service:
        data["tags"].append(" ".join(clean(message.service, 64).split()))
    ack = message.ack_url if is_web_url(message.ack_url) else None
    click = message.incident_url if is_web_url(message.incident_url) else ack
    if click:
        data["click"] = click
    if ack:
        data["actions"] = [
            {"action": "http", "label": "Acknowledge", "url": ack, "method": "POST", "clear": True}
        ]
    return data


def _capped(text: str, limit: int) -> str:
    """`text` in at most `limit` UTF-8 bytes, cut on a character boundary, marked "…"."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"
