"""Realistic demo data: incidents over the last 90 days with their timelines, changes,
overrides, a recorded status history of the demo vendors, and audit.

Deterministic for a seed and a `now`. Built for speed, since `opsdesk demo --incidents
1000000` must finish well under a minute: rows are produced lazily and streamed into the
store, and only the newest incidents get a full audit trail. Every incident gets its
timeline (created, acknowledged, in progress or on hold, resolved, closed) in the table
real incidents use, so its SLA clocks come from that history and later actions extend it;
the store writes it from each chunk of incidents just loaded (store/bulk.py).

Where the time goes at a million incidents (`python -m bench.demo` prints each phase):
the SLA columns in whole seconds from a table of business windows (`_FastSla`, checked
against the domain's clocks by tests/test_perf_demo.py) instead of datetimes, instants
formatted from a table (`_iso`), the random draws without their wrappers; then SQLite's
own work, which is most of what is left: inserting, the indexes, the search index.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsdesk.console.config.loader import parse_sources
from opsdesk.console.config.model import Config
from opsdesk.console.domain import business_time
from opsdesk.console.domain.lifecycle import HOLD_REASONS, RESOLUTION_CODES
from opsdesk.console.domain.sla import RUNNING_STATES, StateChange, clocks, policy_for
from opsdesk.console.ops.demo_changes import change_history
from opsdesk.console.ops.demo_problems import seed_learning
from opsdesk.console.ops.demo_review import (
    BadWeek,
    change_slots,
    seed_month,
    story,
    story_change,
)
from opsdesk.console.ops.demo_team import demo_config, demo_sources
from opsdesk.console.ops.incidents import sla_columns
from opsdesk.plugins.api import Incident as VendorIncident
from opsdesk.plugins.api import Level, Maintenance, StatusReport
from opsdesk.store import Store
from opsdesk.store.bulk import DemoBuilder, existing_kind

DAY = 86400.0
HISTORY_DAYS = 90
AUDITED_INCIDENTS = 2000
CHUNK = 20000  # incidents streamed per batch, their timelines right after them
NEVER_DUE = "9999-12-31T00:00:00Z"  # recorded statuses: the poller never claims them itself
TABLE_AHEAD_DAYS = 120  # business windows tabled after `now` (a due time is days ahead)

TITLES = {
    "payments": [
        "Card authorisations failing for {region} customers",
        "Payment webhook backlog above {n}k events",
        "Refund job stuck since {hh}:00",
        "Elevated 5xx from payments-api in {region}",
    ],
    "checkout": [
        "Checkout latency p95 above {n}00 ms",
        "Basket totals wrong for promo codes",
        "Mobile checkout crashes on app version 8.{n}",
    ],
    "auth": [
        "SSO logins failing for {region} office",
        "MFA push notifications delayed",
        "Session tokens expiring early",
    ],
    "search": ["Search index {n} hours stale", "Search results empty for some queries"],
    "email": ["Password reset emails delayed", "Bounce rate above {n}% on receipts"],
    "git": ["CI runners queueing for {n}0 minutes", "Git push rejected for large repos"],
    "chat": ["Chat messages arriving late", "Bot integration returns 401"],
    "wiki": ["Wiki pages load slowly", "Wiki attachment upload fails"],
}
REGIONS = ["EU", "US-East", "US-West", "APAC", "LATAM"]
CHANGE_TITLES = [
    "Upgrade {svc} database to the next minor version",
    "Rotate TLS certificates for {svc}",
    "Scale {svc} workers from {n} to {m}",
    "Deploy {svc} release 2026.{n}",
    "Patch kernel on {svc} hosts",
    "Move {svc} traffic to the new load balancer",
]


def _instant(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _iso(seconds: float) -> str:
    """`time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))`, from a table: a million
    incidents format millions of instants, and this is several times faster."""
    day, second = divmod(math.floor(seconds), 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        if not _CLOCK:  # built whole, then put in place in one step
            _CLOCK[:] = [f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60)
                         for s in range(60)]  # fmt: skip
        prefix = _DAYS[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
    return prefix + _CLOCK[second]


_DAYS: dict[int, str] = {}  # days since the epoch -> "YYYY-MM-DDT"
_CLOCK: list[str] = []  # second of the day -> "HH:MM:SSZ", filled on first use


class _Fallback(Exception):
    """The fast SLA arithmetic cannot answer exactly: ask the domain's clocks instead."""


