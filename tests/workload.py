"""A mixed write workload for the reliability suite, run in worker processes.

Each worker does N operations on one store and appends a JSON line per operation to its
own log *after* the operation returned: what it did, and whether opsdesk said done or
refused (with the one-line message). The parent then checks the store against every
log (tests/audit_replay.py). Two kinds of worker, as people use the tool:

- `cli`: each operation is one `opsdesk ...` command (the real argument parsing, config
  load, store open, one-line errors and exit codes), run in-process to spare the
  interpreter start-up, as the CLI's own identity (the process's account).
- `app`: a headless console (`OpsdeskApp` under `run_test`, its change feed and timers
  live) doing the operations through the same ops objects its screens call, as another
  person, holding the version it "looked at" for a moment first, as a person does.

Run: `python -m tests.workload KIND NAME STORE CONFIG LOG COUNT SEED [LOGIN]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from opsdesk.store.records import Role

WRITE_WAIT_ENV = "OPSDESK_TEST_WRITE_WAIT"
"""Seconds a worker may wait for the write lock before the store says "busy": set by the
parent (tests/reliability.py) to the store's own limit, or more on a slow machine."""
PEOPLE = ("ana", "ben", "cruz", "dana")
SERVICES = ("payments", "checkout", "git", "wiki")
SEED_INCIDENTS = 120
SEED_CHANGES = 80
# Operation mix (weights): what a busy queue, rota and CAB look like.
MIX = {
    "create": 18,
    "ack": 14,
    "assign": 14,
    "note": 14,
    "resolve": 10,
    "priority": 6,
    "override": 10,
    "approve": 12,
    "reject": 2,
    # Consoles only: two screens on one incident; the one looked at first writes last.
    "stale": 3,
}


def grants(me: str) -> dict[str, tuple[str, ...]]:
    """Who holds which role: `me` (the CLI's identity) is a lead and on the CAB."""
    return {"lead": (me, "dana"), "cab": (me, "ana", "cruz", "dana")}


def roles_of(me: str, login: str) -> tuple[Role, ...]:
    return tuple(cast(Role, role) for role, logins in grants(me).items() if login in logins)


def config_text(me: str, *, in_file: bool = True) -> str:
    """The team for the workload. `in_file=False`: without the [roles] and approval rules
    a config file may not set on a PostgreSQL store (the database grants the roles there;
    each worker connects as its person, member of the roles `grants` names)."""
    people = "".join(f'[[people]]\nlogin = "{p}"\n' for p in (me, *PEOPLE))
    services = "".join(f'[[services]]\nname = "{s}"\n' for s in SERVICES)
    members = ", ".join(f'"{p}"' for p in (me, *PEOPLE))
    roles = "".join(f"{role} = {json.dumps(list(logins))}\n" for role, logins in grants(me).items())
    text = f"""{people}
[roles]
{roles}
{services}
[[schedules]]
name = "platform"
timezone = "UTC"
[[schedules.layers]]
name = "primary"
members = [{members}]
rotation = "1d"
start = "2026-01-05T09:00"

[[changes.approval_rules]]
type = "normal"
risk = ["low", "medium"]
cab = 2

[[changes.approval_rules]]
type = "normal"
risk = ["high"]
cab = 2
lead = 1
"""
    if in_file:
        return text
    without_roles = text.replace(f"[roles]\n{roles}", "")
    return without_roles[: without_roles.index("[[changes.approval_rules]]")]


async def seed(location: str, config_path: Path, me: str, now: datetime) -> None:
    """Incidents to work on, and submitted changes from several requesters to decide, each
    by its person (on PostgreSQL through their own login: tests/store_backends.py)."""
    from opsdesk.console.config import loader as config_loader
    from opsdesk.console.ops.changes import ChangeOps, ChangePlan
    from opsdesk.console.ops.identity import actor_for
    from opsdesk.console.ops.incidents import IncidentOps
    from tests.store_backends import people

    config = config_loader.load(str(config_path)).config
    roles = {login: roles_of(me, login) for login in (me, *PEOPLE)}
    async with people(location, roles) as stores:
        for n in range(SEED_INCIDENTS):
            login = PEOPLE[n % len(PEOPLE)]
            ops = IncidentOps(stores[login], config, actor_for(config, login))
            await ops.create(f"seed incident {n}", SERVICES[n % len(SERVICES)], now)
        for n in range(SEED_CHANGES):
            requester = (me, *PEOPLE)[n % (len(PEOPLE) + 1)]
            ops = ChangeOps(stores[requester], config, actor_for(config, requester))
            start = now + timedelta(days=2 + n, hours=n % 7)
            plan = ChangePlan(
                f"seed change {n}", "normal", (SERVICES[n % len(SERVICES)],), start,
                start + timedelta(hours=1), test_plan="smoke test", backout_plan="redeploy",
                risk="high" if n % 3 == 0 else "low", risk_justification="seeded",
            )  # fmt: skip
            change = await ops.create(plan, now)
            await ops.submit(change.key, now, ack_conflicts=True)


