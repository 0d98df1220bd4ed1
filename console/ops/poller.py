"""The status poller: asks each configured source, through its plugin, how things are.

Runs inside the console (a worker started by the App) and headless as `opsdesk poll`.
Per source: its interval, timeout and retries with exponential backoff and jitter; a
global concurrency limit; conditional requests; a response size cap; at most five
redirects; TLS verified (optionally against the source's own CA bundle). A poll is
claimed in the store first, so several consoles poll a source once per interval between
them. A source that fails, hangs, answers garbage or whose plugin raises is recorded as
an error with the reason, its last good report kept; the others carry on.

Sources with `open_incidents = true` (Alertmanager, Prometheus) turn firing alerts into
queue incidents, deduplicated by fingerprint among open incidents: an alert that fires
again reopens the incident it opened last (resolved, within `queue.reopen_days`) or opens
a new one, and the timeline says which alert brought it back. When the alert stops
firing the incident's timeline says so (and `auto_resolve = true` resolves it).

"Stopped firing" is seen by comparing a report's alerts with the last stored report's,
so a round's reports and what their alerts did to the queue are one transaction: a
poller that dies in between leaves the old report, and the next round sees the change
again. Firing needs no comparison: every round opens what is missing.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import os
import random
import ssl
import threading
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from opsdesk.console.config.model import Config, StatusSource
from opsdesk.console.config.plugin_options import plugins_for, source_options
from opsdesk.console.domain.lifecycle import OPEN_STATES
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.plugins.api import AdapterError, Alert, NotModified, Source, StatusReport
from opsdesk.store import Actor, Incident, Store, StoreError
from opsdesk.store.incidents import TEXT_LIMIT
from opsdesk.store.location import StoreLocation, parse_location
from opsdesk.store.records import Outcome

CONCURRENCY = 48  # requests in flight at once (more made a local server slower, not faster)
MAX_REDIRECTS = 5
BACKOFF = 0.5  # seconds before the first retry; doubles each time, with jitter
IMPACT = {"major_outage": (1, 1), "partial_outage": (2, 1), "degraded": (2, 2)}
T = TypeVar("T")


@dataclass(frozen=True)
class PollResult:
    source: str
    level: str | None
    error: str | None


def report_data(report: StatusReport) -> dict[str, Any]:
    """The report as plain data for the store: what `dataclasses.asdict` gives, without
    its deep copy of every string and date (a report's fields are immutable), which made
    it a tenth of the poller's own CPU in a round of 500 sources."""
    data = _plain(report)
    assert isinstance(data, dict)
    return data


_SCALARS = (str, int, float, type(None), datetime)
_EXACTLY = frozenset((str, int, float, bool, type(None), datetime))  # a set lookup, no call
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _EXACTLY or isinstance(value, _SCALARS):  # bool is an int
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(value):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        data = {}
        for name in names:  # most fields are text or dates: no call for those
            item = getattr(value, name)
            data[name] = item if type(item) in _EXACTLY else _plain(item)
        return data
    if kind is tuple or kind is list:  # a list, not a generator, and scalars uncalled
        return kind([item if type(item) in _EXACTLY else _plain(item) for item in value])
    if isinstance(value, list | tuple):
        return kind(_plain(item) for item in value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return copy.deepcopy(value)


def alert_words(alert: Alert, origin: str) -> str:
    """How a timeline names an alert: its name, source and fingerprint, and summary."""
    words = f"{alert.name} ({origin}, fingerprint {alert.fingerprint})"
    return one_line(f"{words}: {alert.summary}" if alert.summary else words, limit=1000)


def not_reopened(incident: Incident, now: datetime, reopen_days: int) -> str:
    """Why the incident an alert opened last is not the one it reopens."""
    if incident.state == "resolved" and incident.resolved_at is not None:
        days = (now - incident.resolved_at).days
        return f"{incident.key} was resolved {days} days ago (reopen_days is {reopen_days})"
    return f"{incident.key} is {incident.state.replace('_', ' ')}"


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
        self._concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        self._lanes = list(range(concurrency))  # the lanes not in use
        self._clients: dict[tuple[int, str], httpx.AsyncClient] = {}  # (lane, CA bundle)
        self._tls: dict[str, ssl.SSLContext] = {}  # by CA bundle ("": the default trust)
        self._options: dict[str, Any] = {}
        self._memos: dict[str, dict[str, Any]] = {}  # each source's Source.memo
        # Each source's last report and what was made of it for the store: a plugin that
        # hands back the very same report (get_report, for an unchanged answer) costs no
        # second conversion.
        self._stored: dict[str, tuple[StatusReport, dict[str, Any], str]] = {}
        self._thread: PollThread | None = None

    def off_loop(self) -> PollThread:
        """This poller's twin on a thread of its own (made once, closed by `close`): what
        the console polls through, so its event loop keeps reading keys during a round."""
        if self._thread is None:
            self._thread = PollThread(
                self.store.location, self.config, self.actor, self.clock,
                group=self.config.store.group, owner=self.owner, concurrency=self._concurrency,
            )  # fmt: skip
        return self._thread

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        if self._thread is not None:
            await self._thread.close()
            self._thread = None

    def _client(self, source: StatusSource, lane: int) -> httpx.AsyncClient:
        """The client of `lane` for sources that trust `source.ca_bundle`. A lane carries
        one request at a time, so each lane has a client of its own with one connection,
        rather than all sharing one pool of CONCURRENCY connections: httpcore 1.0 scans
        every connection of a pool for each request that comes or goes, and hands an idle
        connection to several waiting requests at once, the losers scanning again
        (encode/httpcore#1035); in one shared pool that bookkeeping was half a round's
        CPU, and a round could spiral into four times as much."""
        key = (lane, source.ca_bundle)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = httpx.AsyncClient(
                verify=self._context(source.ca_bundle),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                limits=httpx.Limits(max_connections=1),
                headers={"User-Agent": "opsdesk status poller"},
            )
        return client

    def _context(self, ca_bundle: str) -> ssl.SSLContext:
        """One TLS context per CA bundle for all lanes (making one reads the bundle)."""
        context = self._tls.get(ca_bundle)
        if context is None:
            if ca_bundle:
                context = ssl.create_default_context(cafile=ca_bundle)
            else:  # what httpx's verify=True means: certifi, or SSL_CERT_FILE / _DIR
                context = httpx.create_ssl_context()
            self._tls[ca_bundle] = context
        return context

    async def poll(self, only: str | None = None, force: bool = False) -> list[PollResult]:
        """Poll every source that is due (or `only` that one; `force`: due or not) and
        that no other console holds; return what happened to each polled here. Claims
        go to the store in one transaction per round, and so do the results together with
        what their alerts did to the queue."""
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
        states = await self.store.statuses.levels_and_validators()
        polled = await asyncio.gather(
            *(self._guarded(s, states.get(s.name, (None, {}))[1]) for s in chosen)
        )
        results = []
        async with self.store.statuses.round():  # the reports and what their alerts did
            plain = [outcome for outcome, alerts in polled if alerts is None]
            if plain:
                await self.store.statuses.record(plain)
            for source, (outcome, alerts) in zip(chosen, polled, strict=True):
                level = outcome.level
                if level is None and outcome.error is None and source.name in states:
                    level = states[source.name][0]  # not modified: the report stands
                result = PollResult(source.name, level, outcome.error)
                if alerts is not None:
                    result = await self._follow_alerts(source, outcome, alerts, result)
                results.append(result)
        return results

    async def _guarded(
        self, source: StatusSource, validators: dict[str, str]
    ) -> tuple[Outcome, tuple[Any, tuple[Alert, ...]] | None]:
        async with self._limit:
            lane = self._lanes.pop()  # the semaphore leaves one free
            try:
                return await self._poll(source, validators, lane)
            finally:
                self._lanes.append(lane)

    async def _poll(
        self, source: StatusSource, validators: dict[str, str], lane: int
    ) -> tuple[Outcome, tuple[Any, tuple[Alert, ...]] | None]:
        """One source, with retries: an Outcome to record, and (options, alerts) when the
        source opens incidents from its alerts; `validators`: its stored ETag and
        Last-Modified."""
        try:
            adapter, target = self._prepare(source, validators)
        except AdapterError as exc:
            return self._failed(source, str(exc)), None
        error = ""
        for attempt in range(source.retries + 1):
            try:  # asyncio.timeout, not wait_for: no second task per request
                async with asyncio.timeout(source.timeout.total_seconds() * 2):
                    report = await adapter.fetch(self._client(source, lane), target)
            except NotModified:
                return Outcome(source.name, self.clock(), self._due(source)), None
            except AdapterError as exc:
                error = str(exc)
            except TimeoutError:
                error = f"no report within {source.timeout.total_seconds() * 2:g} s"
            except Exception as exc:  # a plugin is someone else's code: record, carry on
                return self._failed(source, f"the {source.plugin} plugin failed: {exc!r}"), None
            else:
                data, summary = self._converted(source.name, report)
                outcome = Outcome(
                    source.name,
                    self.clock(),
                    self._due(source),
                    level=report.level,
                    summary=summary,
                    report=data,
                    validators=target.validators,
                )
                opens = getattr(target.options, "open_incidents", False)
                return outcome, ((target.options, report.alerts) if opens else None)
            if attempt < source.retries:
                await asyncio.sleep(BACKOFF * 2**attempt * (0.5 + random.random()))
        return self._failed(source, error), None

    def _converted(self, name: str, report: StatusReport) -> tuple[dict[str, Any], str]:
        """The report as plain data and its one-line summary, for the store; reused when
        the plugin returned the same report object as last time."""
        last = self._stored.get(name)
        if last is not None and last[0] is report:
            return last[1], last[2]
        data, summary = report_data(report), one_line(report.summary, limit=300)
        self._stored[name] = (report, data, summary)
        return data, summary

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
            memo=self._memos.setdefault(source.name, {}),
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
        outcome: Outcome,
        alerts: tuple[Any, tuple[Alert, ...]],
        result: PollResult,
    ) -> PollResult:
        """Store the source's report and act on its alerts, all or nothing. If acting
        fails, the report is not stored either (an error saying why is), so the next
        round compares with the report whose alerts were acted on and tries again."""
        options, firing = alerts
        try:
            async with self.store.statuses.round():
                # Read inside the transaction: the report the last acted-on round left.
                state = await self.store.statuses.get(source.name)
                previous = (state.report or {}).get("alerts", []) if state else None
                await self.store.statuses.record([outcome])
                await self._alert_incidents(source, options, firing, previous, self.clock())
        except (OpsdeskError, StoreError) as exc:
            reason = one_line(f"acting on alerts: {exc}", limit=300)
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
        previous: list[dict[str, Any]] | None,
        now: datetime,
    ) -> None:
        """Keep the queue in step with the source's alerts. Every firing alert has an open
        incident: when none is open, the alert reopens the latest one it opened if the
        lifecycle allows (resolved, within `queue.reopen_days`), else it opens a new one.
        An alert that stopped firing since the last report (`previous`: None when there
        was none) is noted on its open incident, which `auto_resolve` also resolves.
        Silenced and inhibited alerts count as not firing."""
        ops = IncidentOps(self.store, self.config, self.actor)
        origin = f"{source.plugin}:{source.name}"
        firing = {a.fingerprint: a for a in alerts if not a.suppressed}
        was_firing = [
            str(a["fingerprint"])
            for a in previous or []
            if not a.get("suppressed") and a.get("fingerprint") is not None
        ]
        opened: dict[str, list[Incident]] = {}
        for incident in await self.store.incidents.from_source(origin, list(firing)):
            opened.setdefault(incident.dedup_key or "", []).append(incident)
        before = set(was_firing)
        for fingerprint, alert in firing.items():
            again = fingerprint not in before
            await self._alert_firing(
                ops, source, options, alert, opened.get(fingerprint, []), again, previous, now
            )
        stopped = [fingerprint for fingerprint in was_firing if fingerprint not in firing]
        for incident in await self.store.incidents.from_source(origin, stopped):
            if incident.state not in OPEN_STATES:
                continue
            await ops.note(incident.key, f"The alert stopped firing ({source.name}).", now)
            if options.auto_resolve:
                await ops.transition(
                    incident.key,
                    "resolve",
                    now,
                    code="fixed",
                    note=f"Resolved automatically: the alert stopped firing ({source.name}).",
                    version=incident.version,
                )

    async def _alert_firing(
        self,
        ops: IncidentOps,
        source: StatusSource,
        options: Any,
        alert: Alert,
        opened: list[Incident],
        again: bool,
        previous: list[dict[str, Any]] | None,
        now: datetime,
    ) -> None:
        """One firing alert and the incidents it opened before, oldest first. `again`:
        it was not firing in the last report (it stopped, or was silenced, and is back);
        otherwise it kept firing while someone resolved or closed its incident."""
        origin = f"{source.plugin}:{source.name}"
        words = alert_words(alert, origin)
        still = "firing again" if again else "still firing"
        current = next((i for i in opened if i.state in OPEN_STATES), None)
        if current is not None:  # dedupe: the alert has its open incident
            if again and previous is not None:
                await ops.note(current.key, f"The alert is firing again: {words}", now)
            return
        latest = opened[-1] if opened else None
        if latest is not None and ops.reopenable(latest, now):
            why = f"Reopened: the alert is {still}: {words}"
            await ops.reopen_for_alert(latest.key, now, why, version=latest.version)
            return
        service = alert.labels.get(options.service_label) or source.service
        if service not in {s.name for s in self.config.services}:
            service = source.service
        if service is None:
            return
        why = f"Opened by alert {words}"
        if latest is not None:
            gone = not_reopened(latest, now, self.config.queue.reopen_days)
            why = f"Opened: the alert is {still} and {gone}: {words}"
        impact, urgency = IMPACT.get(alert.level, (3, 3))
        title = alert.summary or alert.name
        description = "\n".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        await ops.create(
            f"{alert.name}: {title}"[:300],
            service,
            now,
            impact=impact,
            urgency=urgency,
            description=f"Firing since {alert.started}.\n{description}"[:TEXT_LIMIT],
            source=origin,
            dedup_key=alert.fingerprint,
            opened_by=why,
        )