class _Calendar:
    """One SLA policy's counted time in whole seconds since the epoch: the demo computes
    a million incidents' stored SLA columns with it. 24x7 counts every second; a business
    calendar's working windows (from the domain's own `business_time`, so DST and
    holidays are its rules) are tabled from before the oldest incident to well after
    `now`, with the working seconds before each, so `elapsed` is two bisections and `add`
    a short walk. Anything outside the table or not in whole seconds raises `_Fallback`."""

    def __init__(self, calendar: business_time.BusinessCalendar | None, now: float) -> None:
        self.always = calendar is None
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = [0]  # working seconds in the windows before window i
        self.origin = int(now - (HISTORY_DAYS + 2) * DAY)  # the table is exact from here on
        if calendar is None:
            return
        first = _instant(self.origin)
        last = now + TABLE_AHEAD_DAYS * DAY
        windows = business_time._windows(calendar, business_time._local_date(calendar, first))
        for start, end in windows:
            begin, until = start.timestamp(), end.timestamp()
            if begin > last:
                break
            if begin != int(begin) or until != int(until):
                raise _Fallback
            self.starts.append(int(begin))
            self.ends.append(int(until))
            self.before.append(self.before[-1] + int(until) - int(begin))

    def _worked(self, instant: int) -> int:
        """Working seconds in the table before `instant`."""
        index = bisect_right(self.ends, instant)
        if instant < self.origin or index == len(self.ends):
            raise _Fallback
        start = self.starts[index]
        return self.before[index] + (instant - start if instant > start else 0)

    def elapsed(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        if self.always:
            return end - start
        return self._worked(end) - self._worked(start)

    def add(self, start: int, amount: int) -> int:
        if self.always:
            return start + amount
        starts, ends = self.starts, self.ends
        if start < self.origin:
            raise _Fallback
        index = bisect_right(ends, start)
        while index < len(ends):
            begin = starts[index] if starts[index] > start else start
            if begin + amount <= ends[index]:
                return begin + amount
            amount -= ends[index] - begin
            index += 1
        raise _Fallback


class _FastSla:
    """The stored SLA columns of a demo incident, computed as `clocks` and `sla_columns`
    compute them (console/domain/sla.py, console/ops/incidents.py) but in whole seconds
    over the demo's histories: created, then acknowledged, then in progress or on hold
    (at `last`) or resolved. tests/test_perf_demo.py checks every incident of several
    demos against the domain's clocks."""

    def __init__(self, config: Config, now: float) -> None:
        if now != int(now):
            raise _Fallback
        self.now = int(now)
        self.policies: dict[str, tuple[int, int, _Calendar]] = {}
        calendars: dict[int, _Calendar] = {}
        for priority in config.sla.priorities:
            target, calendar = policy_for(config, priority)
            respond, resolve = target.respond.total_seconds(), target.resolve.total_seconds()
            if respond != int(respond) or resolve != int(resolve):
                raise _Fallback
            key = id(calendar)
            if key not in calendars:
                calendars[key] = _Calendar(calendar, now)
            self.policies[priority] = (int(respond), int(resolve), calendars[key])

    def columns(
        self,
        priority: str,
        state: str,
        start: int,
        acked: int | None,
        last: int | None,
        resolved: int | None,
    ) -> tuple[Any, ...]:
        respond, goal, calendar = self.policies[priority]
        now = self.now
        # Respond: from creation to the first move out of "new" (the acknowledgement).
        respond_due = calendar.add(start, respond)
        if acked is not None:
            response_breached = calendar.elapsed(start, acked) > respond
            response_stored = respond_due if response_breached else None
            response_met: int | None = 0 if response_breached else 1
        else:  # running, or paused outside business hours: both store the due time
            response_stored, response_met = respond_due, None
        # Resolve: counted while new, acknowledged or in progress; stops at resolved.
        history = [(start, "new")]
        if acked is not None:
            history.append((acked, "acknowledged"))
        if last is not None:
            history.append((last, state))
        if resolved is not None:
            history.append((resolved, "resolved"))
        spent, breach_at = 0, None
        for index, (at, entered) in enumerate(history):
            end = history[index + 1][0] if index + 1 < len(history) else now
            if entered in RUNNING_STATES and end > at:
                part = calendar.elapsed(at, end)
                if breach_at is None and spent + part > goal:
                    breach_at = calendar.add(at, goal - spent)
                spent += part
        breached = spent > goal
        current = history[-1][1]
        resolve_met: int | None = None
        if current == "resolved":
            resolve_stored = breach_at if breached else None
            resolve_met = 0 if breached else 1
        elif current == "on_hold":
            resolve_stored = breach_at if breached else None
        else:  # running, or paused outside business hours: both store the due time
            resolve_stored = breach_at if breach_at is not None else calendar.add(now, goal - spent)
        return (
            None if response_stored is None else _iso(response_stored),
            None if resolve_stored is None else _iso(resolve_stored),
            response_met,
            resolve_met,
        )


@dataclass
class DemoResult:
    path: Path
    incidents: int
    changes: int
    seconds: float
    # Wall and CPU seconds per step: "generate" (the rows in Python), then the builder's
    # (store/bulk.py: inserts, each index, the search index, aggregates, commit).
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)
    review_month: str = ""  # "2026-11": the month with the story (console/ops/demo_review.py)


