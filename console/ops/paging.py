"""Paging use cases beyond escalation: acknowledging through a link, paging by hand,
sending a test, and the key that signs links.

Acknowledging through a link acts as the person the notification went to (their roles
from config), never as whoever runs `opsdesk serve`; the notification records the link
as spent in the same transaction, so a replayed link is refused.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsdesk.console.config.model import Config
from opsdesk.console.domain import ack_links
from opsdesk.console.domain.paging import Urgency, urgency_of
from opsdesk.console.domain.rotations import on_call_at
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.errors import ConfigError, InputError, OpsdeskError
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.incidents import IncidentOps, Refused
from opsdesk.console.ops.pager import LOOKBACK, describe, person_pages
from opsdesk.store import Actor, Store
from opsdesk.store.records import NewNotification, Notification

KEY_BYTES = 32


class LinkRefused(OpsdeskError):
    """An acknowledgement link that does not work: what the person is told, in one line."""


def load_key(path: Path) -> bytes:
    """The link-signing key at `path`, made (owner-only) on first use. One that others can
    read or write is refused: whoever holds it can acknowledge as anyone."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(KEY_BYTES) + "\n")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the link key: {exc.strerror}") from None
    with os.fdopen(fd) as key_file:
        info = os.fstat(key_file.fileno())
        if info.st_uid != os.geteuid():
            raise ConfigError(f"{path}: the link key belongs to someone else (uid {info.st_uid})")
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigError(
                f"{path}: the link key is open to others (mode {stat.S_IMODE(info.st_mode):o}); "
                f"chmod 600 {path}"
            )
        text = key_file.read(4096).strip()
    if len(text) < 32:
        raise ConfigError(f"{path}: the link key is too short (at least 32 characters)")
    return text.encode()


@dataclass(frozen=True)
class Acknowledged:
    incident_key: str
    login: str
    via: str


