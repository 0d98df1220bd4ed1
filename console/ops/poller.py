"""The status poller: asks each configured source, through its plugin, how things are.

Runs inside the console (a worker started by the App) and headless as `opsdesk poll`.
Per source: its interval, timeout and retries with exponential backoff and jitter; a
global concurrency limit; conditional requests; a response size cap; at most five
redirects; TLS verified (optionally against the source's own CA bundle). A poll is
claimed in the store first, so several consoles poll a source once per interval between
them. A source that fails, hangs, answers garbage or whose plugin raises is recorded as
an error with the reason, its last good report kept; the others carry on.

Sources with `open_incidents = true` (Alertmanager, Prometheus) turn firing alerts into
queue incidents, deduplicated by fingerprint, and say on the incident's timeline when
the alert stops firing (resolving it too with `auto_resolve = true`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from opsdesk.console.config.model import Config, StatusSource
from opsdesk.console.config.plugin_options import plugins_for, source_options
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.plugins.api import AdapterError, Alert, NotModified, Source, StatusReport
from opsdesk.store import Actor, Store, StoreError
from opsdesk.store.incidents import TEXT_LIMIT
from opsdesk.store.records import Outcome, SourceState

CONCURRENCY = 48  # requests in flight at once (more made a local server slower, not faster)
MAX_REDIRECTS = 5
BACKOFF = 0.5  # seconds before the first retry; doubles each time, with jitter
IMPACT = {"major_outage": (1, 1), "partial_outage": (2, 1), "degraded": (2, 2)}


@dataclass(frozen=True)
class PollResult:
    source: str
    level: str | None
    error: str | None


def report_data(report: StatusReport) -> dict[str, Any]:
    return dataclasses.asdict(report)


class Poller:
    def __init__(
        self,
        store: Store,
        config: Config,
        actor: Actor,
        clock: Callable[[], datetime],
        *,
        owner: str | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.store, self.config, self.actor, self.clock = store, config, actor, clock
        self.owner = owner or f"{actor.login}@{os.uname().nodename}:{os.getpid()}"
        self._limit = asyncio.Semaphore(concurrency)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._options: dict[str, Any] = {}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    def _client(self, source: StatusSource) -> httpx.AsyncClient:
        key = source.ca_bundle
        if key not in self._clients:
            verify: ssl.SSLContext | bool = True
            if source.ca_bundle:
                verify = ssl.create_default_context(cafile=source.ca_bundle)
            self._clients[key] = httpx.AsyncClient(
                verify=verify,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                limits=httpx.Limits(max_connections=CONCURRENCY),
                headers={"User-Agent": "opsdesk status poller"},
            )
        return self._clients[key]

    async def poll(self, only: str | None = None, force: bool = False) -> list[PollResult]:
        """Poll every source that is due (or `only` that one; `force`: due or not) and
        that no other console holds; return what happened to each polled here. Claims
        and results each go to the store in one transaction per round."""
        now = self.clock()
        chosen = [s for s in self.config.sources if only in (None, s.name)]
        if only is not None and not chosen:
            names = [s.name for s in self.config.sources]
            raise OpsdeskError(f"no source named {only!r} (sources: {', '.join(names) or 'none'})")
        if not force:
            holds = {
                s.name: now + s.timeout * (s.retries + 1) + timedelta(seconds=30) for s in chosen
            }
            taken = await self.store.statuses.claim(holds, self.owner, now)
            chosen = [s for s in chosen if s.name in taken]
        if not chosen:
            return []
        states = {s.source: s for s in await self.store.statuses.all()}
        polled = await asyncio.gather(*(self._guarded(s, states.get(s.name)) for s in chosen))
        await self.store.statuses.record([outcome for outcome, _ in polled])
        results = []
        for source, (outcome, alerts) in zip(chosen, polled, strict=True):
            level = outcome.level
            if level is None and outcome.error is None and source.name in states:
                level = states[source.name].level  # not modified: the report stands
            result = PollResult(source.name, level, outcome.error)
            if alerts is not None:
                result = await self._follow_alerts(source, alerts, states.get(source.name), result)
            results.append(result)
        return results

    async def _guarded(
        self, source: StatusSource, state: SourceState | None
    ) -> tuple[Outcome, tuple[Any, tuple[Alert, ...]] | None]:
        async with self._limit:
            return await self._poll(source, state)

    async def _poll(
        self, source: StatusSource, state: SourceState | None
    ) -> tuple[Outcome, tuple[Any, tuple[Alert, ...]] | None]:
        """One source, with retries: an Outcome to record, and (options, alerts) when the
        source opens incidents from its alerts."""
        try:
            adapter, target = self._prepare(source, state.validators if state else {})
        except AdapterError as exc:
            return self._failed(source, str(exc)), None
        error = ""
        for attempt in range(source.retries + 1):
            try:
                report = await asyncio.wait_for(
                    adapter.fetch(self._client(source), target),
                    source.timeout.total_seconds() * 2,
                )
            except NotModified:
                return Outcome(source.name, self.clock(), self._due(source)), None
            except AdapterError as exc:
                error = str(exc)
            except TimeoutError:
                error = f"no report within {source.timeout.total_seconds() * 2:g} s"
            except Exception as exc:  # a plugin is someone else's code: record, carry on
                return self._failed(source, f"the {source.plugin} plugin failed: {exc!r}"), None
            else:
                outcome = Outcome(
                    source.name, self.clock(), self._due(source), level=report.level,
                    summary=one_line(report.summary, limit=300), report=report_data(report),
                    validators=target.validators,
                )  # fmt: skip
                opens = getattr(target.options, "open_incidents", False)
                return outcome, ((target.options, report.alerts) if opens else None)
            if attempt < source.retries:
                await asyncio.sleep(BACKOFF * 2**attempt * (0.5 + random.random()))
        return self._failed(source, error), None

    def _prepare(self, source: StatusSource, validators: dict[str, str]) -> tuple[Any, Source]:
        found = plugins_for(self.config)
        info = found.get(source.plugin)
        if info is None or info.adapter is None:
            reason = info.error if info else "not installed"
            raise AdapterError(f"plugin {source.plugin!r} cannot be used: {reason}")
        headers = {}
        if source.token_env:
            token = os.environ.get(source.token_env, "")
            if not token:
                raise AdapterError(f"the environment variable {source.token_env} is not set")
            if not token.isprintable() or token != token.strip():
                raise AdapterError(
                    f"the environment variable {source.token_env} holds control characters "
                    "or spaces around the token; a header cannot carry them"
                )
            is_auth = source.token_header.lower() == "authorization"
            headers[source.token_header] = f"Bearer {token}" if is_auth else token
        if source.name not in self._options:  # built once; config load already checked them
            index = next(i for i, s in enumerate(self.config.sources) if s is source)
            self._options[source.name] = source_options(info, source, index)
        target = Source(
            name=source.name,
            url=source.url,
            options=self._options[source.name],
            timeout=source.timeout.total_seconds(),
            headers=headers,
            validators=dict(validators),
            now=self.clock(),
        )
        return info.adapter(), target

    def _due(self, source: StatusSource) -> datetime:
        return self.clock() + source.interval

    def _failed(self, source: StatusSource, reason: str) -> Outcome:
        error = one_line(reason, limit=300)
        return Outcome(source.name, self.clock(), self._due(source), error=error)

    async def _follow_alerts(
        self,
        source: StatusSource,
        alerts: tuple[Any, tuple[Alert, ...]],
        state: SourceState | None,
        result: PollResult,
    ) -> PollResult:
        options, firing = alerts
        previous = (state.report or {}).get("alerts", []) if state else []
        try:
            await self._alert_incidents(source, options, firing, previous, self.clock())
        except (OpsdeskError, StoreError) as exc:
            reason = one_line(f"opening incidents: {exc}", limit=300)
            await self.store.statuses.record(
                [Outcome(source.name, self.clock(), self._due(source), error=reason)]
            )
            return PollResult(source.name, result.level, reason)
        return result

    async def _alert_incidents(
        self,
        source: StatusSource,
        options: Any,
        alerts: tuple[Alert, ...],
        previous: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        """Open an incident per firing alert (once per fingerprint) and note the ones that
        stopped firing since the last report."""
        ops = IncidentOps(self.store, self.config, self.actor)
        origin = f"{source.plugin}:{source.name}"
        firing = {a.fingerprint: a for a in alerts if not a.suppressed}
        known = {i.dedup_key for i in await self.store.incidents.from_source(origin, list(firing))}
        services = {s.name for s in self.config.services}
        for fingerprint, alert in firing.items():
            if fingerprint in known:
                continue
            service = alert.labels.get(options.service_label) or source.service
            if service not in services:
                service = source.service
            if service is None:
                continue
            impact, urgency = IMPACT.get(alert.level, (3, 3))
            title = alert.summary or alert.name
            description = "\n".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
            await ops.create(
                f"{alert.name}: {title}"[:300], service, now, impact=impact, urgency=urgency,
                description=f"Firing since {alert.started}.\n{description}"[:TEXT_LIMIT],
                source=origin, dedup_key=fingerprint,
            )  # fmt: skip
        stopped = [
            a["fingerprint"]
            for a in previous
            if not a.get("suppressed") and a.get("fingerprint") not in firing
        ]
        for incident in await self.store.incidents.from_source(origin, stopped):
            if incident.state in ("resolved", "closed"):
                continue
            await ops.note(incident.key, f"The alert stopped firing ({source.name}).", now)
            if options.auto_resolve:
                await ops.transition(
                    incident.key, "resolve", now, code="fixed",
                    note=f"Resolved automatically: the alert stopped firing ({source.name}).",
                )  # fmt: skip
