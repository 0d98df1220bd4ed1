"""The webhook channel: a page POSTed as JSON to a URL, in the shape Slack and Mattermost
incoming webhooks accept (`text`), with the same facts as structured fields (`opsdesk`)
for anything else that reads it.

Chat markup is the hole here: in Slack `<!channel>` pings everyone and `<url|text>`
makes a link, in Mattermost `@channel` pings and `[text](url)` links. Untrusted text has
`& < >` escaped (Slack's own escaping, which Mattermost's Slack compatibility reads
too), and mentions and Markdown links broken with an invisible word joiner, so an alert
title can neither ping a channel nor dress up a link. Only the ack link is markup.
"""

from __future__ import annotations

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

MAX_TEXT = 3500
_JOINER = "\u2060"  # WORD JOINER: invisible, and ends a mention or a link's syntax
_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")  # "@channel", not "ops@example.com"
_MD_LINK = re.compile(r"\](?=\()")


class WebhookNotifier:
    """JSON POST that Slack and Mattermost incoming webhooks accept."""

    name: ClassVar[str] = "webhook"

    async def send(
        self,
        message: Message,
        recipient: Recipient,
        settings: Mapping[str, Any],
        client: httpx.AsyncClient,
    ) -> str:
        url = recipient.address.strip()
        if not is_web_url(url):
            # The URL is a secret (Slack's carries its token): name neither it nor its path.
            raise NotifyError("the webhook address is not an http(s) URL", retry=False)
        timeout = settings.get("timeout")
        answer = await post_json(
            client,
            url,
            payload(message),
            who="the webhook",
            seconds=float(timeout) if timeout else None,
        )
        return f"HTTP {answer.status}"


def escape(text: str) -> str:
    """Untrusted text for Slack mrkdwn / Mattermost Markdown: shown, never acted on."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MENTION.sub("@" + _JOINER, text)
    return _MD_LINK.sub("]" + _JOINER, text)


def payload(message: Message) -> dict[str, Any]:
    ack = message.ack_url if is_web_url(message.ack_url) else None
    incident = message.incident_url if is_web_url(message.incident_url) else None
    lines = [f"*{escape(subject_line(message))}*"]
    if message.service:
        lines.append(f"Service: {escape(' '.join(clean(message.service, 200).split()))}")
    body = clean(message.body, MAX_TEXT).strip()
    if body:
        lines.append(escape(body))
    links = []
    if ack:
        links.append(f"<{_link_target(ack)}|Acknowledge>")
    if incident:
        links.append(f"<{_link_target(incident)}|Open the incident>")
    if links:
        lines.append(" · ".join(links))
    return {
        "text": "\n".join(lines),
        "opsdesk": {
            "notification": message.notification_id,
            "incident": message.incident_key,
            "priority": message.priority,
            "urgency": message.urgency,
            "title": " ".join(clean(message.title, 500).split()),
            "service": message.service,
            "ack_url": ack,
            "incident_url": incident,
        },
    }


def _link_target(url: str) -> str:
    """A URL inside `<...|label>`: the characters that would end it are percent-encoded."""
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
