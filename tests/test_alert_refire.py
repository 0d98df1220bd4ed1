"""An outage is never missed: an alert that fires again reopens its resolved incident (or
opens a new one once that is closed or past `queue.reopen_days`), and a poller killed in
the middle of a round loses neither "firing" nor "stopped firing". All through the real
poller against the real loopback status server speaking Alertmanager's API, on a real
SQLite store; the kills are real SIGKILLs of a polling process."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.config.model import Config
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, NewIncident, Store
from opsdesk.store import db as db_module
from opsdesk.store.errors import InvalidOperation
from opsdesk.store.records import Incident, IncidentEvent
from tests.conftest import FIXED_NOW, ROOT
from tests.status_server import StatusServer

ME = Actor("ana", frozenset({"lead"}))
ORIGIN = "alertmanager:prod"
FINGERPRINT = "aaaa000000000001"
CARD_AUTH = {
    "labels": {"alertname": "CardAuthFailing", "severity": "critical", "service": "payments"},
    "annotations": {"summary": "card auth errors above 5%"},
    "fingerprint": FINGERPRINT,
    "startsAt": "2026-11-25T11:50:00Z",
    "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
}
STOPPED = "The alert stopped firing (prod)."
MINUTE = timedelta(minutes=1)
SCHEMA_BEFORE = 8  # the store this change migrates from (0009 may come from elsewhere)


def team(server: StatusServer, *, auto_resolve: bool = True) -> str:
    return f"""
