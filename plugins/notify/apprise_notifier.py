"""The apprise channel: one address reaches any of the ~100 services Apprise speaks
(Telegram, Matrix, Teams, Pushover, ...), for teams whose pager is none of the others.

Apprise is optional (`pip install opsdesk[apprise]`), so it is imported when a page is
sent, not when notifiers are listed. Its API blocks, so it runs in a worker thread. The
address (`tgram://<bot token>/<chat>`) is a secret: no error line repeats it. The body
is declared plain text, so Apprise escapes it for services that want HTML or Markdown.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

import httpx

from opsdesk.plugins.notify.api import (
    Message,
    NotifyError,
    Recipient,
    clean,
    is_web_url,
    subject_line,
)

MAX_BODY = 10_000


class AppriseNotifier:
    """Any Apprise URL (Telegram, Matrix, Teams, ...); needs `opsdesk[apprise]`."""

    name: ClassVar[str] = "apprise"

    async def send(
        self,
        message: Message,
        recipient: Recipient,
        settings: Mapping[str, Any],
        client: httpx.AsyncClient,
    ) -> str:
        try:
            apprise = importlib.import_module("apprise")
        except ImportError:
            raise NotifyError(
                "the apprise notifier needs `pip install opsdesk[apprise]`", retry=False
            ) from None
        timeout = settings.get("timeout")
        return await asyncio.to_thread(
            _notify, apprise, message, recipient.address.strip(), float(timeout or 0)
        )


def _notify(apprise: ModuleType, message: Message, url: str, timeout: float) -> str:
    """Runs in a thread: add the one service, send, and say how it went."""
    service = apprise.Apprise()
    if not url or not service.add(url):
        scheme = url.partition("://")[0] if "://" in url else ""
        known = f" ({clean(scheme, 20)}://)" if scheme.isalnum() else ""
        raise NotifyError(f"Apprise does not understand the address{known}", retry=False)
    high = message.urgency == "high"
    options: dict[str, Any] = {
        "title": subject_line(message),
        "body": _body(message),
        "notify_type": apprise.NotifyType.FAILURE if high else apprise.NotifyType.WARNING,
        "body_format": apprise.NotifyFormat.TEXT,
    }
    if timeout and "timeout" in inspect.signature(service.notify).parameters:
        options["timeout"] = timeout  # Apprise 2 bounds the whole call; 1.x has no such knob
    try:
        delivered = bool(service.notify(**options))
    except Exception as exc:  # a service plugin is third-party code: one line, no URL
        raise NotifyError(f"Apprise failed: {type(exc).__name__}", retry=True) from None
    if not delivered:
        raise NotifyError("Apprise could not deliver it (its log says why)", retry=True)
    return f"delivered by Apprise ({service[0].service_name})"


def _body(message: Message) -> str:
    lines = [clean(message.body, MAX_BODY).strip() or subject_line(message)]
    if is_web_url(message.ack_url):
        lines.append(f"Acknowledge: {message.ack_url}")
    if is_web_url(message.incident_url):
        lines.append(f"Incident: {message.incident_url}")
    return "\n\n".join(lines)
