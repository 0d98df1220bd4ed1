"""The delivery worker: sends what the outbox holds through the notifier plugins.

It claims due notifications with a lease (so several `opsdesk serve` processes share the
work, and a worker killed mid-send leaves rows another one picks up after the lease:
sent at most once more, never lost), sends each through the notifier its method names,
and records delivered with the notifier's receipt, or a failure with the reason: retried
with backoff, then failed for good after `notify.attempts`, which also goes on the
incident's timeline. Secrets (SMTP password, ntfy token) are read from the environment
here, at send time, and handed only to their channel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from opsdesk.console.config.model import Config
from opsdesk.console.domain.text import one_line
from opsdesk.plugins.notify.api import Message, NotifyError, Recipient
from opsdesk.plugins.notify.registry import NotifierInfo, notifiers
from opsdesk.store import Store
from opsdesk.store.records import Notification

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(minutes=15)
CONCURRENCY = 16
LEASE_MARGIN = timedelta(seconds=5)  # a claim outlives the longest send (2 × timeout) by this


@dataclass(frozen=True)
class Sent:
    """What one attempt came to, for the log and the metrics."""

    notification: Notification
    ok: bool
    detail: str  # the receipt, or the reason it failed
    final: bool  # delivered, or failed for good
    seconds: float  # how long the send took


def retry_at(attempts: int, now: datetime) -> datetime:
    """Backoff: 30 s after the first failed try, doubling, at most 15 minutes."""
    wait = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return now + min(wait, LONGEST_RETRY)


def channel_settings(config: Config, method: str) -> dict[str, Any]:
    """A channel's settings with its secrets read from the environment now."""
    timeout = config.notify.timeout.total_seconds()
    if method == "email":
        email = config.notify.email
        settings = dataclasses.asdict(email)
        settings["password"] = os.environ.get(email.password_env, "") if email.password_env else ""
        settings.pop("password_env")
    elif method == "ntfy":
        ntfy = config.notify.ntfy
        settings = {"server": ntfy.server}
        settings["token"] = os.environ.get(ntfy.token_env, "") if ntfy.token_env else ""
    else:
        settings = dict(config.notify.options.get(method, {}))
    settings["timeout"] = timeout
    return settings


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        owner: str,
        link_for: Callable[[Notification, datetime], str | None],
        clock: Callable[[], datetime],
        found: Mapping[str, NotifierInfo] | None = None,
        on_sent: Callable[[Sent], None] | None = None,
    ) -> None:
        self.store, self.config, self.owner = store, config, owner
        self.link_for, self.clock = link_for, clock
        self._found = found
        self.on_sent = on_sent
        timeout = config.notify.timeout.total_seconds()
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": "opsdesk pager"},
        )
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def found(self) -> Mapping[str, NotifierInfo]:
        if self._found is None:
            self._found = notifiers()
        return self._found

    async def run_once(self) -> list[Sent]:
        """Claim what is due now and send it; what each attempt came to."""
        now = self.clock()
        lease = now + self.config.notify.timeout * 2 + LEASE_MARGIN
        claimed = await self.store.notifications.claim(self.owner, now, lease)
        if not claimed:
            return []
        return list(await asyncio.gather(*(self._send(n) for n in claimed)))

    async def _message(self, n: Notification, now: datetime) -> Message:
        priority = service = None
        if n.incident_key is not None:
            incident = await self.store.incidents.get(n.incident_key)
            priority, service = incident.priority, incident.service
        return Message(
            notification_id=n.id,
            incident_key=n.incident_key,
            priority=priority,
            urgency="high" if n.urgency == "high" else "low",
            title=n.title,
            body=n.body,
            service=service,
            ack_url=self.link_for(n, now),
        )

    async def _send(self, n: Notification) -> Sent:
        async with self._limit:
            started = time.monotonic()
            now = self.clock()
            info = self.found.get(n.method)
            try:
                if info is None or info.notifier is None:
                    why = info.error if info else "not installed"
                    raise NotifyError(f"no notifier {n.method!r} ({why})", retry=False)
                message = await self._message(n, now)
                recipient = Recipient(n.login, self._name(n.login), n.address)
                receipt = await asyncio.wait_for(
                    info.notifier.send(
                        message, recipient, channel_settings(self.config, n.method), self.client
                    ),
                    self.config.notify.timeout.total_seconds() * 2,
                )
            except NotifyError as exc:
                return await self._failed(n, str(exc), exc.retry, started)
            except TimeoutError:
                return await self._failed(n, "no answer in time", True, started)
            except Exception as exc:  # a notifier is someone else's code: record, carry on
                return await self._failed(
                    n, f"the {n.method} notifier failed: {exc!r}", True, started
                )
            done = self.clock()
            receipt = one_line(str(receipt), limit=300)
            await self.store.notifications.delivered(n.id, self.owner, receipt, done)
            return self._report(Sent(n, True, receipt, True, time.monotonic() - started))

    async def _failed(self, n: Notification, reason: str, retry: bool, started: float) -> Sent:
        reason = one_line(reason, limit=300) or "failed"
        now = self.clock()
        again = retry and n.attempts < self.config.notify.attempts
        await self.store.notifications.attempt_failed(
            n.id, self.owner, reason, now, retry_at(n.attempts, now) if again else None
        )
        return self._report(Sent(n, False, reason, not again, time.monotonic() - started))

    def _report(self, sent: Sent) -> Sent:
        if self.on_sent is not None:
            self.on_sent(sent)
        return sent

    def _name(self, login: str) -> str:
        person = self.config.person(login)
        return person.name if person and person.name else login
