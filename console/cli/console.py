"""`opsdesk` with no command, and `opsdesk demo`: open the Textual console (after the
checks that make a mistake one line, not a traceback)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.ops.identity import current_login
from opsdesk.console.ops.session import Options, default_demo_path


def run_console(args: argparse.Namespace) -> int:
    from opsdesk.console.tui.start import run_tui

    return run_tui(options_from(args), mouse=args.mouse)


def demo(args: argparse.Namespace) -> int:
    import asyncio

    from opsdesk.console.ops.demo import build_demo

    path = Path(args.store).expanduser() if args.store else default_demo_path()
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
        f"({result.incidents:,} incidents, {result.changes:,} changes)\n"
    )
    if args.no_ui:
        return 0
    from opsdesk.console.tui.start import run_tui

    options = Options(config=args.config, store=str(path), read_only=args.read_only)
    return run_tui(options, mouse=None)
