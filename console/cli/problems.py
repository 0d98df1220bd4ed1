"""`opsdesk problem ...`, `opsdesk review ...` and `opsdesk action ...`: problem
management, post-incident reviews and the improvement register from a shell, with the
same rules, roles and audit as the problems screen (console/ops/problems.py and
console/ops/reviews.py do the work; this module parses and prints)."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.listing import cut, say_cut
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.cli.parsing import count
from opsdesk.console.config.durations import format_duration
from opsdesk.console.config.model import Config
from opsdesk.console.domain.problem_rules import (
    OPEN_PROBLEM_STATES,
    Candidate,
    action_overdue,
    review_calendar,
    state_name,
)
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.problems import ProblemOps, ProblemView
from opsdesk.console.ops.reviews import (
    ActionView,
    ReviewDue,
    ReviewOps,
    ReviewView,
    review_document,
    review_markdown,
)
from opsdesk.console.ops.session import open_session
from opsdesk.store.actions import action_json
from opsdesk.store.problem_records import (
    ACTION_STATES,
    ACTION_TYPES,
    ActionItem,
    Problem,
    ProblemSummary,
    Review,
)
from opsdesk.store.problems import problem_json
from opsdesk.store.reviews import review_json
from opsdesk.store.timefmt import to_db

Action = Callable[..., argparse.ArgumentParser]


@dataclass(frozen=True)
class Ops:
    problems: ProblemOps
    reviews: ReviewOps


async def _with_ops(
    args: argparse.Namespace, work: Callable[[Ops], Awaitable[Any]], *, create: bool = True
) -> Any:
    """Run `work` on an open store: created when missing by the commands that change
    something; read as empty (and not created) by those that only read (`create=False`)."""
    session = await open_session(options_from(args), create=create)
    try:
        store, config, actor = session.store, session.config, session.actor
        return await work(Ops(ProblemOps(store, config, actor), ReviewOps(store, config, actor)))
    finally:
        await session.close()


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-01, got {text!r}") from None


def _state(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _name(state: str) -> str:
    return state_name(state)


def _timeline(events: Sequence[Any]) -> None:
    """One line per event (its detail whole, on that one line): a table would cut it."""
    rows = [(_when(e.at), e.actor, _name(e.state) if e.state else e.kind, e.detail) for e in events]
    who = max((len(one_line(r[1])) for r in rows), default=0)
    what = max((len(r[2]) for r in rows), default=0)
    for at, actor, kind, detail in rows:
        line = f"{at}  {one_line(actor).ljust(who)}  {kind.ljust(what)}"
        emit_line((f"{line}  {one_line(detail)}" if detail else line).rstrip())


# -- problems ------------------------------------------------------------------------------


def problem_document(view: ProblemView, at: datetime, zone: str = "UTC") -> dict[str, Any]:
    """`problem show --json` (and what every problem write prints with --json): the record,
    its fix, linked incidents, timeline and action items."""
    fix = view.fix
    return {
        **problem_json(view.problem),
        "fix": None if fix is None else {"key": fix.key, "title": fix.title, "state": fix.state},
        "incidents": [
            {"key": i.key, "title": i.title, "service": i.service, "priority": i.priority,
             "state": i.state, "created_at": to_db(i.created_at)}
            for i in view.incidents
        ],
        "timeline": [
            {"at": to_db(e.at), "actor": e.actor, "kind": e.kind, "state": e.state,
             "detail": e.detail}
            for e in view.events
        ],
        "actions": [_action_out(a, action_overdue(a, at, zone)) for a in view.actions],
    }  # fmt: skip


def _action_out(item: ActionItem, overdue: bool) -> dict[str, Any]:
    return {**action_json(item), "overdue": overdue}


def _zone(config: Config) -> str:
    """The zone whose days decide when an action item is overdue (the reviews' calendar)."""
    calendar = review_calendar(config)
    return calendar.timezone if calendar else "UTC"


async def _print_problem(args: argparse.Namespace, ops: Ops, key: str, said: str) -> int:
    """After a write: the problem as it now is (--json), or one line."""
    at = now()
    view = await ops.problems.view(key)
    if getattr(args, "json", False):
        emit_json(problem_document(view, at, _zone(ops.problems.config)))
    else:
        p = view.problem
        emit_line(f"{p.key} {said} (state {_name(p.state)}, v{p.version})")
    return 0


def _wrote(
    said: str | Callable[[Any], str], write: Callable[[Ops, datetime], Awaitable[Any]]
) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """A handler that runs `write` and prints the problem it touched (`args.key`, or the
    problem `write` returned)."""

    async def handler(args: argparse.Namespace) -> int:
        at = now()

        async def work(ops: Ops) -> int:
            result = await write(ops, at)
            key = result.key if isinstance(result, Problem) else args.key
            text = said(result) if callable(said) else said
            return await _print_problem(args, ops, key, text)

        return int(await _with_ops(args, work))

    return handler


async def problem_new(args: argparse.Namespace) -> int:
    def said(p: Any) -> str:
        return f"created: {one_line(p.title)}"

    async def write(ops: Ops, at: datetime) -> Any:
        return await ops.problems.create(
            args.title, args.service, at, description=args.description or "",
            owner=args.owner, incidents=args.incident or (),
        )  # fmt: skip

    return int(await _wrote(said, write)(args))


async def problem_list(args: argparse.Namespace) -> int:
    states = tuple(_state(s) for s in args.state) if args.state else None
    if states is None and not args.all:
        states = OPEN_PROBLEM_STATES

    async def find(ops: Ops) -> tuple[list[ProblemSummary], int]:
        found = await ops.problems.find(states, args.limit)
        cut_off = cut(len(found), args.limit)
        store = ops.problems.store
        return found, await store.problems.count(states) if cut_off else len(found)

    found, total = await _with_ops(args, find, create=False)
    if args.json:
        emit_json([{**problem_json(s.problem), "incident_count": s.incidents} for s in found])
    else:
        rows = [
            [s.problem.key, _name(s.problem.state), s.problem.title,
             ", ".join(s.problem.services), s.problem.owner or "—", str(s.incidents)]
            for s in found
        ]  # fmt: skip
        emit_table(["key", "state", "title", "services", "owner", "incidents"], rows)
    say_cut(len(found), total)
    return 0


async def problem_show(args: argparse.Namespace) -> int:
    at = now()

    async def work(ops: Ops) -> tuple[ProblemView, str]:
        return await ops.problems.view(args.key), _zone(ops.problems.config)

    view, zone = await _with_ops(args, work, create=False)
    if args.json:
        emit_json(problem_document(view, at, zone))
        return 0
    p = view.problem
    emit_line(f"{p.key}  {_name(p.state)}  {one_line(p.title)}")
    emit_line(
        f"services {one_line(', '.join(p.services)) or '—'} · owner {p.owner or '—'} · "
        f"v{p.version} · opened {_when(p.created_at)} by {p.created_by}"
    )
    fix = (
        "—" if view.fix is None else f"{view.fix.key} {one_line(view.fix.title)} ({view.fix.state})"
    )
    emit_line(f"fix: {fix}")
    for label, text in (("description", p.description), ("root cause", p.root_cause),
                        ("workaround", p.workaround)):  # fmt: skip
        emit_line("")
        emit_line(f"{label}:")
        emit_line(f"  {text.strip()}" if text.strip() else "  (none yet)")
    emit_line("")
    emit_line(f"incidents ({len(view.incidents)}):")
    if view.incidents:
        emit_table(
            ["key", "pri", "state", "title", "service", "opened"],
            [[i.key, i.priority, _name(i.state), i.title, i.service, _when(i.created_at)]
             for i in view.incidents],
        )  # fmt: skip
    emit_line("")
    emit_line("timeline:")
    _timeline(view.events)
    if view.actions:
        emit_line("")
        emit_line("action items:")
        _action_table([ActionView(a, action_overdue(a, at, zone)) for a in view.actions])
    return 0


async def problem_candidates(args: argparse.Namespace) -> int:
    found: list[Candidate] = await _with_ops(
        args, lambda ops: ops.problems.candidates(now()), create=False
    )
    if args.json:
        emit_json([_candidate_out(c) for c in found])
        return 0
    if not found:
        emit_line("no candidates: no recurring incidents outside a problem")
        return 0
    emit_table(
        ["id", "incidents", "service", "kind", "suggested title"],
        [[c.id, str(len(c.incidents)), c.service, c.kind, c.title] for c in found],
    )
    for c in found:
        emit_line("")
        emit_line(f"{c.id}: {one_line(c.reason)}")
        emit_line(f"  {', '.join(c.incidents)}")
    return 0


def _candidate_out(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.id, "kind": c.kind, "service": c.service, "incidents": list(c.incidents),
        "shared_words": list(c.shared_words),
        "fingerprint": None if c.fingerprint is None
        else {"source": c.fingerprint[0], "dedup_key": c.fingerprint[1]},
        "reason": c.reason, "title": c.title, "first_at": to_db(c.first_at),
        "last_at": to_db(c.last_at),
    }  # fmt: skip


def _edit(ops: Ops, args: argparse.Namespace, at: datetime) -> Awaitable[Any]:
    return ops.problems.update(
        args.key, at, title=args.title, description=args.description,
        services=args.service, root_cause=args.root_cause, workaround=args.workaround,
        fix_change=args.fix, clear_fix=args.no_fix, version=args.version,
    )  # fmt: skip


# -- reviews -------------------------------------------------------------------------------


def _review_out(review: Review, status: str | None = None) -> dict[str, Any]:
    out = review_json(review)
    if status is not None:
        out["status"] = status
    return out


async def review_show(args: argparse.Namespace) -> int:
    at = now()

    async def work(ops: Ops) -> tuple[ReviewView, Any]:
        return await ops.reviews.view(args.key, at), ops.reviews.config

    view, config = await _with_ops(args, work, create=False)
    if args.markdown:
        import sys

        sys.stdout.write(review_markdown(view, at))
        return 0
    if args.json:
        emit_json(review_document(view, config, at))
        return 0
    facts, incident, review = view.facts, view.facts.incident, view.review
    status = _name(view.status.state)
    due = "" if view.status.due is None else f", due {_when(view.status.due)}"
    emit_line(f"review of {incident.key}  {incident.priority}  {one_line(incident.title)}")
    emit_line(
        f"service {incident.service} · incident {_name(incident.state)} · review {status}{due}"
        + ("" if review is None else f" · {review.state} v{review.version}")
    )
    took = [
        ("acknowledged after", facts.time_to_acknowledge),
        ("resolved after", facts.time_to_resolve),
    ]
    emit_line(" · ".join(f"{k} {'—' if v is None else format_duration(v)}" for k, v in took))
    if facts.problem is not None:
        emit_line(
            f"problem {facts.problem.key} ({_name(facts.problem.state)}): "
            f"{one_line(facts.problem.title)}"
        )
    emit_line("")
    written = [
        ("summary", review.summary if review else ""),
        ("customers", review.customers if review else ""),
        ("duration", f"{review.duration_minutes} minutes"
         if review and review.duration_minutes is not None else ""),
        ("SLA breached", _yes_no(review.sla_breached if review else None, facts.sla_breached)),
        ("root cause", review.root_cause if review else ""),
        ("contributing factors", review.contributing_factors if review else ""),
        ("went well", review.went_well if review else ""),
        ("lucky", review.lucky if review else ""),
    ]  # fmt: skip
    for label, text in written:
        emit_line(f"{label}: {text.strip() if text.strip() else '—'}")
    emit_line("")
    emit_line("timeline:")
    _timeline(facts.events)
    if facts.pages:
        emit_line("")
        emit_line("paged:")
        emit_table(
            ["at", "who", "method", "state", "acknowledged"],
            [[_when(p.created_at), p.login, p.method, p.state, _when(p.acknowledged_at)]
             for p in facts.pages],
        )  # fmt: skip
    changes = [("linked", c) for c in facts.linked_changes]
    changes += [("before", c) for c in facts.changes_before]
    if changes:
        emit_line("")
        emit_line("changes:")
        emit_table(
            ["how", "key", "state", "title", "start"],
            [[how, c.key, c.state, c.title, _when(c.planned_start)] for how, c in changes],
        )
    if facts.vendor_status:
        emit_line("")
        emit_line("vendor status:")
        emit_table(
            ["source", "at start", "changes while open"],
            [[v.source, v.level, ", ".join(f"{_when(c.at)} {c.level}" for c in v.changes) or "—"]
             for v in facts.vendor_status],
        )  # fmt: skip
    if view.actions:
        emit_line("")
        emit_line("action items:")
        zone = _zone(config)
        _action_table([ActionView(a, action_overdue(a, at, zone)) for a in view.actions])
    return 0


def _yes_no(written: bool | None, measured: bool | None) -> str:
    if written is not None:
        return "yes" if written else "no"
    if measured is not None:
        return ("yes" if measured else "no") + " (measured)"
    return ""


async def review_edit(args: argparse.Namespace) -> int:
    at = now()
    breached = None if args.sla_breached is None else args.sla_breached == "yes"
    review = await _with_ops(
        args,
        lambda ops: ops.reviews.save(
            args.key, at, version=args.version, summary=args.summary,
            customers=args.customers, duration_minutes=args.duration_minutes,
            sla_breached=breached, root_cause=args.root_cause,
            contributing_factors=args.contributing_factors, went_well=args.went_well,
            lucky=args.lucky,
        ),
    )  # fmt: skip
    return _said_review(args, review, "saved")


async def review_accept(args: argparse.Namespace) -> int:
    at = now()
    review = await _with_ops(
        args, lambda ops: ops.reviews.accept(args.key, at, version=args.version)
    )
    return _said_review(args, review, "accepted")


def _said_review(args: argparse.Namespace, review: Review, said: str) -> int:
    if args.json:
        emit_json(_review_out(review))
    else:
        emit_line(f"review of {review.incident_key} {said} ({review.state}, v{review.version})")
    return 0


async def review_due(args: argparse.Namespace) -> int:
    at = now()
    found: list[ReviewDue] = await _with_ops(args, lambda ops: ops.reviews.due(at), create=False)
    if args.json:
        emit_json([
            {"incident": d.incident.key, "title": d.incident.title,
             "service": d.incident.service, "priority": d.incident.priority,
             "resolved_at": None if d.incident.resolved_at is None
             else to_db(d.incident.resolved_at),
             "state": d.status.state,
             "due": None if d.status.due is None else to_db(d.status.due),
             "review": None if d.status.review is None else d.status.review.state}
            for d in found
        ])  # fmt: skip
        return 0
    emit_table(
        ["incident", "pri", "review", "due", "resolved", "service", "title"],
        [[d.incident.key, d.incident.priority,
          d.status.state.upper() if d.status.state == "overdue" else d.status.state,
          _when(d.status.due), _when(d.incident.resolved_at), d.incident.service,
          d.incident.title]
         for d in found],
    )  # fmt: skip
    return 0


# -- action items --------------------------------------------------------------------------


def _action_table(views: list[ActionView]) -> None:
    emit_table(
        ["key", "state", "due", "type", "owner", "raised on", "title"],
        [[v.item.key, v.item.state, ("OVERDUE " if v.overdue else "")
          + ("—" if v.item.due is None else v.item.due.isoformat()), v.item.type,
          v.item.owner, " ".join(k for k in (v.item.incident_key, v.item.problem_key) if k),
          v.item.title]
         for v in views],
    )  # fmt: skip


async def action_list(args: argparse.Namespace) -> int:
    at = now()
    owner = current_login() if args.mine else args.owner
    states = None if args.state == "all" else (args.state,)
    found: list[ActionView] = await _with_ops(
        args,
        lambda ops: ops.reviews.actions(
            at, owner=owner, overdue=args.overdue, states=states,
            incident=args.incident, problem=args.problem,
        ),
        create=False,
    )  # fmt: skip
    if args.json:
        emit_json([_action_out(v.item, v.overdue) for v in found])
        return 0
    _action_table(found)
    return 0


async def _action_write(
    args: argparse.Namespace,
    write: Callable[[ReviewOps, datetime], Awaitable[ActionItem]],
    said: str,
) -> int:
    """Run `write` and print the action item as it now is (--json) or one line."""
    at = now()

    async def work(ops: Ops) -> tuple[ActionItem, str]:
        return await write(ops.reviews, at), _zone(ops.reviews.config)

    item, zone = await _with_ops(args, work)
    if args.json:
        emit_json(_action_out(item, action_overdue(item, at, zone)))
    else:
        emit_line(f"{item.key} {said} ({item.state}, v{item.version}): {one_line(item.title)}")
    return 0


async def action_add(args: argparse.Namespace) -> int:
    def write(ops: ReviewOps, at: datetime) -> Awaitable[ActionItem]:
        return ops.add_action(
            args.title, args.type, args.owner, at, incident=args.incident,
            problem=args.problem, change=args.change, due=args.due, note=args.note or "",
        )  # fmt: skip

    return await _action_write(args, write, "added")


async def action_done(args: argparse.Namespace) -> int:
    def write(ops: ReviewOps, at: datetime) -> Awaitable[ActionItem]:
        return ops.update_action(args.key, at, state="done", version=args.version)

    return await _action_write(args, write, "done")


async def action_edit(args: argparse.Namespace) -> int:
    def write(ops: ReviewOps, at: datetime) -> Awaitable[ActionItem]:
        return ops.update_action(
            args.key, at, version=args.version, title=args.title, type=args.type,
            owner=args.owner, due=args.due, clear_due=args.no_due, state=args.state,
            problem=args.problem, change=args.change, note=args.note,
        )  # fmt: skip

    return await _action_write(args, write, "changed")


# -- the parsers ---------------------------------------------------------------------------


def _version(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--version", type=int, metavar="N", help="the version you saw (refused if it changed)"
    )


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the record as it now is")


def add_parsers(
    command: Callable[..., argparse.ArgumentParser],
    add_action: Action,
    instant: Callable[[str], datetime],
) -> None:
    """Register `opsdesk problem|review|action ...` (called by console.cli)."""
    del instant  # dates here are days (--due YYYY-MM-DD), not instants
    _problem_parser(command, add_action)
    _review_parser(command, add_action)
    _action_parser(command, add_action)


def _problem_parser(command: Callable[..., argparse.ArgumentParser], action: Action) -> None:
    parent = command("problem", problem_list, "problems: recurring causes, known errors, fixes")
    sub = parent.add_subparsers(title="problem commands", metavar="ACTION", required=True)

    p = action(sub, "new", problem_new, "open a problem (state new), linking incidents to it")
    p.add_argument("--title", required=True)
    p.add_argument("--service", action="append", required=True, metavar="S")
    p.add_argument("--owner", metavar="LOGIN")
    p.add_argument("--description")
    p.add_argument("--incident", action="append", metavar="INC-N", help="link it (repeatable)")
    _json(p)

    p = action(sub, "list", problem_list, "problems, newest first (open ones unless --state/--all)")
    p.add_argument("--state", action="append", metavar="STATE")
    p.add_argument("--all", action="store_true", help="every state, closed ones too")
    p.add_argument(
        "--limit", type=count, default=500, metavar="N",
        help="at most N (default 500; 0: all); a cut list says so on stderr",
    )  # fmt: skip
    p.add_argument("--json", action="store_true")

    p = action(sub, "show", problem_show, "one problem: fields, fix, incidents, timeline, actions")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")

    for verb, said in (("link", "linked to"), ("unlink", "unlinked from")):
        p = action(sub, verb, _link_handler(verb, said), f"{verb} an incident and a problem")
        p.add_argument("key")
        p.add_argument("incident", metavar="INC-N")
        _json(p)

    p = action(sub, "assign", _assign, "give a problem an owner")
    p.add_argument("key")
    p.add_argument("login")
    _version(p)
    _json(p)

    p = action(sub, "note", _note, "add a note to a problem's timeline")
    p.add_argument("key")
    p.add_argument("text")
    _json(p)

    p = action(sub, "edit", _edit_handler, "change fields (what is not given stays)")
    p.add_argument("key")
    p.add_argument("--title")
    p.add_argument("--description")
    p.add_argument("--service", action="append", metavar="S", help="the services (replaces them)")
    p.add_argument("--root-cause", metavar="TEXT")
    p.add_argument("--workaround", metavar="TEXT")
    fix = p.add_mutually_exclusive_group()
    fix.add_argument("--fix", metavar="CHG-N", help="the change that fixes it")
    fix.add_argument("--no-fix", action="store_true", help="unlink the fix")
    _version(p)
    _json(p)

    p = action(sub, "move", _move, "move through the lifecycle (refusals name the allowed moves)")
    p.add_argument("key")
    p.add_argument("state", type=_state, help="under_investigation, root_cause_known, ...")
    p.add_argument("--note", default="")
    _version(p)
    _json(p)

    p = action(sub, "close", _close, "close a problem (the role [problems] close_role names)")
    p.add_argument("key")
    p.add_argument("--note", default="")
    _version(p)
    _json(p)

    p = action(sub, "candidates", problem_candidates, "recurring incidents proposed as problems")
    p.add_argument("--json", action="store_true")

    p = action(sub, "accept", _accept, "make a candidate a problem with all its incidents")
    p.add_argument("candidate", metavar="CANDIDATE-ID")
    p.add_argument("--title", help="instead of the suggested one")
    p.add_argument("--owner", metavar="LOGIN")
    _json(p)


def _link_handler(verb: str, said: str) -> Callable[[argparse.Namespace], Any]:
    async def handler(args: argparse.Namespace) -> int:
        async def write(ops: Ops, at: datetime) -> None:
            await getattr(ops.problems, verb)(args.key, args.incident, at)

        incident = one_line(args.incident).strip().upper()
        return int(await _wrote(f"{said} {incident}", write)(args))

    return handler


async def _assign(args: argparse.Namespace) -> int:
    return int(
        await _wrote(
            f"assigned to {args.login}",
            lambda ops, at: ops.problems.assign(args.key, args.login, at, version=args.version),
        )(args)
    )


async def _note(args: argparse.Namespace) -> int:
    return int(
        await _wrote("note added", lambda ops, at: ops.problems.note(args.key, args.text, at))(args)
    )


async def _edit_handler(args: argparse.Namespace) -> int:
    given = (args.title, args.description, args.service, args.root_cause, args.workaround,
             args.fix)  # fmt: skip
    if all(v is None for v in given) and not args.no_fix:
        raise UsageError(
            "problem edit: give what to change (--title, --description, --service, "
            "--root-cause, --workaround, --fix, --no-fix)"
        )
    return int(await _wrote("changed", lambda ops, at: _edit(ops, args, at))(args))


async def _move(args: argparse.Namespace) -> int:
    return int(
        await _wrote(
            lambda p: f"moved to {_name(p.state)}",
            lambda ops, at: ops.problems.move(
                args.key, args.state, at, note=args.note, version=args.version
            ),
        )(args)
    )


async def _close(args: argparse.Namespace) -> int:
    return int(
        await _wrote(
            "closed",
            lambda ops, at: ops.problems.close(args.key, at, note=args.note, version=args.version),
        )(args)
    )


async def _accept(args: argparse.Namespace) -> int:
    return int(
        await _wrote(
            lambda p: f"created from {args.candidate.strip().upper()}: {one_line(p.title)}",
            lambda ops, at: ops.problems.accept_candidate(
                args.candidate, at, title=args.title, owner=args.owner
            ),
        )(args)
    )


def _review_parser(command: Callable[..., argparse.ArgumentParser], action: Action) -> None:
    parent = command("review", review_due, "post-incident reviews: prefilled, written, accepted")
    sub = parent.add_subparsers(title="review commands", metavar="ACTION", required=True)

    p = action(sub, "show", review_show, "an incident's review: facts, what was written, status")
    p.add_argument("key", metavar="INC-N")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--markdown", action="store_true", help="as a Markdown document for a wiki")
    how.add_argument("--json", action="store_true")

    p = action(
        sub, "edit", review_edit, "write into a review (starting it); what is not given stays"
    )
    p.add_argument("key", metavar="INC-N")
    p.add_argument("--summary")
    p.add_argument("--customers", metavar="TEXT", help="who was affected")
    p.add_argument("--duration-minutes", type=int, metavar="N", help="the impact's duration")
    p.add_argument("--sla-breached", choices=("yes", "no"))
    p.add_argument("--root-cause", metavar="TEXT")
    p.add_argument("--contributing-factors", metavar="TEXT")
    p.add_argument("--went-well", metavar="TEXT")
    p.add_argument("--lucky", metavar="TEXT", help="where we got lucky")
    _version(p)
    _json(p)

    p = action(
        sub, "accept", review_accept, "accept a review (the role [reviews] accept_role names)"
    )
    p.add_argument("key", metavar="INC-N")
    _version(p)
    _json(p)

    p = action(sub, "due", review_due, "resolved incidents that owe a review, overdue first")
    p.add_argument("--json", action="store_true")


def _action_parser(command: Callable[..., argparse.ArgumentParser], action: Action) -> None:
    parent = command("action", action_list, "action items: the improvement register")
    sub = parent.add_subparsers(title="action commands", metavar="ACTION", required=True)

    p = action(sub, "list", action_list, "action items, earliest due first (open ones by default)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--owner", metavar="LOGIN")
    who.add_argument("--mine", action="store_true", help="owned by me")
    p.add_argument("--overdue", action="store_true", help="open and past their due date")
    p.add_argument("--state", choices=(*ACTION_STATES, "all"), default="open")
    p.add_argument("--incident", metavar="INC-N")
    p.add_argument("--problem", metavar="PRB-N")
    p.add_argument("--json", action="store_true")

    p = action(sub, "add", action_add, "a new action item from a review or a problem")
    p.add_argument("--title", required=True)
    p.add_argument("--type", required=True, choices=ACTION_TYPES)
    p.add_argument("--owner", required=True, metavar="LOGIN")
    p.add_argument("--incident", metavar="INC-N", help="the review it comes from")
    p.add_argument("--problem", metavar="PRB-N")
    p.add_argument("--change", metavar="CHG-N", help="the change that carries it out")
    p.add_argument("--due", type=_day, metavar="YYYY-MM-DD")
    p.add_argument("--note")
    _json(p)

    p = action(sub, "done", action_done, "mark an action item done")
    p.add_argument("key", metavar="ACT-N")
    _version(p)
    _json(p)

    p = action(sub, "edit", action_edit, "change an action item (what is not given stays)")
    p.add_argument("key", metavar="ACT-N")
    p.add_argument("--title")
    p.add_argument("--type", choices=ACTION_TYPES)
    p.add_argument("--owner", metavar="LOGIN")
    due = p.add_mutually_exclusive_group()
    due.add_argument("--due", type=_day, metavar="YYYY-MM-DD")
    due.add_argument("--no-due", action="store_true", help="no due date")
    p.add_argument("--state", choices=ACTION_STATES, help="open (reopen), done or cancelled")
    p.add_argument("--problem", metavar="PRB-N")
    p.add_argument("--change", metavar="CHG-N")
    p.add_argument("--note")
    _version(p)
    _json(p)