class PollThread:
    """The poller on a thread of its own, with its own event loop and its own connection
    to the store at `path` (a connection belongs to the loop that opened it).
    A round of hundreds of sources is CPU-bound (HTTP parsing, JSON, the round's writes);
    here it never holds up the loop that awaits it, which in the console reads the keys
    and draws. Results reach the screens through the change feed, as another console's
    would. `poll` may be awaited from any loop; one round runs at a time."""

    def __init__(
        self,
        path: str | StoreLocation,
        config: Config,
        actor: Actor,
        clock: Callable[[], datetime],
        *,
        group: str | None = None,
        owner: str | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.path = parse_location(path)
        self.config, self.actor, self.clock = config, actor, clock
        self._group, self._owner, self._concurrency = group, owner, concurrency
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="opsdesk-poll")
        self._thread.daemon = True  # a hung source must not keep a closing console alive
        self._thread.start()
        self._poller: Poller | None = None
        self._store: Store | None = None

    async def _run(self, call: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, self._loop))

    async def _open(self) -> Poller:
        if self._poller is None:
            self._store = await Store.open(self.path, group=self._group)
            self._poller = Poller(
                self._store, self.config, self.actor, self.clock,
                owner=self._owner, concurrency=self._concurrency,
            )  # fmt: skip
        return self._poller

    async def _poll(self, only: str | None, force: bool) -> list[PollResult]:
        return await (await self._open()).poll(only, force)

    async def poll(self, only: str | None = None, force: bool = False) -> list[PollResult]:
        """What `Poller.poll` does, on the poller's thread."""
        return await self._run(self._poll(only, force))

    async def _close(self) -> None:
        try:
            if self._poller is not None:
                await self._poller.close()
        finally:
            if self._store is not None:
                await self._store.close()
            self._poller = self._store = None

    async def close(self) -> None:
        """Close the clients and the store connection, then stop the thread."""
        if not self._thread.is_alive():
            return
        try:
            await self._run(self._close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)
            self._loop.close()