[[services]]
name = "payments"
[[sources]]
name = "prod"
plugin = "alertmanager"
url = "{server.base}"
service = "payments"
interval = "1m"
timeout = "2s"
retries = 0
open_incidents = true
auto_resolve = {"true" if auto_resolve else "false"}
[reviews]
required_for = []  # these P1s close without a post-incident review
"""


def fire(server: StatusServer, *alerts: dict[str, Any]) -> None:
    server.serve("/api/v2/alerts", body=json.dumps(list(alerts or [CARD_AUTH])).encode())


def stop(server: StatusServer) -> None:
    server.serve("/api/v2/alerts", body=b"[]")


class Console:
    """A console polling on a clock the test moves."""

    def __init__(self, store: Store, config: Config, now: datetime = FIXED_NOW) -> None:
        self.store, self.config, self.now = store, config, now
        self.poller = Poller(store, config, ME, lambda: self.now)

    async def poll(self, after: timedelta = MINUTE) -> None:
        self.now += after
        [result] = await self.poller.poll()
        assert result.error is None, result.error

    async def incidents(self) -> list[Incident]:
        found = await self.store.incidents.from_source(ORIGIN, [FINGERPRINT])
        return sorted(found, key=lambda i: i.id)

    async def events(self, incident: Incident) -> list[IncidentEvent]:
        return await self.store.incidents.events(incident.key)

    async def human(self, key: str, verb: str) -> Incident:
        ops = IncidentOps(self.store, self.config, Actor("ben"))
        if verb == "resolve":
            note = "restarted the card auth service"
            return await ops.transition(key, verb, self.now, code="fixed", note=note)
        return await ops.transition(key, verb, self.now)


def names_the_alert(detail: str) -> bool:
    return all(
        part in detail
        for part in ("CardAuthFailing", "card auth errors above 5%", ORIGIN, FINGERPRINT)
    )


# The refire lifecycle ------------------------------------------------------------------


async def test_an_alert_that_fires_again_reopens_then_opens_anew(
    server: StatusServer, tmp_path: Path
) -> None:
    config = parse_text(team(server), "team")
    async with await Store.open(tmp_path / "s.db") as store:
        console = Console(store, config, FIXED_NOW - MINUTE)
        try:
            fire(server)
            await console.poll()
            [first] = await console.incidents()
            [created] = await console.events(first)
            assert (created.kind, created.actor) == ("created", ME.login)
            assert names_the_alert(created.detail) and created.detail.startswith("Opened by")

            stop(server)
            await console.poll()
            first = await store.incidents.get(first.key)
            assert first.state == "resolved"
            assert STOPPED in [e.detail for e in await console.events(first)]

            fire(server)  # fires again while its incident is resolved: reopened
            await console.poll()
            assert [i.key for i in await console.incidents()] == [first.key]
            first = await store.incidents.get(first.key)
            assert (first.state, first.resolved_at, first.resolution_code) == (
                "in_progress", None, None,
            )  # fmt: skip
            reopened = (await console.events(first))[-1]
            assert (reopened.kind, reopened.state, reopened.actor) == (
                "state", "in_progress", ME.login,
            )  # fmt: skip
            assert names_the_alert(reopened.detail) and "firing again" in reopened.detail
            count = len(await console.events(first))
            await console.poll()  # still firing: the open incident is the one
            assert len(await console.incidents()) == 1
            assert len(await console.events(first)) == count

            stop(server)
            await console.poll()
            await console.human(first.key, "close")  # a person closes it
            fire(server)  # fires again after its incident was closed: a new incident
            await console.poll()
            closed, second = await console.incidents()
            assert (closed.key, closed.state) == (first.key, "closed")
            assert second.id > first.id and second.state == "new"
            assert (second.source, second.dedup_key, second.priority) == (ORIGIN, FINGERPRINT, "P1")
            [created] = await console.events(second)
            assert created.actor == ME.login and names_the_alert(created.detail)
            assert f"{first.key} is closed" in created.detail

            stop(server)
            await console.poll()
            days = config.queue.reopen_days
            fire(server)  # fires again, but its incident was resolved too long ago
            await console.poll(timedelta(days=days, minutes=1))
            _, past, third = await console.incidents()
            assert (past.key, past.state, third.state) == (second.key, "resolved", "new")
            [created] = await console.events(third)
            assert names_the_alert(created.detail)
            assert f"{second.key} was resolved {days} days ago" in created.detail
        finally:
            await console.poller.close()


async def test_resolving_while_the_alert_still_fires_reopens_it(
    server: StatusServer, tmp_path: Path
) -> None:
    """Dedupe counts open incidents only: an incident a person resolves (or closes) while
    its alert keeps firing comes back on the next poll, saying the alert is still firing,
    so an outage that was not over is not lost. (Silence the alert to stop that.)"""
    config = parse_text(team(server), "team")
    async with await Store.open(tmp_path / "s.db") as store:
        console = Console(store, config)
        try:
            fire(server)
            await console.poll()
            [incident] = await console.incidents()
            await console.human(incident.key, "resolve")
            await console.poll()
            incident = await store.incidents.get(incident.key)
            assert incident.state == "in_progress"
            reopened = (await console.events(incident))[-1]
            assert names_the_alert(reopened.detail) and "still firing" in reopened.detail

            silenced = dict(CARD_AUTH, status={"state": "suppressed", "silencedBy": ["s1"]})
            fire(server, silenced)
            await console.poll()  # silenced counts as stopped: resolved automatically
            await console.human(incident.key, "close")
            await console.poll()
            assert [i.state for i in await console.incidents()] == ["closed"]
        finally:
            await console.poller.close()


async def test_without_auto_resolve_the_timeline_says_stopped_and_firing_again(
    server: StatusServer, tmp_path: Path
) -> None:
    config = parse_text(team(server, auto_resolve=False), "team")
    async with await Store.open(tmp_path / "s.db") as store:
        console = Console(store, config)
        try:
            fire(server)
            await console.poll()
            stop(server)
            await console.poll()
            fire(server)
            await console.poll()
            [incident] = await console.incidents()
            assert incident.state == "new"  # never resolved, so nothing to reopen
            notes = [e.detail for e in await console.events(incident) if e.kind == "note"]
            assert notes[0] == STOPPED
            assert len(notes) == 2 and names_the_alert(notes[1]) and "firing again" in notes[1]
        finally:
            await console.poller.close()


async def test_a_source_whose_alerts_cannot_be_acted_on_keeps_its_last_acted_report(
    server: StatusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acting on one source's alerts fails: its incident writes and its new report roll
    back together (an error saying why is stored instead), the other source's stand, and
    the next round compares with the report whose alerts were acted on, so nothing is
    lost."""
    stage = team(server).split("[[sources]]")[1].split("[reviews]")[0]
    stage = stage.replace('name = "prod"', 'name = "stage"')
    config = parse_text(team(server) + "[[sources]]" + stage, "team")  # same endpoint twice
    failing = {"alertmanager:prod"}
    real_create = IncidentOps.create

    async def create(self: IncidentOps, *args: Any, **kwargs: Any) -> Incident:
        incident = await real_create(self, *args, **kwargs)  # written, then undone
        if kwargs.get("source") in failing:
            raise InvalidOperation("the store said no")
        return incident

    monkeypatch.setattr(IncidentOps, "create", create)
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, ME, lambda: FIXED_NOW)
        later = Poller(store, config, ME, lambda: FIXED_NOW + 2 * MINUTE)
        try:
            fire(server)
            results = {r.source: r for r in await poller.poll()}
            assert results["prod"].error == "acting on alerts: the store said no"
            assert results["stage"].error is None
            assert await store.incidents.from_source("alertmanager:prod") == []
            [staged] = await store.incidents.from_source("alertmanager:stage")
            prod = await store.statuses.get("prod")
            assert prod is not None and prod.error == "acting on alerts: the store said no"
            assert prod.report is None and prod.failures == 1  # no report stored without its acts

            failing.clear()
            results = {r.source: r for r in await later.poll()}
            assert {r.error for r in results.values()} == {None}
            [opened] = await store.incidents.from_source("alertmanager:prod")
            assert opened.dedup_key == FINGERPRINT
            assert [i.key for i in await store.incidents.from_source("alertmanager:stage")] == [
                staged.key
            ]
        finally:
            await poller.close()
            await later.close()


