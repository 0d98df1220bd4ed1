"""`opsdesk banner show|set|clear`: the one-line team banner every console shows (leads)."""

from __future__ import annotations

import argparse

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.session import open_session


async def banner(args: argparse.Namespace) -> int:
    if args.action == "set" and not args.text:
        raise UsageError("banner set: give the banner text, e.g. opsdesk banner set 'bridge: ...'")
    if args.action != "set" and args.text:
        raise UsageError(f"banner {args.action}: takes no text")
    session = await open_session(options_from(args), create=args.action != "show")
    try:
        current = await session.store.banner.get()
        if args.action in ("set", "clear"):
            text = one_line(args.text or "")
            current = await session.store.banner.set(session.actor, text, current.version, now())
    finally:
        await session.close()
    if args.json:
        emit_json(current)
    elif current.text:
        emit_line(f"{current.text}  (set by {current.set_by})")
    else:
        emit_line("no banner")
    return 0
