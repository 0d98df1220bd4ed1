"""Queue the pages an escalation level (or a person paging by hand) causes.

Called inside the transaction that opened or escalated the incident, so the outbox rows
commit with it. Who a level pages is resolved at `now` (whoever the schedule has on call
then, overrides included); how each person is reached comes from their notification rules
(console/domain/paging.py). What was queued, or that someone cannot be reached, goes on
the incident's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from opsdesk.console.config.model import Config, Person
from opsdesk.console.domain.paging import Urgency, deliveries, urgency_of
from opsdesk.console.domain.rotations import level_person
from opsdesk.console.domain.text import one_line
from opsdesk.store import Actor, Incident, Store
from opsdesk.store.records import NewNotification

SYSTEM = Actor("opsdesk")  # who the pager acts as: escalation and deliveries
ESCALATION_LEASE = "escalation"
"""The lease whose holder escalates for everyone: `opsdesk serve` takes it on every
tick; without a serve alive, the first console to claim it does, and renews it."""
LOOKBACK = timedelta(days=60)  # overrides that may still be in force began at most this long ago


def incident_body(incident: Incident, why: str) -> str:
    """The plain text every channel sends for an incident page (links are added per send)."""
    lines = [
        f"{incident.key} · {incident.priority} · {incident.service} · {incident.state}",
        f"Opened {incident.created_at:%Y-%m-%d %H:%M} UTC",
        why,
    ]
    if incident.description:
        lines += ["", incident.description[:1500]]
    return "\n".join(lines)


def person_pages(
    config: Config,
    login: str,
    *,
    incident_key: str | None,
    urgency: Urgency,
    reason: str,
    title: str,
    body: str,
    now: datetime,
) -> list[NewNotification]:
    person = config.person(login) or Person(login=login)
    return [
        NewNotification(
            incident_key,
            login,
            d.method,
            d.address,
            urgency,
            reason,
            one_line(title)[:300],
            body,
            d.not_before,
        )
        for d in deliveries(person, urgency, now)
    ]


def describe(login: str, pages: list[NewNotification], now: datetime) -> str:
    """How the timeline says who was paged how."""
    if not pages:
        return f"{login} cannot be reached: no email, ntfy, webhook or contact in config"
    parts = []
    for page in pages:
        wait = page.not_before - now
        parts.append(
            page.method
            if wait <= timedelta(0)
            else f"{page.method} at {page.not_before:%Y-%m-%d %H:%M} UTC"
        )
    return f"paged {login} by {', '.join(parts)}"


async def page_level(
    store: Store, config: Config, incident: Incident, level: int, round: int, now: datetime
) -> str | None:
    """Queue the pages of `level` (1-based) of the incident's policy; the login paged, or
    None (a schedule with nobody on call: the timeline says so)."""
    policy = config.policy(incident.service)
    if policy is None or not policy.levels:
        return None
    overrides = await store.overrides.not_ended(now - LOOKBACK)
    login, via = level_person(config, policy.levels[level - 1], overrides, now)
    where = f"level {level} of {len(policy.levels)}"
    if round > 1:
        where += f", repeat {round - 1} of {policy.repeat}"
    if login is None:
        await store.incidents.log(
            SYSTEM, incident.key, "paged", f"{where}: nobody is on call in {via}", now
        )
        return None
    why = f"You are paged: {where} of {incident.service}'s escalation ({via})."
    pages = person_pages(
        config,
        login,
        incident_key=incident.key,
        urgency=urgency_of(incident.priority),
        reason=where,
        title=incident.title,
        body=incident_body(incident, why),
        now=now,
    )
    if pages:
        await store.notifications.queue(pages, now, SYSTEM.login)
    await store.incidents.log(
        SYSTEM, incident.key, "paged", f"{where}: {describe(login, pages, now)}", now
    )
    return login
