"""`opsdesk change ...`: the change workflow from a shell, with the same rules, roles and
audit as the changes screen."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.listing import (
    Shape,
    bound,
    check_services,
    cut,
    emit_list,
    one_chunk,
    period,
    say_cut,
)
from opsdesk.console.cli.output import emit_json, emit_line
from opsdesk.console.cli.parsing import count
from opsdesk.console.domain.change_rules import STATES, change_event_words, describe
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.changes import ChangeOps, ChangePlan, ChangeView
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.session import open_session
from opsdesk.store.changes import parse_change_key
from opsdesk.store.incidents import parse_key
from opsdesk.store.records import ChangeRequest
from opsdesk.store.timefmt import to_db

CSV_FIELDS = (
    "key", "title", "type", "risk", "state", "services", "planned_start", "planned_end",
    "implementer", "requester", "review",
)  # fmt: skip


async def _with_ops(
    args: argparse.Namespace, call: Callable[[ChangeOps], Awaitable[Any]], *, create: bool = True
) -> Any:
    """Run `call` on an open store: created when missing by the commands that change
    something; read as empty (and not created) by those that only read (`create=False`)."""
    session = await open_session(options_from(args), create=create)
    try:
        return await call(ChangeOps(session.store, session.config, session.actor))
    finally:
        await session.close()


def change_out(change: ChangeRequest) -> dict[str, Any]:
    return {
        "key": change.key, "title": change.title, "type": change.type, "risk": change.risk,
        "risk_justification": change.risk_justification, "risk_answers": change.risk_answers,
        "services": list(change.services), "planned_start": change.planned_start,
        "planned_end": change.planned_end, "implementer": change.implementer,
        "requester": change.requester, "state": change.state, "test_plan": change.test_plan,
        "backout_plan": change.backout_plan, "conflicts_acknowledged": change.conflicts_ack,
        "review": change.review, "version": change.version,
    }  # fmt: skip


def view_out(view: ChangeView) -> dict[str, Any]:
    return {
        **change_out(view.change),
        "approvals": [
            {"by": a.actor, "roles": sorted(a.roles), "decision": a.decision,
             "comment": a.comment, "at": a.at}
            for a in view.approvals
        ],
        "approvals_needed": {"cab": view.needed.cab, "lead": view.needed.lead,
                             "review_after": view.needed.review_after},
        "conflicts": [{"kind": c.kind, "reason": c.reason} for c in view.conflicts],
        "linked_incidents": view.linked,
        "timeline": [
            {"at": e.at, "actor": e.actor, "kind": e.kind, "state": e.state, "detail": e.detail,
             "by": e.actor}  # `actor` as in incident and problem timelines; `by` kept
            for e in view.events
        ],
    }  # fmt: skip


def _said(args: argparse.Namespace, change: ChangeRequest, said: str) -> int:
    if getattr(args, "json", False):
        emit_json(change_out(change))
    else:
        emit_line(
            f"{change.key} {said} (state {change.state.replace('_', ' ')}, v{change.version})"
        )
    return 0


async def new(args: argparse.Namespace) -> int:
    at = now()
    answers = {q: True for q in args.yes or []}

    plan = ChangePlan(
        title=args.title, type=args.type, services=tuple(args.service), planned_start=args.start,
        planned_end=args.end, test_plan=args.test_plan or "", backout_plan=args.backout or "",
        risk_answers=answers, risk=args.risk, risk_justification=args.justification or "",
        description=args.description or "", implementer=args.implementer,
    )  # fmt: skip

    async def create(ops: ChangeOps) -> ChangeRequest:
        return await ops.create(plan, at)

    return _said(args, await _with_ops(args, create), "created")


async def list_(args: argparse.Namespace) -> int:
    me = current_login()

    async def find(ops: ChangeOps) -> tuple[list[ChangeRequest], int]:
        check_services("change list", ops.config, args.service or ())
        window_from, window_before = period("change list", args, ops.config)
        given: dict[str, Any] = {
            "states": tuple(args.state) if args.state else None,
            "requester": me if args.mine else None,
            "services": tuple(args.service) if args.service else None,
            "window_from": window_from,
            "window_before": window_before,
        }
        changes = ops.store.changes
        if args.to_approve:  # decided per change by the approval rules: count them here
            waiting = await ops.awaiting_me(await changes.find(**given, limit=None))
            return waiting[: args.limit or None], len(waiting)
        found = await changes.find(**given, limit=args.limit or None)
        total = await changes.count(**given) if cut(len(found), args.limit) else len(found)
        return found, total

    found, total = await _with_ops(args, find, create=False)
    shape: Shape[ChangeRequest] = Shape(
        json_of=change_out,
        csv_fields=CSV_FIELDS,
        headers=["key", "type", "risk", "state", "title", "services", "start (UTC)"],
        row_of=lambda c: [
            c.key, c.type, c.risk, c.state.replace("_", " "), c.title, ",".join(c.services),
            f"{c.planned_start:%Y-%m-%d %H:%M}",
        ],
    )  # fmt: skip
    await emit_list(args, shape, one_chunk(found))
    say_cut(len(found), total)
    return 0


async def show(args: argparse.Namespace) -> int:
    view = await _with_ops(args, lambda ops: ops.view(args.key, now()), create=False)
    if args.json:
        emit_json(view_out(view))
        return 0
    c = view.change
    emit_line(f"{c.key} {c.title}")
    emit_line(
        f"  {c.type}, risk {c.risk}, {c.state.replace('_', ' ')}; services {', '.join(c.services)}"
    )
    window = f"{c.planned_start:%Y-%m-%d %H:%M} – {c.planned_end:%Y-%m-%d %H:%M} UTC"
    emit_line(f"  window {window}; implementer {c.implementer}")
    if c.state in ("draft", "submitted"):  # as the console says it: only while it matters
        emit_line(f"  approvals still needed: {describe(view.needed)}")
    for approval in view.approvals:
        when = f"{approval.at:%Y-%m-%d %H:%M}"
        emit_line(f"  {approval.decision} by {approval.actor} at {when}: {approval.comment}")
    for conflict in view.conflicts:
        emit_line(f"  conflict ({conflict.kind.replace('_', ' ')}): {conflict.reason}")
    if view.linked:
        emit_line(f"  linked incidents: {', '.join(view.linked)}")
    emit_line("")
    for event in view.events:  # as the console says it
        what = change_event_words(event.kind, event.state)
        detail = f" — {one_line(event.detail, limit=200)}" if event.detail else ""
        emit_line(f"{to_db(event.at)}  {event.actor}  {what}{detail}")
    return 0


async def submit(args: argparse.Namespace) -> int:
    at = now()
    change = await _with_ops(
        args, lambda ops: ops.submit(args.key, at, ack_conflicts=args.ack_conflicts)
    )
    return _said(args, change, "submitted")


def _decide(decision: str) -> Callable[[argparse.Namespace], Any]:
    async def handler(args: argparse.Namespace) -> int:
        at = now()
        change = await _with_ops(
            args, lambda ops: ops.decide(args.key, decision, args.comment or "", at)
        )
        return _said(args, change, f"{decision}d" if decision.endswith("e") else decision)

    return handler


def _step(verb: str, said: str) -> Callable[[argparse.Namespace], Any]:
    async def handler(args: argparse.Namespace) -> int:
        at = now()
        review = getattr(args, "review", "") or ""
        change = await _with_ops(
            args, lambda ops: ops.transition(args.key, verb, at, review=review)
        )
        return _said(args, change, said)

    return handler


async def edit(args: argparse.Namespace) -> int:
    """Change a draft (or rejected) change: what is not given stays as it is; the risk is
    computed again from the answers."""
    given = [args.title, args.type, args.service, args.start, args.end, args.test_plan,
             args.backout, args.yes, args.no]  # fmt: skip
    if all(value is None for value in given):
        raise UsageError(
            "change edit: give what to change (--title, --type, --service, --start, --end, "
            "--test-plan, --backout, --yes, --no)"
        )
    at = now()

    async def apply(ops: ChangeOps) -> ChangeRequest:
        current = await ops.store.changes.get(args.key)
        answers = dict(current.risk_answers)
        answers.update({q: True for q in args.yes or []})
        answers.update({q: False for q in args.no or []})
        plan = ChangePlan(
            title=current.title if args.title is None else args.title,
            type=args.type or current.type,
            services=tuple(args.service) if args.service else current.services,
            planned_start=args.start or current.planned_start,
            planned_end=args.end or current.planned_end,
            test_plan=current.test_plan if args.test_plan is None else args.test_plan,
            backout_plan=current.backout_plan if args.backout is None else args.backout,
            risk_answers=answers,
        )
        return await ops.edit(current.key, plan, at, version=current.version)

    return _said(args, await _with_ops(args, apply), "edited")


async def link(args: argparse.Namespace) -> int:
    at = now()
    await _with_ops(args, lambda ops: ops.link(args.key, args.incident, at))
    key, incident = f"CHG-{parse_change_key(args.key)}", f"INC-{parse_key(args.incident)}"
    if args.json:
        emit_json({"key": key, "incident": incident})
    else:
        emit_line(f"{key} linked to {incident}")
    return 0


def add_parser(
    command: Callable[..., argparse.ArgumentParser],
    action: Callable[..., argparse.ArgumentParser],
    instant: Callable[[str], datetime],
) -> None:
    parent = command("change", list_, "change requests: plan, approve, implement, review")
    sub = parent.add_subparsers(title="change commands", metavar="ACTION", required=True)

    p = action(sub, "new", new, "a draft change")
    p.add_argument("--title", required=True)
    p.add_argument("--type", required=True, choices=("standard", "normal", "emergency"))
    p.add_argument("--service", action="append", required=True, metavar="S")
    p.add_argument("--start", required=True, type=instant, metavar="ISO")
    p.add_argument("--end", required=True, type=instant, metavar="ISO")
    p.add_argument(
        "--risk", choices=("low", "medium", "high"), help="by hand (needs --justification)"
    )
    p.add_argument("--justification")
    p.add_argument(
        "--yes", action="append", metavar="QUESTION", help="a risk question answered yes"
    )
    p.add_argument("--test-plan")
    p.add_argument("--backout")
    p.add_argument("--description")
    p.add_argument("--implementer", metavar="LOGIN")
    p.add_argument("--json", action="store_true")

    p = action(sub, "edit", edit, "change a draft or rejected change (what is not given stays)")
    p.add_argument("key")
    p.add_argument("--title")
    p.add_argument("--type", choices=("standard", "normal", "emergency"))
    p.add_argument(
        "--service", action="append", metavar="S", help="the affected services (replaces them)"
    )
    p.add_argument("--start", type=instant, metavar="ISO")
    p.add_argument("--end", type=instant, metavar="ISO")
    p.add_argument("--test-plan")
    p.add_argument("--backout")
    p.add_argument(
        "--yes", action="append", metavar="QUESTION", help="a risk question now answered yes"
    )
    p.add_argument(
        "--no", action="append", metavar="QUESTION", help="a risk question now answered no"
    )
    p.add_argument("--json", action="store_true")

    from opsdesk.console.cli import figures
    from opsdesk.console.cli.listing import add_period_flags

    p = action(
        sub, "stats", figures.change_stats,
        "changes planned in a period: by type, success rate, failed, rolled back, emergency",
    )  # fmt: skip
    add_period_flags(p, service=True)
    p.add_argument("--json", action="store_true")

    p = action(sub, "list", list_, "changes, latest planned start first")
    p.add_argument("--state", action="append", choices=STATES)
    p.add_argument("--mine", action="store_true", help="requested or implemented by me")
    p.add_argument("--to-approve", action="store_true", help="waiting for my approval")
    p.add_argument("--service", action="append", metavar="S", help="touching this service")
    p.add_argument(
        "--from", dest="from_", type=bound, metavar="WHEN",
        help="planned window ends after this day's start (team's zone) or this instant",
    )  # fmt: skip
    p.add_argument(
        "--to", type=bound, metavar="WHEN",
        help="planned window starts before the end of this day or this instant"
        " (with --from: the window overlaps the period)",
    )  # fmt: skip
    p.add_argument(
        "--limit", type=count, default=200, metavar="N",
        help="at most N (default 200; 0: all); a cut list says so on stderr",
    )  # fmt: skip
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true")
    shape.add_argument("--csv", action="store_true", help="RFC 4180 CSV for a spreadsheet")

    p = action(sub, "show", show, "a change with approvals, what is still needed, conflicts")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")

    p = action(sub, "submit", submit, "ask for approval (conflicts need --ack-conflicts)")
    p.add_argument("key")
    p.add_argument("--ack-conflicts", action="store_true")
    p.add_argument("--json", action="store_true")

    for verb, text, required in (("approve", "approve (CAB or lead; not your own)", False),
                                 ("reject", "reject, saying why", True)):  # fmt: skip
        p = action(sub, verb, _decide(verb), text)
        p.add_argument("key")
        p.add_argument("--comment", required=required)
        p.add_argument("--json", action="store_true")

    for verb, said, text in (
        ("start", "started", "implementation begins"),
        ("complete", "completed", "it worked"),
        ("fail", "marked failed", "it did not work"),
        ("rollback", "rolled back", "it was backed out"),
        ("close", "closed", "close (failed, rolled back and emergency changes need --review)"),
    ):
        p = action(sub, verb, _step(verb, said), text)
        p.add_argument("key")
        if verb == "close":
            p.add_argument("--review", metavar="TEXT", help="post-implementation review")
        p.add_argument("--json", action="store_true")

    p = action(sub, "link", link, "link a change and an incident")
    p.add_argument("key")
    p.add_argument("incident")
    p.add_argument("--json", action="store_true")
