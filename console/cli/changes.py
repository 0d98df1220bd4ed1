"""`opsdesk change ...`: the change workflow from a shell, with the same rules, roles and
audit as the changes screen."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.domain.change_rules import STATES, describe
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.changes import ChangeOps, ChangePlan, ChangeView
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.session import open_session
from opsdesk.store.changes import parse_change_key
from opsdesk.store.incidents import parse_key
from opsdesk.store.records import ChangeRequest


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
            {"at": e.at, "by": e.actor, "kind": e.kind, "state": e.state, "detail": e.detail}
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

    async def find(ops: ChangeOps) -> list[ChangeRequest]:
        found = await ops.store.changes.find(
            states=tuple(args.state) if args.state else None,
            requester=me if args.mine else None,
            limit=args.limit,
        )
        return await ops.awaiting_me(found) if args.to_approve else found

    found = await _with_ops(args, find, create=False)
    if args.json:
        emit_json([change_out(c) for c in found])
        return 0
    rows = [[c.key, c.type, c.risk, c.state, c.title, ",".join(c.services),
             f"{c.planned_start:%Y-%m-%d %H:%M}"] for c in found]  # fmt: skip
    emit_table(["key", "type", "risk", "state", "title", "services", "start (UTC)"], rows)
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
    emit_line(f"  approvals still needed: {describe(view.needed)}")
    for approval in view.approvals:
        when = f"{approval.at:%Y-%m-%d %H:%M}"
        emit_line(f"  {approval.decision} by {approval.actor} at {when}: {approval.comment}")
    for conflict in view.conflicts:
        emit_line(f"  conflict ({conflict.kind}): {conflict.reason}")
    if view.linked:
        emit_line(f"  linked incidents: {', '.join(view.linked)}")
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

    p = action(sub, "list", list_, "changes, newest window first")
    p.add_argument("--state", action="append", choices=STATES)
    p.add_argument("--mine", action="store_true", help="requested or implemented by me")
    p.add_argument("--to-approve", action="store_true", help="waiting for my approval")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--json", action="store_true")

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