class _Generator:
    def __init__(self, config: Config, seed: int, now: datetime, creator: str) -> None:
        self.rng = random.Random(seed)
        self.config = config
        self.now = now.timestamp()
        self.creator = creator
        self.logins = [p.login for p in config.people if p.login != creator]
        self.services = [s.name for s in config.services]
        self.matrix = config.priority.matrix
        targets = config.sla.priorities.items()
        self.respond: dict[str, float] = {p: t.respond.total_seconds() for p, t in targets}
        self.resolve: dict[str, float] = {p: t.resolve.total_seconds() for p, t in targets}
        self.audit: list[tuple[Any, ...]] = []
        self.change_events: list[tuple[Any, ...]] = []
        self.change_approvals: list[tuple[Any, ...]] = []
        self.story = story(now)
        try:
            self.fast_sla: _FastSla | None = _FastSla(config, self.now)
        except _Fallback:
            self.fast_sla = None

    def incidents(self, count: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        # rng.choice(seq) is seq[rng._randbelow(len(seq))], rng.randint(a, b) is
        # a + rng._randbelow(b - a + 1) and rng.expovariate(l) is -log(1 - rng.random()) / l:
        # the same draws from the same stream (the same data for a seed), without the
        # wrappers' overhead on ten million calls.
        below: Callable[[int], int] = rng._randbelow  # type: ignore[attr-defined]
        rand, getrandbits, log = rng.random, rng.getrandbits, math.log
        now = self.now
        start = now - HISTORY_DAYS * DAY
        step = HISTORY_DAYS * DAY / max(count, 1)
        impacts = [1, 2, 2, 3, 3, 3, 3, 3]
        urgencies = [1, 2, 2, 2, 3, 3, 3]
        open_states = ["acknowledged", "in_progress", "in_progress", "on_hold"]
        # Customers rate a fix in time well (mean 4.5) and a late one badly (2.2), so the
        # services the review month's bad week hit are the ones below the CSAT target.
        csats_in_time = [5, 5, 5, 5, 5, 5, 5, 4, 4, 4, 3]
        csats_late = [4, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1]
        services, logins, matrix = self.services, self.logins, self.matrix
        n_services, n_logins, n_regions = len(services), len(logins), len(REGIONS)
        n_holds, n_codes = len(HOLD_REASONS), len(RESOLUTION_CODES)
        titles = {s: TITLES.get(s, ["{svc} degraded"]) for s in services}
        respond_rate = {p: 1.5 / t for p, t in self.respond.items()}
        resolve_rate = {p: 1.6 / t for p, t in self.resolve.items()}
        audited_from = count - AUDITED_INCIDENTS
        bad_week = BadWeek(self.story)
        week_start, week_end = bad_week.start, bad_week.end  # tested inline: a million times
        for index in range(count):
            created = start + (index + rand()) * step
            age = now - created
            service = services[below(n_services)]
            impact, urgency = impacts[below(8)], urgencies[below(7)]
            priority = matrix[impact - 1][urgency - 1]
            templates = titles[service]
            template = templates[below(len(templates))]
            region = REGIONS[below(n_regions)]
            title = template.format(region=region, n=2 + below(8), hh=below(24), svc=service)
            monitored = rand() < 0.3
            reporter = "alertmanager" if monitored else logins[below(n_logins)]
            source = "alertmanager:prod" if monitored else "manual"
            dedup = f"{getrandbits(64):016x}" if monitored else None
            ack_at = created + -log(1.0 - rand()) / respond_rate[priority]
            res_at = ack_at + -log(1.0 - rand()) / resolve_rate[priority]
            # The review month's bad week on checkout (console/ops/demo_review.py).
            if week_start <= created < week_end and bad_week.hit(index, created):
                usual = priority
                service, title, impact, urgency = bad_week.shape(index, region)
                priority = matrix[impact - 1][urgency - 1]
                ack_at, res_at = bad_week.times(
                    created, ack_at, res_at,
                    respond_rate[usual] / respond_rate[priority],
                    resolve_rate[usual] / resolve_rate[priority],
                )  # fmt: skip
            open_chance = (
                0.6 if age < 3600 else 0.3 if age < DAY else 0.08 if age < 7 * DAY else 0.002
            )
            assignee: str | None = logins[below(n_logins)]
            hold = code = note = csat = None
            acked = resolved = closed = None
            version = 1
            if rand() < open_chance or res_at >= now:
                if ack_at >= now or (age < 7200 and rand() < 0.4):
                    state, assignee = "new", (None if rand() < 0.7 else assignee)
                else:
                    acked, version = _iso(ack_at), 3
                    state = open_states[below(4)]
                    hold = HOLD_REASONS[below(n_holds)] if state == "on_hold" else None
            else:
                acked, resolved, version = _iso(ack_at), _iso(res_at), 4
                code = RESOLUTION_CODES[below(n_codes)]
                note = f"Resolved: {code.replace('_', ' ')}."
                if rand() < 0.3:
                    late = res_at - created > 1.5 * self.resolve[priority]
                    csat = (csats_late if late else csats_in_time)[below(11)]
                closed_at = res_at + 3 * DAY
                state = "resolved"
                if closed_at < now:
                    state, closed, version = "closed", _iso(closed_at), 5
            last = max(created, ack_at if acked else 0, res_at if resolved else 0)
            if state in ("in_progress", "on_hold"):
                last = max(last, ack_at + (now - ack_at) * rand())
            updated_by = assignee or reporter
            sla = self._sla_columns(
                priority, state, hold, created, acked and ack_at, last, resolved and res_at
            )
            row = (
                index + 1,
                title,
                f"{title}. Reported via {source}.",
                service,
                impact,
                urgency,
                priority,
                state,
                hold,
                assignee,
                reporter,
                source,
                dedup,
                _iso(created),
                acked,
                resolved,
                closed,
                code,
                note,
                csat,
                version,
                _iso(last),
                updated_by,
                *sla,
            )
            if index >= audited_from:
                self._audit_incident(row)
            yield row

    def _sla_columns(
        self,
        priority: str,
        state: str,
        hold: str | None,
        created: float,
        acked: Any,
        last: float,
        resolved: Any,
    ) -> tuple[Any, ...]:
        """Stored SLA columns, from the same rules and the same history (to the second, as
        the timeline stores it) the console uses, so the queue and `incident show` agree."""
        start = int(created)
        if resolved and (
            int(acked) - start <= self.respond[priority]
            and int(resolved) - start <= self.resolve[priority]
        ):
            # Within both targets by the wall clock, so within them in working time too:
            # both clocks stopped and met. (Most history; it keeps a million rows fast.)
            return None, None, 1, 1
        if self.fast_sla is not None:
            try:
                return self.fast_sla.columns(
                    priority,
                    state,
                    start,
                    int(acked) if acked else None,
                    int(last) if state in ("in_progress", "on_hold") else None,
                    int(resolved) if resolved else None,
                )
            except _Fallback:
                pass
        return self._domain_sla_columns(priority, state, hold, start, acked, last, resolved)

    def _domain_sla_columns(
        self,
        priority: str,
        state: str,
        hold: str | None,
        start: int,
        acked: Any,
        last: float,
        resolved: Any,
    ) -> tuple[Any, ...]:
        """`_sla_columns` through the domain's clocks themselves (datetimes and all)."""
        history = [StateChange(_instant(start), "new")]
        if acked:
            history.append(StateChange(_instant(int(acked)), "acknowledged"))
        if state in ("in_progress", "on_hold"):
            history.append(StateChange(_instant(int(last)), state, hold or ""))
        if resolved:
            history.append(StateChange(_instant(int(resolved)), "resolved"))
        respond, resolve = clocks(self.config, priority, history, _instant(self.now))
        columns = sla_columns(respond, resolve)
        return tuple(
            _iso(v.timestamp()) if isinstance(v, datetime) else (None if v is None else int(v))
            for v in columns.values()
        )

    def _audit_incident(self, row: tuple[Any, ...]) -> None:
        key, reporter, assignee = f"INC-{row[0]}", row[10], row[9] or row[10]
        created = {"title": row[1], "service": row[3], "priority": row[6], "state": "new"}
        self.audit.append((row[13], reporter, "incident.create", "incident", key, None,
                           json.dumps(created)))  # fmt: skip
        if row[14]:
            self.audit.append((row[14], assignee, "incident.acknowledge", "incident", key,
                               '{"state": "new"}', '{"state": "acknowledged"}'))  # fmt: skip
        if row[15]:
            self.audit.append((row[15], assignee, "incident.resolve", "incident", key,
                               '{"state": "in_progress"}', '{"state": "resolved"}'))  # fmt: skip
        if row[16]:
            self.audit.append((row[16], assignee, "incident.close", "incident", key,
                               '{"state": "resolved"}', '{"state": "closed"}'))  # fmt: skip

    def changes(self, count: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        span = (HISTORY_DAYS + 30) * DAY
        start = self.now - HISTORY_DAYS * DAY
        slots = change_slots(self.story, start, span, count)
        for index in range(count):
            planned = start + (index + rng.random()) * span / count
            planned -= planned % 1800
            end = planned + rng.choice([1, 2, 2, 4]) * 1800
            kind = rng.choice(["standard", "standard", "normal", "normal", "emergency"])
            risk = "low" if kind == "standard" else rng.choice(["low", "medium", "medium", "high"])
            services = rng.sample(self.services, rng.choice([1, 1, 2]))
            requester, implementer = rng.choice(self.logins), rng.choice(self.logins)
            if end < self.now:
                state = rng.choice(["closed"] * 8 + ["completed", "failed", "rolled_back"])
            elif planned < self.now:
                state = "in_progress"
            else:
                state = rng.choice(["draft", "submitted", "approved", "scheduled", "scheduled"])
            title = rng.choice(CHANGE_TITLES).format(
                svc=services[0], n=rng.randint(2, 8), m=rng.randint(9, 16)
            )
            created = planned - rng.uniform(1, 10) * DAY
            # A change planned weeks ahead was raised already (some hours to days ago).
            created = min(created, self.now - (6 + 17 * (index % 7)) * 3600)
            if index in slots:  # the review month's failed and rolled-back change
                told = story_change(self.story, slots[index])
                title, kind, risk, services = (
                    told["title"],
                    told["type"],
                    told["risk"],
                    told["services"],
                )
                planned = told["planned_start"].timestamp()
                end, state = told["planned_end"].timestamp(), told["state"]
                created = planned - 3 * DAY
            key = f"CHG-{index + 1}"
            history = change_history(
                self.config, index=index, kind=kind, risk=risk, requester=requester,
                implementer=implementer, created=created, planned=planned, end=end,
                now=self.now, state=state, exclude=frozenset({self.creator}),
            )  # fmt: skip
            state = history.state
            self.audit.append((_iso(created), requester, "change.create", "change", key, None,
                               json.dumps({"title": title, "state": "draft"})))  # fmt: skip
            for at, actor, action, before, after in history.audit[1:]:
                self.audit.append((_iso(at), actor, action, "change", key, before, after))
            for at, actor, kind_of, to, detail in history.events:
                self.change_events.append((index + 1, _iso(at), actor, kind_of, to, detail))
            for actor, roles, decision, comment, at in history.approvals:
                self.change_approvals.append((index + 1, actor, roles, decision, comment, _iso(at)))
            last = history.events[-1][0]
            yield (
                index + 1,
                title,
                f"{title}. Requested by {requester}.",
                kind,
                risk,
                json.dumps(services),
                _iso(planned),
                _iso(end),
                implementer,
                requester,
                "Run the smoke suite in staging, then canary 10%.",
                "Redeploy the previous release; restore the snapshot taken before.",
                state,
                _iso(created),
                history.version,
                _iso(last),
                history.events[-1][1],
                history.review,
            )

    def overrides(self) -> Iterator[tuple[Any, ...]]:
        reasons = ["Swap for a dentist appointment", "Covering during travel", "Public holiday"]
        schedules = [s.name for s in self.config.schedules]
        base = self.now - self.now % 3600
        for index in range(6):
            begin = base + (index * 2 - 3) * DAY
            created = begin - 2 * DAY
            schedule = schedules[index % len(schedules)]
            login = self.rng.choice(self.logins)
            after = json.dumps({"schedule": schedule, "login": login})
            key = f"OVR-{index + 1}"
            self.audit.append(
                (_iso(created), login, "override.create", "override", key, None, after)
            )
            yield (schedule, login, _iso(begin), _iso(begin + 12 * 3600),
                   self.rng.choice(reasons), login, _iso(created))  # fmt: skip


OPERATIONAL = "All Systems Operational"
MAINTENANCE = "Scheduled maintenance: Jira Cloud database upgrade"
SENDGRID_INCIDENT = "Delayed delivery of email to Microsoft domains"
ONE_DAY = timedelta(days=1)


def _episodes(now: datetime) -> dict[str, list[tuple[datetime, Level, str]]]:
    """Each demo source's level changes over the last 90 days, oldest first: most are
    operational, SendGrid is degraded by an incident, Atlassian is in maintenance, and
    Cloudflare had a major outage in the bad week of the review month (demo_review.py)."""
    told = story(now)
    outage, outage_end = told.outage_at, told.outage_end
    ago = now - timedelta(minutes=130)
    return {
        "github": [
            (now - 23 * ONE_DAY, "degraded", "Delays in GitHub Actions job starts"),
            (now - 23 * ONE_DAY + timedelta(minutes=75), "operational", OPERATIONAL),
        ],
        "cloudflare": [
            (outage, "major_outage", "Widespread 5xx errors across the Cloudflare network"),
            (outage_end, "operational", OPERATIONAL),
        ],
        "atlassian": [(now - timedelta(minutes=35), "maintenance", MAINTENANCE)],
        "sendgrid": [(ago, "degraded", SENDGRID_INCIDENT)],
        "aws": [
            (now - 41 * ONE_DAY, "partial_outage", "Increased Lambda error rates in US-EAST-1"),
            (now - 41 * ONE_DAY + timedelta(minutes=65), "operational", OPERATIONAL),
        ],
    }


def _report(source: str, level: Level, summary: str, since: datetime) -> StatusReport:
    if source == "sendgrid" and level == "degraded":
        incident = VendorIncident(
            SENDGRID_INCIDENT,
            impact="minor",
            status="identified",
            started=since,
            last_update="We have identified the cause and are rolling out a fix.",
        )
        return StatusReport(level, summary, incidents=(incident,))
    if source == "atlassian" and level == "maintenance":
        window = Maintenance(MAINTENANCE, since, since + timedelta(hours=2), "in_progress")
        return StatusReport(level, summary, maintenances=(window,))
    return StatusReport(level, summary)


def recorded_statuses(now: datetime) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What the demo's vendors look like in use, recorded as the poller would have stored
    it: each source's current report (checked a few minutes before `now`) and its level
    history over 90 days. They are never due, so no console polls the internet for the
    demo by itself; `r` on the vendors screen asks a vendor's real status page now."""
    episodes = _episodes(now)
    checked = _iso((now - timedelta(minutes=3)).timestamp())
    current, history = [], []
    for source in demo_sources():
        name = source["name"]
        changes = [(now - 90 * ONE_DAY, "operational", OPERATIONAL), *episodes.get(name, [])]
        for at, level, summary in changes:
            history.append((name, _iso(at.timestamp()), level, summary))
        since, level, summary = changes[-1]
        report = dataclasses.asdict(_report(name, level, summary, since))
        current.append(
            (
                name,
                level,
                summary,
                json.dumps(report, default=str),
                None,
                checked,
                checked,
                _iso(since.timestamp()),
                0,
                "{}",
                NEVER_DUE,
            )
        )
    return current, history


def is_demo(path: Path) -> bool:
    """Whether a demo store is at `path` (to reopen rather than rebuild)."""
    return existing_kind(path) == "demo"


def change_count(incidents: int) -> int:
    return min(max(incidents // 500, 40), 2000)


async def build_demo(
    path: Path, *, incidents: int, seed: int, now: datetime, creator: str
) -> DemoResult:
    """Create (or recreate) the demo store at `path`. Refuses a non-demo store there."""
    began = time.perf_counter()
    config = parse_sources([("demo config", demo_config(creator))])
    generator = _Generator(config, seed, now, creator)
    changes = change_count(incidents)
    generating = generating_cpu = 0.0
    async with DemoBuilder(path) as builder:
        await builder.meta({"demo_seed": str(seed), "demo_now": now.isoformat()})
        rows = generator.incidents(incidents)
        while True:
            chunk_began, chunk_cpu = time.perf_counter(), time.process_time()
            chunk = list(itertools.islice(rows, CHUNK))
            generating += time.perf_counter() - chunk_began
            generating_cpu += time.process_time() - chunk_cpu
            if not chunk:
                break
            await builder.incidents(chunk)
            await builder.timelines(chunk[0][0], chunk[-1][0])
        await builder.statuses(*recorded_statuses(now))
        await builder.changes(generator.changes(changes))
        await builder.change_history(generator.change_events, generator.change_approvals)
        await builder.overrides(generator.overrides())
        summary = {"incidents": incidents, "changes": changes, "seed": seed}
        generator.audit.sort(key=lambda row: row[0])
        generator.audit.append(
            (
                _iso(now.timestamp()),
                creator,
                "demo.create",
                "store",
                "STORE",
                None,
                json.dumps(summary),
            )
        )
        await builder.audit(generator.audit)
    # The learning loop on top, through the operations a team uses (audited as them).
    learning_began, learning_cpu = time.perf_counter(), time.process_time()
    async with await Store.open(path) as store:
        await seed_learning(store, config, now)
        await seed_month(store, config, now)
    phases = {"generate": generating, **builder.phases}
    cpu = {"generate": generating_cpu, **builder.cpu}
    phases["problems and reviews"] = time.perf_counter() - learning_began
    cpu["problems and reviews"] = time.process_time() - learning_cpu
    month = f"{generator.story.month_start:%Y-%m}"
    return DemoResult(path, incidents, changes, time.perf_counter() - began, phases, cpu, month)