class Plan:
    """The random choices of one worker: which operation, on what, with which values."""

    def __init__(self, name: str, seed_value: int, me: str) -> None:
        self.name = name
        self.rng = random.Random(seed_value)
        self.me = me
        self.mine: list[str] = []
        self.count = 0

    def op(self, console: bool) -> str:
        ops = [op for op in MIX if console or op != "stale"]
        return self.rng.choices(ops, weights=[MIX[op] for op in ops])[0]

    def incident(self) -> str:
        if self.mine and self.rng.random() < 0.4:
            return self.rng.choice(self.mine)
        return f"INC-{self.rng.randint(1, SEED_INCIDENTS)}"

    def change(self) -> str:
        return f"CHG-{self.rng.randint(1, SEED_CHANGES)}"

    def person(self) -> str:
        return self.rng.choice((self.me, *PEOPLE))

    def unique(self, what: str) -> str:
        self.count += 1
        return f"{self.name} {what} {self.count}"

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        start = now + timedelta(hours=self.rng.randint(1, 24 * 30))
        return start, start + timedelta(hours=self.rng.randint(1, 12))


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


class Log:
    """One JSON line per finished operation, flushed and fsynced before the next starts,
    so a worker killed at any moment leaves a log of exactly what it was told is done."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())


# CLI worker ----------------------------------------------------------------------


def _cli(store: str, config: str, *argv: str) -> tuple[int, str, str]:
    from opsdesk.console.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--config", config, "--store", store, *argv])
    return code, out.getvalue(), err.getvalue()


def cli_command(plan: Plan, op: str, now: datetime) -> tuple[list[str], dict[str, Any]]:
    """The argv of one operation, and what to remember about it."""
    if op == "create":
        title = plan.unique("incident")
        service = plan.rng.choice(SERVICES)
        return ["incident", "new", "--title", title, "--service", service, "--json"], {
            "marker": title
        }
    if op in ("ack", "assign", "resolve", "priority", "note"):
        key = plan.incident()
        if op == "ack":
            return ["incident", "ack", key, "--json"], {"key": key}
        if op == "assign":
            return ["incident", "assign", key, plan.person(), "--json"], {"key": key}
        if op == "resolve":
            note = plan.unique("fixed")
            return ["incident", "resolve", key, "--code", "fixed", "--note", note, "--json"], {
                "key": key,
                "marker": note,
            }
        if op == "priority":
            impact, urgency = str(plan.rng.randint(1, 3)), str(plan.rng.randint(1, 3))
            argv = ["incident", "priority", key, "--impact", impact, "--urgency", urgency]
            return [*argv, "--json"], {"key": key}
        text = plan.unique("note")
        return ["incident", "note", key, text], {"key": key, "marker": text}
    if op == "override":
        start, end = plan.window(now)
        person, reason = plan.person(), plan.unique("cover")
        return [
            "oncall", "override", "add", "--schedule", "platform", "--person", person,
            "--from", _iso(start), "--to", _iso(end), "--reason", reason, "--json",
        ], {"person": person, "marker": reason}  # fmt: skip
    key = plan.change()
    comment = plan.unique("comment")
    return ["change", op, key, "--comment", comment, "--json"], {"key": key, "marker": comment}


def run_cli_worker(plan: Plan, store: str, config: str, log: Log, count: int) -> None:
    for _ in range(count):
        op = plan.op(console=False)
        now = datetime.now(UTC)
        argv, remember = cli_command(plan, op, now)
        code, out, err = _cli(store, config, *argv)
        record: dict[str, Any] = {"worker": plan.name, "actor": plan.me, "op": op, **remember}
        if code == 0:
            result = json.loads(out) if "--json" in argv else {}
            if op == "create":
                plan.mine.append(result["key"])
            record.update(ok=True, result=result)
        else:
            record.update(ok=False, code=code, error=err)
        log.write(record)


# App worker ----------------------------------------------------------------------


async def app_operation(app: Any, plan: Plan, op: str, login: str, record: dict[str, Any]) -> None:
    """One operation through the console's own ops, as its screens do them. What it is
    about goes into `record` before it runs, so a refusal is logged with its marker."""
    from opsdesk.console.ops.changes import ChangeOps

    now = app.now()
    incidents = app.incidents
    if op == "create":
        record["marker"] = plan.unique("incident")
        created = await incidents.create(record["marker"], plan.rng.choice(SERVICES), now)
        plan.mine.append(created.key)
        record["result"] = {"key": created.key, "version": created.version}
        return
    if op in ("ack", "assign", "resolve", "priority", "note", "stale"):
        key = record["key"] = plan.incident()
        if op == "stale":
            await stale_write(app, plan, key)
            return
        if op == "note":
            record["marker"] = plan.unique("note")
            await incidents.note(key, record["marker"], now)
            record["result"] = {}
            return
        seen = await app.store.incidents.get(key)
        # A person looks at the incident before pressing the key: others may write meanwhile.
        await asyncio.sleep(plan.rng.uniform(0, 0.02))
        done: Any
        if op == "ack":
            done = await incidents.transition(key, "acknowledge", now, version=seen.version)
        elif op == "assign":
            done = await incidents.assign(key, plan.person(), now, version=seen.version)
        elif op == "resolve":
            note = record["marker"] = plan.unique("fixed")
            done = await incidents.transition(
                key, "resolve", now, code="fixed", note=note, version=seen.version
            )
        else:
            impact, urgency = plan.rng.randint(1, 3), plan.rng.randint(1, 3)
            done = await incidents.set_priority(key, impact, urgency, now, version=seen.version)
        record["result"] = {"key": done.key, "version": done.version}
        return
    if op == "override":
        start, end = plan.window(now)
        reason = record["marker"] = plan.unique("cover")
        record["person"] = login
        added = await app.store.overrides.add(app.actor, "platform", login, start, end, reason, now)
        record["result"] = {"id": added.id}
        return
    key = record["key"] = plan.change()
    seen = await app.store.changes.get(key)
    await asyncio.sleep(plan.rng.uniform(0, 0.02))
    comment = record["marker"] = plan.unique("comment")
    changes = ChangeOps(app.store, app.config, app.actor)
    decided = await changes.decide(key, op, comment, now, version=seen.version)
    record["result"] = {"key": decided.key, "version": decided.version}


async def stale_write(app: Any, plan: Plan, key: str) -> None:
    """A person has INC-n open on one screen, changes its priority on another, then
    assigns it from the first: that write must be refused, not applied over the other."""
    now = app.now()
    seen = await app.store.incidents.get(key)
    impact = 1 + seen.impact % 3
    await app.incidents.set_priority(key, impact, seen.urgency, now)
    await app.incidents.assign(key, plan.person(), now, version=seen.version)


async def run_app_worker(
    plan: Plan, store: str, config: str, log: Log, count: int, login: str
) -> None:
    from opsdesk.console.errors import OpsdeskError
    from opsdesk.console.ops.session import Options
    from opsdesk.console.tui.app import OpsdeskApp
    from opsdesk.store import StoreError

    app = OpsdeskApp(
        Options(config=config, store=store), poll_interval=0, handle_hangup=False, login=login
    )
    async with app.run_test(headless=True, size=(100, 30)):
        for _ in range(count):
            op = plan.op(console=True)
            record: dict[str, Any] = {"worker": plan.name, "actor": login, "op": op}
            try:
                await app_operation(app, plan, op, login, record)
                record["ok"] = True
            except (StoreError, OpsdeskError) as exc:
                record.update(ok=False, kind=type(exc).__name__, error=str(exc))
            log.write(record)


def main(argv: list[str]) -> int:
    kind, name, store, config, log_path, count, seed_value = argv[:7]
    from opsdesk.console.ops.identity import current_login
    from opsdesk.store import db

    if os.environ.get(WRITE_WAIT_ENV):
        assert hasattr(db, "WRITE_WAIT_SECONDS")
        db.WRITE_WAIT_SECONDS = float(os.environ[WRITE_WAIT_ENV])

    login = argv[7] if len(argv) > 7 else current_login()
    plan = Plan(name, int(seed_value), login)
    log = Log(Path(log_path))
    if kind == "cli":
        run_cli_worker(plan, store, config, log, int(count))
    else:
        asyncio.run(run_app_worker(plan, store, config, log, int(count), login))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
