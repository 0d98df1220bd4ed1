"""What every command handler shares: the store options from the global flags, and the
one clock the CLI reads (everything below it takes `now` as an argument)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from opsdesk.console.ops.session import Options


def options_from(args: argparse.Namespace) -> Options:
    return Options(config=args.config, store=args.store, read_only=args.read_only)


def now() -> datetime:
    """The only clock the CLI reads; everything below takes `now` as an argument."""
    return datetime.now(UTC)
