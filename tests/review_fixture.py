"""A store for the service review where every figure is known by construction.

The team works in New York; November 2026 there runs from 2026-11-01T04:00Z (EDT) to
2026-12-01T05:00Z (EST): clocks go back at 02:00 on Sunday 1 November, so the month is
721 hours long. Everything is made through the real operations with the clock pinned,
so the stored SLA outcomes are the ones the SLA rules recorded.

Incidents (P1 = impact 1 urgency 1, P2 = 1/2, P3 = 2/2, P4 = 3/3 by the default matrix):

- INC-1 payments P4, opened and resolved 10-05 (October only).
- INC-2 payments P1, opened 2026-11-01T02:00Z (still October in New York), acknowledged
  10 min later, resolved 05:00Z (November): met; 60 of its outage minutes are November's.
- INC-3 payments P1, opened 11-10 15:00Z, ack 15:10, on hold (awaiting vendor) 16:00-17:00,
  resolved 20:10: resolve clock 4h10m against 4h, 10 min late, held 1h. CSAT 2. Ana's.
- INC-4 wiki P3 (business hours), opened Friday 11-13 16:00 EST, acknowledged Monday 11:59
  EST (4h of business time less a minute: met, 68 hours of wall time), resolved Monday
  17:00 EST: 9h against 8h, 1h late. Ben's.
- INC-5 wiki P3, opened Friday 10-30 16:00 EDT (October), acknowledged Monday 11-02 11:30
  EST: 3h30m of business time across the change to winter time (a count that kept the
  summer offset would say 4h30m, a breach), resolved 16:00 EST: exactly 8h, met.
- INC-6, INC-7 wiki P4 "Wiki slow" and "wiki slow ", 11-20, resolved in 1h and 2h;
  CSAT 5 and 3.
- INC-8 payments P2, opened 11-29, never resolved (open at the end).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from opsdesk.console.domain.review_period import month_period
from opsdesk.console.domain.service_review import ServiceReview
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.service_review import build_review
from opsdesk.console.ops.session import Options, open_session
from opsdesk.store.problem_records import NewActionItem, NewProblem
from opsdesk.store.records import ChangeEvent, NewChange, NewNotification, Outcome

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # the review is read on 2 December
ZONE = "America/New_York"

CONFIG = """
[[people]]
login = "ana"
name = "Ana Ortiz"
[[people]]
login = "ben"
name = "Ben Okafor"
[[people]]
login = "lead"
[roles]
admin = ["lead"]

[sla.priorities.P1]
respond = "15m"
resolve = "4h"
[sla.priorities.P2]
respond = "30m"
resolve = "8h"
[sla.priorities.P3]
respond = "4h"
resolve = "8h"
calendar = "business"
[sla.priorities.P4]
respond = "8h"
resolve = "1d"
[sla.calendars.business]
timezone = "America/New_York"
from = "09:00"
to = "17:00"

[[services]]
name = "payments"
vendors = ["Stripe"]
sla_target = 99
cost_per_hour = 6000
[[services]]
name = "wiki"
sla_target = 70
mttr_target = "2d"

[[vendors]]
name = "Stripe"
[vendors.contract]
cost = 1000
period = "monthly"
currency = "EUR"
renewal = 2027-01-15
notice = "30d"
availability = 99.9
budget = 10000

[[sources]]
name = "stripe-status"
plugin = "statuspage"
url = "http://127.0.0.1:9/"
vendor = "Stripe"

[[schedules]]
name = "primary"
timezone = "America/New_York"
[[schedules.layers]]
name = "weekly"
members = ["ana", "ben"]
rotation = "1w"
start = 2026-10-26T09:00:00

[reviews]
required_for = ["P1"]

