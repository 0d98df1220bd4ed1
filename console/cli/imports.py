"""`opsdesk import grafana-oncall|opsgenie|pagerduty`: move a team in from another
on-call product (docs/migrating.md walks through it)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line
from opsdesk.console.ops.importing import ImportRequest, ImportResult, run_import

PRODUCTS = ("grafana-oncall", "opsgenie", "pagerduty")
MAP_HELP = (
    "a TOML file with a [logins] table mapping an email or username in the product to a "
    'login on this host: "alice@example.com" = "alice". Without it, logins are guessed '
    "from usernames (and reported); with it, anyone not in it gets no login (reported)"
)


async def import_command(args: argparse.Namespace) -> int:
    request = ImportRequest(
        product=args.product,
        url=args.url,
        token_env=args.token_env,
        from_dir=Path(args.from_dir) if args.from_dir else None,
        save_dir=Path(args.save_dir) if args.save_dir else None,
        map_file=Path(args.map) if args.map else None,
        dry_run=args.dry_run,
        diff=args.diff,
        allow_partial=args.allow_partial,
        verify=args.verify,
        weeks=args.weeks,
    )
    result = await run_import(request, options_from(args), now())
    if args.json:
        emit_json(_as_json(result))
    else:
        _say(result, args)
    return 1 if result.refused else 0


def _as_json(result: ImportResult) -> dict[str, Any]:
    plan = result.plan
    checked = result.verification
    return {
        "product": plan.product,
        "target": str(result.target),
        "written": result.written,
        "refused": result.refused or None,
        "saved_files": result.saved,
        "people": [p.login for p in plan.people],
        "schedules": [s.name for s in plan.schedules],
        "services": [s.name for s in plan.services],
        "escalation_policies": [p.service for p in plan.policies],
        "integrations": [i.name for i in plan.integrations],
        "overrides": {
            "found": len(plan.overrides),
            "added": result.overrides_added,
            "already_there": result.overrides_already,
            "past": result.overrides_past,
        },
        "guessed_logins": plan.guessed,
        "skipped": [
            {"source_kind": s.source_kind, "source_id": s.source_id, "why": s.why}
            for s in plan.skipped
        ],
        "verify": None
        if checked is None
        else {
            "from": checked.window.start,
            "to": checked.window.end,
            "schedules": list(checked.schedules),
            "unchecked": list(checked.unchecked),
            "differences": [
                {
                    "schedule": d.schedule,
                    "from": d.start,
                    "to": d.end,
                    "minutes": d.minutes,
                    "source": list(d.source),
                    "opsdesk": d.opsdesk,
                }
                for d in checked.differences
            ],
        },
        "diff": result.diff_lines,
        "moves": [
            {
                "schedule": m.schedule,
                "from": m.start,
                "to": m.end,
                "before": m.before,
                "after": m.after,
            }
            for m in result.moves
        ],
    }


def _say(result: ImportResult, args: argparse.Namespace) -> None:
    plan = result.plan
    if result.saved:
        emit_line(f"saved {result.saved} files to {args.save_dir}")
    emit_line(
        f"{plan.product}: {len(plan.people)} people, "
        + ", ".join(
            _count(len(found), word)
            for found, word in (
                (plan.schedules, "schedule"),
                (plan.services, "service"),
                (plan.policies, "escalation polic"),
                (plan.integrations, "integration"),
                (plan.overrides, "override"),
            )
        )
    )
    for login, source in sorted(plan.guessed.items()):
        emit_line(f"login guessed: {source} -> {login} (give --map to choose)")
    if plan.skipped:
        emit_line(f"skipped ({len(plan.skipped)}):")
        for item in plan.skipped:
            emit_line(f"  {item.source_kind} {item.source_id}: {item.why}")
    if args.diff:
        for line in result.diff_lines or [f"{result.target}: no change"]:
            emit_line(line)
        for move in result.moves:
            emit_line(
                f"moves: {move.schedule} {move.start:%Y-%m-%d %H:%M}–{move.end:%Y-%m-%d %H:%M} "
                f"UTC: {move.before or '— gap —'} -> {move.after or '— gap —'}"
            )
    checked = result.verification
    if checked is not None:
        emit_line(
            f"verify {checked.window.start:%Y-%m-%d}–{checked.window.end:%Y-%m-%d} UTC: "
            f"{len(checked.schedules)} schedules compared, "
            f"{len(checked.differences)} differences"
        )
        for difference in checked.differences:
            emit_line(difference.line())
        for name in checked.unchecked:
            emit_line(f"not checked (the source rendered no rota for it): {name}")
    if result.written:
        emit_line(f"wrote {result.target}")
        if plan.integrations:
            names = sorted({i.secret_env for i in plan.integrations})
            emit_line(f"set the secrets of the imported integrations for serve: {', '.join(names)}")
        if result.overrides_added or result.overrides_already or result.overrides_past:
            emit_line(
                f"overrides: {result.overrides_added} added to the store, "
                f"{result.overrides_already} already there, {result.overrides_past} past "
                "(not stored)"
            )
    elif result.refused:
        emit_line(f"nothing written: {result.refused}")
    elif args.diff and not args.dry_run:
        emit_line(f"--diff: nothing written (run without --diff to write {result.target})")
    else:
        emit_line(f"dry run: nothing written (would write {result.target})")


def _count(n: int, word: str) -> str:
    """ "1 schedule", "3 schedules", "1 escalation policy", "2 escalation policies"."""
    if word.endswith("polic"):
        return f"{n} {word}{'y' if n == 1 else 'ies'}"
    return f"{n} {word}{'' if n == 1 else 's'}"


def add_parser(
    command: Callable[[str, Callable[..., Any], str], argparse.ArgumentParser],
) -> None:
    p = command(
        "import",
        import_command,
        "move schedules, escalation, people and overrides in from another on-call product",
    )
    p.add_argument("product", choices=PRODUCTS)
    p.add_argument("--url", metavar="BASE", help="the product's API base URL")
    p.add_argument(
        "--token-env", metavar="NAME", help="the environment variable holding the API token"
    )
    p.add_argument("--from-dir", metavar="DIR", help="read a folder saved with --save-dir")
    p.add_argument("--save-dir", metavar="DIR", help="also save what was fetched, to import later")
    p.add_argument("--map", metavar="FILE", help=MAP_HELP)
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be written; write nothing"
    )
    p.add_argument(
        "--diff",
        action="store_true",
        help="compare with the current import drop-in and say which shifts change hands;"
        " writes nothing",
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="write what maps even when something was skipped (exit 1 otherwise)",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="compare the product's own final rota with opsdesk's, shift by shift",
    )
    p.add_argument("--weeks", type=int, default=4, help="weeks --verify compares (default 4)")
    p.add_argument("--json", action="store_true")
