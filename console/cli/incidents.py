"""`opsdesk incident ...`: the queue's operations for scripts and for a pager over SSH.
Same operations, roles and audit as the console."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.listing import (
    COUNT_AT_MOST,
    Shape,
    bound,
    check_services,
    cut,
    emit_list,
    one_chunk,
    period,
    say_cut,
)
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.cli.parsing import add_action, count
from opsdesk.console.domain.lifecycle import (
    HOLD_REASONS,
    OPEN_STATES,
    RESOLUTION_CODES,
    STATES,
    event_words,
)
from opsdesk.console.domain.sla import Clock, due_summary
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.incidents import IncidentOps, IncidentView
from opsdesk.console.ops.session import open_session
from opsdesk.store import Incident
from opsdesk.store.incidents import parse_key
from opsdesk.store.records import INCIDENT_SORTS, TRIAGE, IncidentFilter, IncidentOrder
from opsdesk.store.timefmt import to_db

CSV_FIELDS = (
    "key", "title", "service", "priority", "state", "assignee", "created_at",
    "acknowledged_at", "resolved_at", "closed_at", "response_due", "resolve_due",
    "response_breached", "resolve_breached", "resolution_code", "csat", "source",
)  # fmt: skip


def _breached(due: datetime | None, at: datetime) -> bool:
    return due is not None and due <= at


def incident_out(incident: Incident, at: datetime) -> dict[str, Any]:
    """The JSON object for one incident (times ISO-8601 UTC)."""
    return {
        "key": incident.key,
        "title": incident.title,
        "service": incident.service,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "priority": incident.priority,
        "state": incident.state,
        "hold_reason": incident.hold_reason,
        "assignee": incident.assignee,
        "reporter": incident.reporter,
        "source": incident.source,
        "created_at": incident.created_at,
        "acknowledged_at": incident.acknowledged_at,
        "resolved_at": incident.resolved_at,
        "closed_at": incident.closed_at,
        "resolution_code": incident.resolution_code,
        "csat": incident.csat,
        "response_due": incident.response_due,
        "resolve_due": incident.resolve_due,
        "response_breached": _breached(incident.response_due, at),
        "resolve_breached": _breached(incident.resolve_due, at),
        "escalation_level": incident.escalation_level,
        "version": incident.version,
    }


def clock_out(clock: Clock) -> dict[str, Any]:
    """A clock as JSON: durations as `*_seconds` numbers (as in `incident metrics`), and
    the older duration strings (`"1h30m"`) under their first names, kept for scripts."""
    left = clock.remaining.total_seconds()
    remaining = clock.remaining if left >= 0 else None
    overdue = -clock.remaining if left < 0 else None
    return {
        "state": clock.state,
        "reason": clock.reason,
        "target_seconds": clock.target.total_seconds(),
        "elapsed_seconds": clock.elapsed.total_seconds(),
        "remaining_seconds": None if remaining is None else remaining.total_seconds(),
        "overdue_seconds": None if overdue is None else overdue.total_seconds(),
        "due": clock.due,
        "breached": clock.breached,
        "at_risk": clock.at_risk,
        "log": [{"at": at, "what": what} for at, what in clock.log],
        "target": clock.target,
        "elapsed": clock.elapsed,
        "remaining": remaining,
        "overdue": overdue,
    }


async def _with_ops(
    args: argparse.Namespace, work: Callable[[IncidentOps], Any], *, create: bool = True
) -> Any:
    """Run `work` with the operations on an open store. A command that changes something
    creates a missing store; one that only reads (`create=False`) finds a missing store
    empty and leaves no file behind."""
    session = await open_session(options_from(args), create=create)
    try:
        return await work(IncidentOps(session.store, session.config, session.actor))
    finally:
        await session.close()


async def new(args: argparse.Namespace) -> int:
    at = now()
    incident = await _with_ops(
        args,
        lambda ops: ops.create(
            args.title, args.service, at, impact=args.impact, urgency=args.urgency,
            description=args.description or "",
        ),
    )  # fmt: skip
    if args.json:
        emit_json(incident_out(incident, at))
    else:
        emit_line(f"{incident.key} {incident.priority} created: {incident.title}")
    return 0


async def list_(args: argparse.Namespace) -> int:
    at = now()
    states = tuple(args.state) if args.state else (None if args.all else OPEN_STATES)
    if (args.breached or args.from_ or args.to) and not (args.state or args.breached_open):
        states = None  # breaches and periods are history: resolved incidents count too
    within = IncidentFilter(
        states=states,
        priorities=tuple(args.priority) if args.priority else None,
        assignee=current_login() if args.mine else args.assignee,
        breached_at=at if args.breached_open else None,
        breached_by=at if args.breached else None,
        search=args.search,
        services=tuple(args.service) if args.service else None,
    )
    order = IncidentOrder(args.sort, descending=args.reverse)
    shape: Shape[Incident] = Shape(
        json_of=lambda i: incident_out(i, at),
        csv_fields=CSV_FIELDS,
        headers=["key", "pri", "state", "title", "service", "assignee", "sla"],
        row_of=lambda i: [
            i.key, i.priority, i.state.replace("_", " "), i.title, i.service, i.assignee or "—",
            due_summary(i.response_due, i.resolve_due, at),
        ],
    )  # fmt: skip

    async def write(ops: IncidentOps) -> None:
        check_services("incident list", ops.config, args.service or ())
        opened_from, opened_before = period("incident list", args, ops.config)
        where = replace(within, opened_from=opened_from, opened_before=opened_before)
        incidents = ops.store.incidents
        if args.limit == 0:
            await emit_list(args, shape, incidents.each(where, order))
            return
        found = await incidents.find(where, args.limit, order=order)
        await emit_list(args, shape, one_chunk(found))
        if cut(len(found), args.limit):
            say_cut(len(found), await incidents.count(where, at_most=COUNT_AT_MOST + 1))

    await _with_ops(args, write, create=False)
    return 0


async def show(args: argparse.Namespace) -> int:
    # The problem it belongs to (with its workaround), or the known error an open incident
    # in no problem looks like: what saves a team its time exactly here.
    from opsdesk.console.cli.paging import HEADERS, notification_json, notification_row
    from opsdesk.console.domain.problem_rules import KnownErrorMatch
    from opsdesk.console.domain.text import one_line
    from opsdesk.console.ops.problems import ProblemOps
    from opsdesk.store.problem_records import Problem

    at = now()

    async def gather(
        ops: IncidentOps,
    ) -> tuple[IncidentView, Problem | None, KnownErrorMatch | None]:
        view = await ops.view(args.key, at)
        problems = ProblemOps(ops.store, ops.config, ops.actor)
        problem = await problems.for_incident(view.incident.key)
        known = None
        if problem is None and view.incident.state in OPEN_STATES:
            known = await problems.known_error_for(view.incident)
        return view, problem, known

    view, problem, known = await _with_ops(args, gather, create=False)
    incident = view.incident
    if args.json:
        emit_json(
            {
                **incident_out(incident, at),
                "problem": None
                if problem is None
                else {
                    "key": problem.key,
                    "title": problem.title,
                    "state": problem.state,
                    "workaround": problem.workaround,
                },
                "known_error": None
                if known is None
                else {
                    "key": known.problem.key,
                    "title": known.problem.title,
                    "state": known.problem.state,
                    "workaround": known.problem.workaround,
                    "reason": known.reason,
                },
                "description": incident.description,
                "resolution_note": incident.resolution_note,
                "respond_clock": clock_out(view.respond),
                "resolve_clock": clock_out(view.resolve),
                "timeline": [
                    {
                        "at": e.at,
                        "actor": e.actor,
                        "kind": e.kind,
                        "state": e.state,
                        "detail": e.detail,
                    }
                    for e in view.events
                ],
                "notifications": [notification_json(n) for n in view.pages],
            }
        )
        return 0
    emit_line(
        f"{incident.key}  {incident.priority}  {incident.state.replace('_', ' ')}  {incident.title}"
    )
    emit_line(
        f"service {incident.service} · assignee {incident.assignee or '—'} · v{incident.version}"
    )
    for clock in (view.respond, view.resolve):
        due = f" · due {to_db(clock.due)}" if clock.due else ""
        flag = " · BREACHED" if clock.breached else " · at risk" if clock.at_risk else ""
        emit_line(f"{clock.name:>8}: {clock.reason}{due}{flag}")
    if problem is not None:
        emit_line(
            f"problem {problem.key} ({problem.state.replace('_', ' ')}): {one_line(problem.title)}"
        )
        if problem.workaround.strip():
            emit_line(f"workaround: {problem.workaround.strip()}")
    elif known is not None:
        emit_line(f"looks like known error {known.problem.key}: {one_line(known.reason)}")
        emit_line(f"workaround: {known.problem.workaround.strip() or '—'}")
    if incident.description:
        emit_line("")
        emit_line(incident.description)
    emit_line("")
    for event in view.events:
        what = event_words(event.state, event.kind, event.detail)  # as the console says it
        emit_line(f"{to_db(event.at)}  {event.actor}  {what}")
    if view.pages:
        emit_line("")
        emit_table(HEADERS, [notification_row(n) for n in view.pages])
    return 0


def _print_result(args: argparse.Namespace, incident: Incident, at: datetime, said: str) -> int:
    if getattr(args, "json", False):
        emit_json(incident_out(incident, at))
    else:
        emit_line(
            f"{incident.key} {said} (state {incident.state.replace('_', ' ')}, v{incident.version})"
        )
    return 0


def _transition(verb: str, said: str) -> Callable[[argparse.Namespace], Any]:
    async def handler(args: argparse.Namespace) -> int:
        at = now()
        incident = await _with_ops(
            args,
            lambda ops: ops.transition(
                args.key, verb, at, reason=getattr(args, "reason", None),
                code=getattr(args, "code", None), note=getattr(args, "note", None),
            ),
        )  # fmt: skip
        return _print_result(args, incident, at, said)

    return handler


async def take(args: argparse.Namespace) -> int:
    at = now()
    incident = await _with_ops(args, lambda ops: ops.take(args.key, at))
    return _print_result(args, incident, at, "taken")


async def escalate(args: argparse.Namespace) -> int:
    at = now()
    if args.due == (args.key is not None):
        raise UsageError("incident escalate: name one incident (KEY) or use --due")
    if args.key is not None:
        incident = await _with_ops(args, lambda ops: ops.escalate(args.key, at))
        return _print_result(args, incident, at, f"escalated to level {incident.escalation_level}")
    escalated = await _with_ops(args, lambda ops: ops.escalate_due(at))
    if args.json:
        emit_json([incident_out(i, at) for i in escalated])
    else:
        for incident in escalated:
            emit_line(
                f"{incident.key}: escalated to level {incident.escalation_level}"
                f" ({incident.assignee or 'nobody on call'})"
            )
        emit_line(f"{len(escalated)} escalated")
    return 0


async def assign(args: argparse.Namespace) -> int:
    at = now()
    incident = await _with_ops(args, lambda ops: ops.assign(args.key, args.login, at))
    return _print_result(args, incident, at, f"assigned to {args.login}")


async def priority(args: argparse.Namespace) -> int:
    at = now()
    incident = await _with_ops(
        args, lambda ops: ops.set_priority(args.key, args.impact, args.urgency, at)
    )
    return _print_result(args, incident, at, f"is now {incident.priority}")


async def note(args: argparse.Namespace) -> int:
    added = await _with_ops(args, lambda ops: ops.note(args.key, args.text, now()))
    key = f"INC-{parse_key(args.key)}"
    if args.json:
        emit_json({"key": key, "at": added.at, "actor": added.actor, "kind": added.kind,
                   "detail": added.detail})  # fmt: skip
    else:
        emit_line(f"{key} note added")
    return 0


async def csat(args: argparse.Namespace) -> int:
    at = now()
    incident = await _with_ops(args, lambda ops: ops.csat(args.key, args.score, at))
    return _print_result(args, incident, at, f"CSAT {args.score} recorded")


async def metrics(args: argparse.Namespace) -> int:
    from opsdesk.console.domain.metrics import table_rows
    from opsdesk.console.ops.metrics import collect

    if args.from_ is not None or args.to is not None or args.service:
        from opsdesk.console.cli.figures import incident_metrics

        return await incident_metrics(args)  # a chosen period or service: the review's figures
    at = now()
    found = await _with_ops(args, lambda ops: collect(ops.store, at), create=False)
    if args.json:
        emit_json(
            {
                "at": at,
                "open": found.backlog.open,
                "breached": found.backlog.breached,
                "oldest_open_age_s": (
                    None
                    if found.backlog.oldest_age is None
                    else found.backlog.oldest_age.total_seconds()
                ),
                "last_7_days": _window_json(found.week),
                "last_30_days": _window_json(found.month),
            }
        )
        return 0
    emit_line(f"open {found.backlog.open:,}  breached {found.backlog.breached:,}")
    emit_table(["measure", "last 7 days", "last 30 days"], [list(r) for r in table_rows(found)])
    return 0


def _window_json(window: Any) -> dict[str, Any]:
    def seconds(span: Any) -> float | None:
        return None if span is None else round(span.total_seconds(), 1)

    return {
        "mtta_s": {k: seconds(getattr(window.mtta, k)) for k in ("mean", "median", "p90")},
        "mttr_s": {k: seconds(getattr(window.mttr, k)) for k in ("mean", "median", "p90")},
        "acknowledged": window.mtta.count,
        "resolved": window.mttr.count,
        "sla_attainment": window.sla_attainment,
        "csat_average": window.csat_average,
        "csat_responses": window.csat_count,
    }


def add_parser(
    command: Callable[..., argparse.ArgumentParser], level: Callable[[str], int]
) -> None:
    """Register `opsdesk incident ...` on the CLI (called by console.cli)."""
    parent = command("incident", new, "incidents: create, list, show and work them")
    sub = parent.add_subparsers(title="incident commands", metavar="ACTION", required=True)

    def action(name: str, handler: Callable[..., Any], text: str) -> argparse.ArgumentParser:
        return add_action(sub, name, handler, text)

    p = action("new", new, "open an incident")
    p.add_argument("--title", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--impact", type=level, default=3, help="1 (widespread) to 3 (one user)")
    p.add_argument("--urgency", type=level, default=3, help="1 (now) to 3 (can wait)")
    p.add_argument("--description")
    p.add_argument("--json", action="store_true")

    p = action(
        "list", list_, "list incidents in triage order, as the queue shows them: P1 first,"
        " unacknowledged before the rest, then breached and nearest SLA due (open ones"
        " unless --state/--all/--breached/--from/--to)",
    )  # fmt: skip
    p.add_argument("--state", action="append", choices=STATES)
    p.add_argument("--all", action="store_true", help="every state")
    p.add_argument("--priority", action="append", choices=("P1", "P2", "P3", "P4"))
    p.add_argument("--service", action="append", metavar="S", help="on this service (repeatable)")
    p.add_argument("--assignee", metavar="LOGIN")
    p.add_argument("--mine", action="store_true", help="assigned to me")
    p.add_argument(
        "--from", dest="from_", type=bound, metavar="WHEN",
        help="opened at or after this day (in the team's zone) or instant (ISO-8601); any state",
    )  # fmt: skip
    p.add_argument(
        "--to", type=bound, metavar="WHEN",
        help="opened before the end of this day or before this instant; any state",
    )  # fmt: skip
    p.add_argument(
        "--breached", action="store_true",
        help="breached its respond or resolve SLA at any time, resolved ones too",
    )  # fmt: skip
    p.add_argument(
        "--breached-open", action="store_true",
        help="open and past an SLA due time now (what --breached meant before)",
    )  # fmt: skip
    p.add_argument("--search", metavar="TEXT", help="in key, title, description, service, assignee")
    p.add_argument(
        "--sort", choices=(TRIAGE, *INCIDENT_SORTS), default=TRIAGE,
        help="default triage (the queue's order); urgency: nearest SLA due first",
    )  # fmt: skip
    p.add_argument("--reverse", action="store_true", help="turn the order round")
    p.add_argument(
        "--limit", type=count, default=100, metavar="N",
        help="at most N (default 100; 0: all); a cut list says so on stderr",
    )  # fmt: skip
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true")
    shape.add_argument("--csv", action="store_true", help="RFC 4180 CSV for a spreadsheet")

    p = action("metrics", metrics, "MTTA/MTTR (mean, median, p90), SLA attainment, CSAT, backlog")
    p.add_argument("--json", action="store_true")
    from opsdesk.console.cli.listing import add_period_flags

    add_period_flags(p, service=True)  # any of them: that period (or service) instead of 7/30 days

    p = action("show", show, "one incident with its SLA clocks and timeline")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")

    for name, verb, said, text in (
        ("ack", "acknowledge", "acknowledged", "acknowledge (stops the response clock)"),
        ("start", "start", "in progress", "start working on it"),
        ("resume", "resume", "resumed", "take it off hold"),
        ("reopen", "reopen", "reopened", "reopen a resolved incident"),
        ("close", "close", "closed", "close a resolved incident"),
    ):
        p = action(name, _transition(verb, said), text)
        p.add_argument("key")
        p.add_argument("--json", action="store_true")
    p = action("hold", _transition("hold", "on hold"), "put on hold (pauses the resolve clock)")
    p.add_argument("key")
    p.add_argument("--reason", required=True, choices=HOLD_REASONS)
    p.add_argument("--json", action="store_true")
    p = action("resolve", _transition("resolve", "resolved"), "resolve with a code and a note")
    p.add_argument("key")
    p.add_argument("--code", required=True, choices=RESOLUTION_CODES)
    p.add_argument("--note", required=True)
    p.add_argument("--json", action="store_true")
    p = action("escalate", escalate, "to the next level of the service's escalation policy")
    p.add_argument("key", nargs="?", metavar="KEY")
    p.add_argument("--due", action="store_true", help="every unacknowledged one that is due (cron)")
    p.add_argument("--json", action="store_true")

    p = action("take", take, "assign to me (and acknowledge if new)")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")
    p = action("assign", assign, "assign to someone")
    p.add_argument("key")
    p.add_argument("login")
    p.add_argument("--json", action="store_true")
    p = action("priority", priority, "change impact and urgency (priority follows the matrix)")
    p.add_argument("key")
    p.add_argument("--impact", type=level, required=True)
    p.add_argument("--urgency", type=level, required=True)
    p.add_argument("--json", action="store_true")
    p = action("note", note, "add a note to the timeline")
    p.add_argument("key")
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p = action("csat", csat, "record customer satisfaction (1-5) on a resolved incident")
    p.add_argument("key")
    p.add_argument("score", type=int, choices=range(1, 6))
    p.add_argument("--json", action="store_true")