[service_review]
timezone = "America/New_York"
business_hours = "business"
sla_target = 95
mttr_target = "4h"
csat_target = 4.0
amber_margin = 10
outage_priorities = ["P1"]
currency = "USD"
"""


def at(text: str) -> datetime:
    """An instant written in UTC: "11-10 15:00" is 2026-11-10T15:00Z."""
    month_day, clock = text.split(" ")
    month, day = (int(p) for p in month_day.split("-"))
    hour, minute = (int(p) for p in clock.split(":"))
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def _build(config_path: Path, store_path: Path) -> None:
    session = await open_session(
        Options(config=str(config_path), store=str(store_path)), login="lead"
    )
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        store, actor = session.store, session.actor

        async def incident(title: str, service: str, impact: int, urgency: int, when: str) -> str:
            made = await ops.create(title, service, at(when), impact=impact, urgency=urgency)
            return made.key

        async def resolve(key: str, when: str) -> None:
            await ops.transition(key, "resolve", at(when), code="fixed", note="done")

        zero = await incident("Refund job stuck", "payments", 3, 3, "10-05 10:00")
        await ops.transition(zero, "acknowledge", at("10-05 10:30"))
        await resolve(zero, "10-05 12:00")

        one = await incident("Card payments failing", "payments", 1, 1, "11-01 02:00")
        await ops.transition(one, "acknowledge", at("11-01 02:10"))
        await resolve(one, "11-01 05:00")

        two = await incident("Checkout 5xx", "payments", 1, 1, "11-10 15:00")
        await ops.assign(two, "ana", at("11-10 15:05"))
        await ops.transition(two, "acknowledge", at("11-10 15:10"))
        await ops.transition(two, "hold", at("11-10 16:00"), reason="awaiting_vendor")
        await ops.transition(two, "resume", at("11-10 17:00"))
        await resolve(two, "11-10 20:10")
        await ops.csat(two, 2, at("11-11 09:00"))

        three = await incident("Wiki search broken", "wiki", 2, 2, "11-13 21:00")
        await ops.assign(three, "ben", at("11-13 21:05"))
        await ops.transition(three, "acknowledge", at("11-16 16:59"))
        await resolve(three, "11-16 22:00")

        four = await incident("Wiki edits lost", "wiki", 2, 2, "10-30 20:00")
        await ops.transition(four, "acknowledge", at("11-02 16:30"))
        await resolve(four, "11-02 21:00")

        five = await incident("Wiki slow", "wiki", 3, 3, "11-20 10:00")
        await ops.transition(five, "acknowledge", at("11-20 10:20"))
        await resolve(five, "11-20 11:00")
        await ops.csat(five, 5, at("11-21 09:00"))
        six = await incident("wiki slow ", "wiki", 3, 3, "11-20 12:00")
        await ops.transition(six, "acknowledge", at("11-20 12:30"))
        await resolve(six, "11-20 14:00")
        await ops.csat(six, 3, at("11-21 09:00"))

        await incident("Payouts delayed", "payments", 1, 2, "11-29 12:00")

        # Pages: one to Ana in hours (by two methods: one page), one to Ben on a
        # Saturday night, and a test page that does not count.
        def page(login: str, method: str, key: str | None, reason: str) -> NewNotification:
            return NewNotification(
                incident_key=key, login=login, method=method, address=f"{login}@example.com",
                urgency="high", reason=reason, title="page", body="", not_before=at("11-10 15:01"),
            )  # fmt: skip

        await store.notifications.queue(
            [page("ana", "email", two, "level 1 of 1"), page("ana", "ntfy", two, "level 1 of 1")],
            at("11-10 15:01"),
            "system",
        )
        late = page("ben", "email", three, "level 1 of 1")
        saturday = at("11-14 03:00")
        await store.notifications.queue(
            [
                replace(late, not_before=saturday),
                page("ana", "email", None, "test"),
            ],
            saturday,
            "system",
        )

        # Changes: one in October; in November a standard one completed, a normal one
        # failed then closed (linked to INC-2), an emergency rolled back, a draft.
        async def change(title: str, kind: str, when: str, *states: str) -> str:
            made = await store.changes.create(
                actor,
                NewChange(
                    title, kind, "low", ("payments",), at(when), at(when) + timedelta(hours=1)
                ),
                at(when) - timedelta(days=2),
            )
            version = made.version
            for state in states:
                done = await store.changes.apply(
                    actor, made.key, version, {"state": state},
                    ChangeEvent(at(when), actor.login, "state", state), f"change.{state}", at(when),
                )  # fmt: skip
                version = done.version
            return made.key

        await change("October patch", "standard", "10-20 10:00", "in_progress", "completed")
        await change("Rotate keys", "standard", "11-03 10:00", "in_progress", "completed")
        failed = await change(
            "Upgrade gateway", "normal", "11-10 14:00", "in_progress", "failed", "closed"
        )
        await store.changes.link(actor, failed, int(two.removeprefix("INC-")), at("11-10 16:00"))
        await change("Hotfix", "emergency", "11-12 10:00", "in_progress", "rolled_back")
        await change("Someday", "normal", "11-20 10:00")

        # Stripe's status: operational from October, a major outage 11-05 10:00-13:00.
        def seen(level: str, when: str) -> Outcome:
            return Outcome("stripe-status", at(when), at(when) + timedelta(minutes=1), level=level)

        await store.statuses.record([seen("operational", "10-15 00:00")])
        await store.statuses.record([seen("major_outage", "11-05 10:00")])
        await store.statuses.record([seen("operational", "11-05 13:00")])

        # Improvement: two open action items (one overdue), one done in November; an
        # open problem from November with two incidents, an older one with none.
        action = await store.actions.add(
            actor, NewActionItem("Alert on refunds", "detect", "ana", date(2026, 11, 25),
                                 incident_id=2), at("11-11 10:00"),
        )  # fmt: skip
        await store.actions.add(
            actor, NewActionItem("Runbook for payouts", "process", "ben", date(2026, 12, 20),
                                 incident_id=2), at("11-11 10:00"),
        )  # fmt: skip
        done = await store.actions.add(
            actor,
            NewActionItem("Add retries", "prevent", "ana", None, incident_id=2),
            at("11-11 10:00"),
        )
        await store.actions.update(
            actor, done.key, done.version, {"state": "done"}, at("11-15 10:00")
        )
        assert action.state == "open"
        await store.problems.create(
            actor, NewProblem("Wiki is slow", ("wiki",)), at("11-21 10:00"),
            incident_keys=[five, six],
        )  # fmt: skip
        await store.problems.create(
            actor, NewProblem("Old gremlin", ("payments",)), at("10-01 10:00")
        )
    finally:
        await session.close()


def build(folder: Path) -> tuple[Path, Path]:
    """Write the config and build the store in `folder`; returns (config, store)."""
    config = folder / "review.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = folder / "review.db"
    asyncio.run(_build(config, store))
    return config, store


async def _review(config: Path, store: Path, month: str, now: datetime) -> ServiceReview:
    session = await open_session(Options(config=str(config), store=str(store)), login="lead")
    try:
        return await build_review(session.store, session.config, month_period(month, ZONE), now)
    finally:
        await session.close()


def review(config: Path, store: Path, month: str = "2026-11", now: datetime = NOW) -> ServiceReview:
    return asyncio.run(_review(config, store, month, now))
