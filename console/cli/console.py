"""`opsdesk` with no command, and `opsdesk demo`: open the Textual console (after the
checks that make a mistake one line, not a traceback)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.session import Options, default_demo_path


def run_console(args: argparse.Namespace) -> int:
    from opsdesk.console.tui.start import run_tui

    return run_tui(options_from(args), mouse=args.mouse)


def demo(args: argparse.Namespace) -> int:
    """Open the demo store, building it first when it is missing (or with `--reset`):
    what the user did in the demo stays there until they ask for a fresh one."""
    import asyncio

    from opsdesk.console.ops.demo import build_demo, is_demo

    path = Path(args.store).expanduser() if args.store else default_demo_path()
    if is_demo(path) and not args.reset:
        sys.stderr.write(f"opsdesk: opening the demo store at {path} (--reset rebuilds it)\n")
    else:
        anchor = now().replace(minute=0, second=0, microsecond=0)
        sys.stderr.write(
            f"opsdesk: building a demo store with {args.incidents:,} incidents at {path}\n"
        )
        result = asyncio.run(
            build_demo(
                path, incidents=args.incidents, seed=args.seed, now=anchor, creator=current_login()
            )
        )
        sys.stderr.write(
            f"opsdesk: demo ready in {result.seconds:.1f} s "
            f"({result.incidents:,} incidents, {result.changes:,} changes; a month to "
            f"review: {result.review_month})\n"
        )
    if args.no_ui:
        _say_where(path)
        return 0
    from opsdesk.console.tui.start import run_tui

    options = Options(config=args.config, store=str(path), read_only=args.read_only)
    try:
        return run_tui(options, mouse=None)
    finally:
        _say_where(path)


def _say_where(path: Path) -> None:
    """How to reach the demo from the other commands, in one line."""
    where = shlex.quote(str(path))
    sys.stderr.write(
        f"opsdesk: the demo is at {path}; use --store {where} with any command, "
        f"e.g. opsdesk --store {where} incident list\n"
    )