class PagingOps:
    def __init__(self, store: Store, config: Config, actor: Actor) -> None:
        self.store, self.config, self.actor = store, config, actor

    # Links ------------------------------------------------------------------------

    def link(self, key: bytes, base_url: str, n: Notification, now: datetime) -> str | None:
        """The signed acknowledgement link for a notification about an incident."""
        if n.incident_key is None:
            return None
        expires = now + self.config.serve.link_lifetime
        token = ack_links.sign(key, n.id, n.incident_key, n.login, expires)
        return f"{base_url.rstrip('/')}/ack/{token}"

    async def check_link(self, key: bytes, token: str, now: datetime) -> Notification:
        """The notification a link is for, if it is genuine, unexpired and unspent."""
        try:
            claim = ack_links.read(token)
        except ack_links.BadLink:
            raise LinkRefused("this link is not a valid acknowledgement link") from None
        n = await self.store.notifications.get(claim.notification_id)
        if n is None or n.incident_key is None:
            raise LinkRefused("this link is not a valid acknowledgement link")
        try:
            ack_links.verify(key, token, n.incident_key, n.login, now)
        except ack_links.BadLink as exc:
            if str(exc) == "expired":
                raise LinkRefused("this link has expired; acknowledge in opsdesk") from None
            raise LinkRefused("this link is not a valid acknowledgement link") from None
        if n.acknowledged_at is not None:
            raise LinkRefused(f"this link was used already ({n.acknowledged_via})")
        return n

    async def acknowledge_by_link(
        self, key: bytes, token: str, now: datetime, channel: str | None = None
    ) -> Acknowledged:
        """Acknowledge the link's incident as the person it was sent to. `channel`: how
        the press came (the ntfy button) when not the link's own method."""
        n = await self.check_link(key, token, now)
        assert n.incident_key is not None
        via = f"{channel or n.method} link"
        person = actor_for(self.config, n.login)
        ops = IncidentOps(self.store, self.config, person)
        incident = await self.store.incidents.get(n.incident_key)
        async with self.store.atomic():
            if not await self.store.notifications.mark_acknowledged(n.id, via, now):
                raise LinkRefused("this link was used already")
            if incident.state != "new":
                who = incident.assignee or incident.updated_by
                raise LinkRefused(
                    f"{incident.key} is {incident.state.replace('_', ' ')} already ({who})"
                )
            try:
                await ops.transition(
                    incident.key, "acknowledge", now, version=incident.version, via=via
                )
            except Refused as exc:
                raise LinkRefused(str(exc)) from None
        return Acknowledged(incident.key, n.login, via)

    # Paging by hand -----------------------------------------------------------------

    async def page(
        self,
        message: str,
        now: datetime,
        *,
        person: str,
        incident_key: str | None = None,
        urgency: Urgency | None = None,
    ) -> tuple[str, list[Notification]]:
        """Page one person by hand (a lead pulling in help). With an incident, the page
        carries its acknowledgement link and goes on its log."""
        message = one_line(clean(message)).strip()
        if not message:
            raise InputError("a page needs a message (--message)")
        login = person
        if self.config.people and self.config.person(login) is None:
            raise InputError(f"unknown login {login!r} (not in [[people]])")
        title, body = message, f"{self.actor.login} pages you: {message}"
        if incident_key is not None:
            incident = await self.store.incidents.get(incident_key)
            incident_key = incident.key
            urgency = urgency or urgency_of(incident.priority)
            title = f"{incident.title}"
            body = (
                f"{incident.key} · {incident.priority} · {incident.service} · {incident.state}\n"
                f"{self.actor.login} pages you: {message}"
            )
        pages = person_pages(
            self.config,
            login,
            incident_key=incident_key,
            urgency=urgency or "high",
            reason=f"paged by {self.actor.login}",
            title=title,
            body=body,
            now=now,
        )
        if not pages:
            raise Refused(
                f"{login} cannot be reached: no email, ntfy, webhook or contact in config"
            )
        return login, await self._queue(pages, now, incident_key, message)

    async def _queue(
        self, pages: list[NewNotification], now: datetime, incident_key: str | None, message: str
    ) -> list[Notification]:
        login = pages[0].login
        async with self.store.atomic():
            await self.store.notifications.audit_page(
                self.actor,
                login,
                {
                    "methods": [p.method for p in pages],
                    "message": message,
                    "incident": incident_key,
                },
                now,
            )
            ids = await self.store.notifications.queue(pages, now, self.actor.login)
            if incident_key is not None:
                await self.store.incidents.log(
                    self.actor,
                    incident_key,
                    "paged",
                    f"{self.actor.login} {describe(login, pages, now)}: {message}",
                    now,
                )
        found = [await self.store.notifications.get(i) for i in ids]
        return [n for n in found if n is not None]

    async def page_schedule(
        self, schedule: str, message: str, now: datetime, incident_key: str | None = None
    ) -> tuple[str, list[Notification]]:
        """Page whoever `schedule` has on call now (overrides included)."""
        chosen = next((s for s in self.config.schedules if s.name == schedule), None)
        if chosen is None:
            names = ", ".join(s.name for s in self.config.schedules) or "none"
            raise InputError(f"unknown schedule {schedule!r} (schedules: {names})")
        overrides = await self.store.overrides.not_ended(now - LOOKBACK)
        login = on_call_at(chosen, overrides, now).login
        if login is None:
            raise Refused(f"nobody is on call in {schedule} now")
        return await self.page(message, now, person=login, incident_key=incident_key)

    async def test(self, login: str, now: datetime) -> list[Notification]:
        """A test through every method `login` has (their rules aside)."""
        person = self.config.person(login)
        if person is None:
            raise InputError(f"unknown login {login!r} (not in [[people]])")
        addresses = person.addresses()
        if not addresses:
            raise Refused(f"{login} has no email, ntfy, webhook or contact in config")
        pages = [
            NewNotification(
                None,
                login,
                method,
                address,
                "low",
                "test",
                "opsdesk test page",
                f"A test from {self.actor.login} through {method}: if you read this, "
                "opsdesk can page you this way.",
                now,
            )
            for method, address in addresses.items()
        ]
        return await self._queue(pages, now, None, "test")
