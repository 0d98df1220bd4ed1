"""Alerts pushed to `opsdesk serve`, turned into queue changes in one transaction.

Per alert, by its integration and dedup key (a fingerprint, a PagerDuty dedup_key):
- firing, with an open incident: nothing (Alertmanager re-sends the whole group every
  few minutes; the same payload twice changes nothing);
- firing, none open: reopen the latest it opened if the lifecycle allows (resolved,
  within `queue.reopen_days`), else open a new one; either pages level 1;
- acknowledge (PagerDuty events): acknowledge its open incident;
- resolved: note it on the open incident, and resolve it when the integration says so.
Everything is done as the system (`opsdesk`), with the integration named on the timeline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from opsdesk.console.config.model import Config, Integration
from opsdesk.console.domain.inbound import InboundAlert
from opsdesk.console.domain.lifecycle import OPEN_STATES
from opsdesk.console.errors import InputError
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.pager import SYSTEM
from opsdesk.store import Incident, Store
from opsdesk.store.incidents import TEXT_LIMIT


class NoService(InputError):
    """An alert that names no service opsdesk knows, from an integration that has none."""


@dataclass
class Intake:
    """What one request did, for its answer and the metrics."""

    received: int = 0
    opened: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)
    unchanged: int = 0
    keys: list[str] = field(default_factory=list)  # each alert's dedup key, as used

    def summary(self) -> dict[str, object]:
        return {
            "received": self.received,
            "opened": self.opened,
            "reopened": self.reopened,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "noted": self.noted,
            "unchanged": self.unchanged,
            "keys": self.keys,
        }


def origin_of(integration: Integration) -> str:
    """The incidents' `source`: which integration opened them (dedupe is per integration)."""
    return f"{integration.kind}:{integration.name}"


def generated_key() -> str:
    """A PagerDuty trigger without a dedup_key gets a fresh one, as PagerDuty does: every
    such event is its own alert (the 202 answer returns it for acknowledging later)."""
    return uuid.uuid4().hex


def impact_urgency(config: Config, priority: str) -> tuple[int, int]:
    """The impact and urgency whose priority-matrix cell gives `priority` (the most
    severe such cell), so the incident's priority is what the severity map says."""
    for impact, row in enumerate(config.priority.matrix, start=1):
        for urgency, cell in enumerate(row, start=1):
            if cell == priority:
                return impact, urgency
    return 3, 3


class AlertIntake:
    def __init__(self, store: Store, config: Config) -> None:
        self.store, self.config = store, config
        self.ops = IncidentOps(store, config, SYSTEM)

    async def take(
        self, integration: Integration, alerts: list[InboundAlert], now: datetime
    ) -> Intake:
        """Apply every alert of one request, all or nothing."""
        done = Intake(received=len(alerts))
        origin = origin_of(integration)
        keys = [alert.dedup_key or generated_key() for alert in alerts]
        done.keys = keys
        async with self.store.atomic():
            await self.store.hold(f"alert-intake:{origin}")  # one serve host at a time
            # One query for the whole group (Alertmanager re-sends it every few minutes).
            histories: dict[str, list[Incident]] = {}
            for incident in await self.store.incidents.from_source(origin, sorted(set(keys))):
                histories.setdefault(incident.dedup_key or "", []).append(incident)
            for alert, key in zip(alerts, keys, strict=True):
                history = histories.get(key, [])
                if alert.action == "trigger" and any(i.state in OPEN_STATES for i in history):
                    done.unchanged += 1  # the common case: still firing, already open
                    continue
                history = await self.store.incidents.from_source(origin, [key])  # as it is now
                await self._one(integration, alert, key, history, now, done)
        return done

    async def _one(
        self,
        integration: Integration,
        alert: InboundAlert,
        key: str,
        history: list[Incident],
        now: datetime,
        done: Intake,
    ) -> None:
        current = next((i for i in history if i.state in OPEN_STATES), None)
        words = f"{alert.title} ({integration.name}, {key[:16]})"
        if alert.action == "trigger":
            if current is not None:
                done.unchanged += 1
                return
            latest = history[-1] if history else None
            if latest is not None and self.ops.reopenable(latest, now):
                why = f"Reopened: the alert fires again: {words}"
                await self.ops.reopen_for_alert(latest.key, now, why, version=latest.version)
                done.reopened.append(latest.key)
                return
            created = await self._open(integration, alert, key, words, now)
            done.opened.append(created.key)
            return
        if current is None:
            done.unchanged += 1  # nothing open: a resolve (or ack) sent twice, or too late
            return
        if alert.action == "acknowledge":
            if current.state != "new":
                done.unchanged += 1
                return
            await self.ops.transition(
                current.key,
                "acknowledge",
                now,
                version=current.version,
                via=f"{integration.name} integration",
            )
            done.acknowledged.append(current.key)
            return
        if integration.auto_resolve:
            await self.ops.transition(
                current.key,
                "resolve",
                now,
                code="fixed",
                version=current.version,
                note=f"Resolved automatically: the alert resolved ({integration.name}).",
            )
            done.resolved.append(current.key)
        else:
            await self.ops.note(current.key, f"The alert resolved ({integration.name}).", now)
            done.noted.append(current.key)

    async def _open(
        self, integration: Integration, alert: InboundAlert, key: str, words: str, now: datetime
    ) -> Incident:
        names = {s.name for s in self.config.services}
        service = alert.service if alert.service and (alert.service in names or not names) else None
        service = service or integration.service
        if service is None:
            raise NoService(
                f"integration {integration.name!r}: the alert names no known service (label "
                f"{integration.service_label!r}) and the integration sets no `service`"
            )
        impact, urgency = impact_urgency(self.config, alert.priority)
        started = f"Firing since {alert.started:%Y-%m-%d %H:%M:%S} UTC.\n" if alert.started else ""
        link = f"{alert.url}\n" if alert.url else ""
        return await self.ops.create(
            alert.title[:300],
            service,
            now,
            impact=impact,
            urgency=urgency,
            description=f"{started}{link}{alert.description}"[:TEXT_LIMIT],
            source=origin_of(integration),
            dedup_key=key,
            opened_by=f"Opened by alert {words}",
        )
