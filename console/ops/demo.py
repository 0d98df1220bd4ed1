"""Realistic demo data: incidents over the last 90 days with their timelines, changes,
overrides, a recorded status history of the demo vendors, and audit.

Deterministic for a seed and a `now`. Built for speed, since `opsdesk demo --incidents
1000000` must finish in under a minute: rows are produced lazily and streamed into the
store, and only the newest incidents get a full audit trail. Every incident gets its
timeline (created, acknowledged, in progress or on hold, resolved, closed) in the table
real incidents use, so its SLA clocks come from that history and later actions extend it.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from opsdesk.console.config.loader import parse_sources
from opsdesk.console.config.model import Config
from opsdesk.console.domain.lifecycle import HOLD_REASONS, RESOLUTION_CODES
from opsdesk.console.domain.sla import StateChange, clocks
from opsdesk.console.ops.demo_team import demo_config, demo_sources
from opsdesk.console.ops.incidents import sla_columns
from opsdesk.plugins.api import Incident as VendorIncident
from opsdesk.plugins.api import Level, Maintenance, StatusReport
from opsdesk.store.bulk import DemoBuilder, existing_kind

DAY = 86400.0
HISTORY_DAYS = 90
AUDITED_INCIDENTS = 2000
CHUNK = 20000  # incidents streamed per batch, their timelines right after them
NEVER_DUE = "9999-12-31T00:00:00Z"  # recorded statuses: the poller never claims them itself

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
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@dataclass
class DemoResult:
    path: Path
    incidents: int
    changes: int
    seconds: float


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
        self.events: list[tuple[Any, ...]] = []

    def incidents(self, count: int) -> Iterator[tuple[Any, ...]]:
        rng = self.rng
        rand, choice = rng.random, rng.choice
        start = self.now - HISTORY_DAYS * DAY
        step = HISTORY_DAYS * DAY / max(count, 1)
        impacts = [1, 2, 2, 3, 3, 3, 3, 3]
        urgencies = [1, 2, 2, 2, 3, 3, 3]
        audited_from = count - AUDITED_INCIDENTS
        for index in range(count):
            created = start + (index + rand()) * step
            age = self.now - created
            service = choice(self.services)
            impact, urgency = choice(impacts), choice(urgencies)
            priority = self.matrix[impact - 1][urgency - 1]
            title = choice(TITLES.get(service, ["{svc} degraded"])).format(
                region=choice(REGIONS), n=rng.randint(2, 9), hh=rng.randint(0, 23), svc=service
            )
            monitored = rand() < 0.3
            reporter = "alertmanager" if monitored else choice(self.logins)
            source = "alertmanager:prod" if monitored else "manual"
            dedup = f"{rng.getrandbits(64):016x}" if monitored else None
            ack_at = created + rng.expovariate(1.5 / self.respond[priority])
            res_at = ack_at + rng.expovariate(1.6 / self.resolve[priority])
            open_chance = (
                0.6 if age < 3600 else 0.3 if age < DAY else 0.08 if age < 7 * DAY else 0.002
            )
            assignee: str | None = choice(self.logins)
            hold = code = note = csat = None
            acked = resolved = closed = None
            version = 1
            if rand() < open_chance or res_at >= self.now:
                if ack_at >= self.now or (age < 7200 and rand() < 0.4):
                    state, assignee = "new", (None if rand() < 0.7 else assignee)
                else:
                    acked, version = _iso(ack_at), 3
                    state = choice(["acknowledged", "in_progress", "in_progress", "on_hold"])
                    hold = choice(HOLD_REASONS) if state == "on_hold" else None
            else:
                acked, resolved, version = _iso(ack_at), _iso(res_at), 4
                code = choice(RESOLUTION_CODES)
                note = f"Resolved: {code.replace('_', ' ')}."
                if rand() < 0.3:
                    csat = choice([5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1])
                closed_at = res_at + 3 * DAY
                state = "resolved"
                if closed_at < self.now:
                    state, closed, version = "closed", _iso(closed_at), 5
            last = max(t for t in (created, ack_at if acked else 0, res_at if resolved else 0))
            if state in ("in_progress", "on_hold"):
                last = max(last, ack_at + (self.now - ack_at) * rand())
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
            self._timeline(row, last)
            yield row

    def _timeline(self, row: tuple[Any, ...], last: float) -> None:
        """The incident's history as timeline events, as the operations would have
        written them: created, acknowledged, in progress or on hold, resolved, closed."""
        number, state, hold, reporter = row[0], row[7], row[8], row[10]
        actor = row[9] or reporter
        add = self.events.append
        add((number, row[13], reporter, "created", "new", ""))
        if row[14]:
            add((number, row[14], actor, "state", "acknowledged", ""))
        if state in ("in_progress", "on_hold"):
            add((number, _iso(last), actor, "state", state, hold or ""))
        if row[15]:
            add((number, row[15], actor, "state", "resolved", f"{row[17]}: {row[18]}"))
        if row[16]:
            add((number, row[16], actor, "state", "closed", ""))

    def take_events(self) -> list[tuple[Any, ...]]:
        taken, self.events = self.events, []
        return taken

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
            key = f"CHG-{index + 1}"
            self.audit.append((_iso(created), requester, "change.create", "change", key, None,
                               json.dumps({"title": title, "state": "draft"})))  # fmt: skip
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
                1,
                _iso(max(created, min(end, self.now))),
                requester,
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
    Cloudflare had a major outage earlier this month (or nine days ago on its first days)."""
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    outage = month + (now - month) / 2 if now - month >= timedelta(days=1) else now - 9 * ONE_DAY
    outage = outage.replace(minute=outage.minute - outage.minute % 5, second=0, microsecond=0)
    ago = now - timedelta(minutes=130)
    return {
        "github": [
            (now - 23 * ONE_DAY, "degraded", "Delays in GitHub Actions job starts"),
            (now - 23 * ONE_DAY + timedelta(minutes=75), "operational", OPERATIONAL),
        ],
        "cloudflare": [
            (outage, "major_outage", "Widespread 5xx errors across the Cloudflare network"),
            (outage + timedelta(minutes=160), "operational", OPERATIONAL),
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
    async with DemoBuilder(path) as builder:
        await builder.meta({"demo_seed": str(seed), "demo_now": now.isoformat()})
        rows = generator.incidents(incidents)
        while chunk := list(itertools.islice(rows, CHUNK)):
            await builder.incidents(chunk)
            await builder.events(generator.take_events())
        await builder.statuses(*recorded_statuses(now))
        await builder.changes(generator.changes(changes))
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
    return DemoResult(path, incidents, changes, time.perf_counter() - began)