async def test_a_round_is_joined_by_its_own_task_only(tmp_path: Path) -> None:
    """Writes the poller makes inside its round join the round's transaction; a write from
    any other task (a person's key in the console) waits for the round to commit instead
    of slipping into it, even though that task inherited the poller's context."""
    async with await Store.open(tmp_path / "s.db") as store:
        person = Actor("ben")

        async def elsewhere() -> Incident:
            return await store.incidents.create(
                person, NewIncident("by hand", "payments", 3, 3, "P4"), FIXED_NOW
            )

        async with store.statuses.round():
            other = asyncio.create_task(elsewhere())
            for _ in range(20):  # let it run as far as it can: up to the write lock
                await asyncio.sleep(0)
            assert not other.done()
            inside = await store.incidents.create(
                ME, NewIncident("by the poller", "payments", 3, 3, "P4"), FIXED_NOW
            )
        by_hand = await asyncio.wait_for(other, 10)
        assert (inside.key, by_hand.key) == ("INC-1", "INC-2")
        actions = [(a.actor, a.action) for a in await store.audit.entries()]
        assert actions == [("ana", "incident.create"), ("ben", "incident.create")]


# The migration -------------------------------------------------------------------------


async def schema_8_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store as the release before this one left it: a closed incident its alert opened,
    and the source's last report saying that alert fires again (which opened nothing)."""
    first = db_module.migrations()[:SCHEMA_BEFORE]
    assert first[-1][0] == SCHEMA_BEFORE
    with monkeypatch.context() as patch:
        patch.setattr(db_module, "migrations", lambda: first)
        patch.setattr(db_module, "LATEST_SCHEMA", SCHEMA_BEFORE)
        await (await Store.open(path)).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO incidents (title, service, impact, urgency, priority, state, reporter,"
            " source, dedup_key, created_at, resolved_at, closed_at, resolution_code,"
            " updated_at, updated_by) VALUES ('CardAuthFailing: card auth errors above 5%',"
            " 'payments', 1, 1, 'P1', 'closed', 'ana', ?, ?, '2026-11-20T10:00:00Z',"
            " '2026-11-20T11:00:00Z', '2026-11-21T09:00:00Z', 'fixed', '2026-11-21T09:00:00Z',"
            " 'ben')",
            (ORIGIN, FINGERPRINT),
        )
        report = {"alerts": [{"fingerprint": FINGERPRINT, "suppressed": False}]}
        conn.execute(
            "INSERT INTO source_status (source, level, report, checked_at, last_ok_at,"
            " next_due) VALUES ('prod', 'major_outage', ?, '2026-11-25T11:00:00Z',"
            " '2026-11-25T11:00:00Z', '2026-11-25T11:01:00Z')",
            (json.dumps(report),),
        )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_BEFORE
    conn.close()


def dedup_indexes(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents'"
            " AND sql LIKE '%dedup_key%'"
        ).fetchall()
    finally:
        conn.close()
    return dict(rows)


