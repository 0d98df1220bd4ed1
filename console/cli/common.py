"""What every command handler shares: the store options from the global flags, and the
one clock the CLI reads (everything below it takes `now` as an argument)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from opsdesk.console.ops.session import Options

SOURCELESS = frozenset(
    f"opsdesk.console.cli.{name}"
    for name in ("audit", "banner", "changes", "incidents", "oncall", "problems", "report",
                 "rosters")
)  # fmt: skip
"""The modules of the commands about incidents, problems, changes, on-call, the banner,
the audit log and the service review: none polls a status source, so none needs its
plugin, and the config's sources are not checked against their plugins for them (no
plugin loads: console/ops/session.py, Options.sources). The rest, the console, `poll`,
`vendors`, `plugins`, `serve` and `config check` among them, check every source."""


def options_from(args: argparse.Namespace) -> Options:
    handler = getattr(args, "handler", None)
    sources = getattr(handler, "__module__", None) not in SOURCELESS
    return Options(config=args.config, store=args.store, read_only=args.read_only, sources=sources)


def now() -> datetime:
    """The only clock the CLI reads; everything below takes `now` as an argument."""
    return datetime.now(UTC)