async def test_migrating_a_store_whose_alert_fires_again_after_its_incident_closed(
    server: StatusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    await schema_8_store(path, monkeypatch)
    config = parse_text(team(server), "team")
    async with await Store.open(path) as store:
        assert (await store.info()).schema_version == db_module.LATEST_SCHEMA >= 10
        indexes = dedup_indexes(path)
        assert "incidents_dedup" not in indexes  # the one that counted closed incidents
        unique = [sql for sql in indexes.values() if "UNIQUE" in sql]
        assert len(unique) == 1 and "'new', 'acknowledged', 'in_progress', 'on_hold'" in unique[0]

        console = Console(store, config)
        try:
            fire(server)
            await console.poll()
        finally:
            await console.poller.close()
        old, new = await console.incidents()
        assert (old.key, old.state) == ("INC-1", "closed")
        assert (new.key, new.state, new.dedup_key) == ("INC-2", "new", FINGERPRINT)
        [created] = await console.events(new)
        assert names_the_alert(created.detail) and "INC-1 is closed" in created.detail
        assert "still firing" in created.detail  # the last report had it firing already

        # Open incidents are still unique per alert, in the store itself.
        again = NewIncident("dup", "payments", 1, 1, "P1", source=ORIGIN, dedup_key=FINGERPRINT)
        with pytest.raises(InvalidOperation, match="UNIQUE"):
            await store.incidents.create(ME, again, FIXED_NOW)
    assert len(list(tmp_path.glob(f"old.db.schema{SCHEMA_BEFORE}-*.bak"))) == 1


# A poller killed in the middle of a round ----------------------------------------------


async def run_doomed_poll(store: Path, config: Path, now: datetime, point: str) -> None:
    """One poll in its own process, SIGKILLed at `point` (tests/poll_kill_worker.py)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.poll_kill_worker", str(store), str(config),
        now.isoformat(), point, cwd=ROOT, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == -signal.SIGKILL, (point, process.returncode, err.decode())


KILL_POINTS = ["recorded", "acted", "committed"]
# A dead poller's claim on the source lapses after timeout x (retries + 1) + 30 s; the next
# console polls it once it has (its normal interval has passed by then too).
AFTER_THE_CLAIM = timedelta(minutes=5)


@pytest.mark.parametrize("point", KILL_POINTS)
async def test_stopped_firing_survives_a_poller_killed_mid_round(
    server: StatusServer, tmp_path: Path, point: str
) -> None:
    config_path, store_path = tmp_path / "team.toml", tmp_path / "s.db"
    config_path.write_text(team(server))
    config = parse_text(config_path.read_text(), "team")
    async with await Store.open(store_path) as store:
        console = Console(store, config)
        try:
            fire(server)
            await console.poll()
            [incident] = await console.incidents()

            stop(server)
            console.now += 2 * MINUTE
            await run_doomed_poll(store_path, config_path, console.now, point)
            await console.poll(AFTER_THE_CLAIM)
            await console.poll(AFTER_THE_CLAIM)  # and nothing happens twice

            [incident] = await console.incidents()
            assert incident.state == "resolved"  # not a P1 left open on a quiet source
            events = await console.events(incident)
            assert [e.detail for e in events].count(STOPPED) == 1
            assert [e.state for e in events if e.kind == "state"] == ["resolved"]
            state = await store.statuses.get("prod")
            assert state is not None and state.report is not None
            assert (state.level, state.report["alerts"]) == ("operational", [])
        finally:
            await console.poller.close()


@pytest.mark.parametrize("point", KILL_POINTS)
async def test_firing_survives_a_poller_killed_mid_round(
    server: StatusServer, tmp_path: Path, point: str
) -> None:
    config_path, store_path = tmp_path / "team.toml", tmp_path / "s.db"
    config_path.write_text(team(server))
    config = parse_text(config_path.read_text(), "team")
    async with await Store.open(store_path) as store:
        console = Console(store, config)
        try:
            fire(server)
            await run_doomed_poll(store_path, config_path, console.now, point)
            await console.poll(AFTER_THE_CLAIM)
            await console.poll(AFTER_THE_CLAIM)

            [incident] = await console.incidents()  # opened exactly once
            assert incident.state == "new"
            assert [e.kind for e in await console.events(incident)] == ["created"]
            opened = [a for a in await store.audit.entries() if a.action == "incident.create"]
            assert len(opened) == 1
        finally:
            await console.poller.close()
