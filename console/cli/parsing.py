"""The argparse pieces every command group shares: a parser whose errors are one line
with exit 2, the global options accepted before or after a subcommand, second-level
commands, and argument types that say what they expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from opsdesk.console.cli.output import warn


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `opsdesk: <what is wrong> (see --help)`, exit 2.

    A subcommand's copy of the global options is added when that parser is used (it parses
    its arguments or shows its help), not when it is defined: `opsdesk incident list`
    defines 17 incident actions, and their 85 unused options were a millisecond of every
    command's start."""

    globals_pending = False

    def _add_pending_globals(self) -> None:
        if self.globals_pending:
            self.globals_pending = False
            add_global_options(self, suppress=True)

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._add_pending_globals()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._add_pending_globals()
        return super().format_help()

    def format_usage(self) -> str:
        self._add_pending_globals()
        return super().format_usage()

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("opsdesk").strip()
        warn(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")
        raise SystemExit(2)


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Add the global options; on subcommands their defaults are suppressed so that a
    value given before the subcommand is not reset by the subcommand's parser."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument("--config", metavar="PATH", default=default(None), help="config file")
    group.add_argument("--store", metavar="PATH", default=default(None), help="store file")
    group.add_argument(
        "--read-only", action="store_true", default=default(False), help="change nothing"
    )
    group.add_argument("--log-file", metavar="PATH", default=default(None), help="log here")
    group.add_argument(
        "-v", "--verbose", action="count", default=default(0), help="more logging (-vv: debug)"
    )


def add_action(
    sub: Any, name: str, handler: Callable[..., Any], text: str
) -> argparse.ArgumentParser:
    """A second-level command (`opsdesk oncall now`) with the global options."""
    child: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    if isinstance(child, Parser):
        child.globals_pending = True  # added when this action is the one chosen
    else:
        add_global_options(child, suppress=True)
    child.set_defaults(handler=handler)
    return child


def level(text: str) -> int:
    if text not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1, 2 or 3 (1 is highest), got {text!r}")
    return int(text)


def count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or more, got {text!r}")
    return value


def instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO-8601 time like 2026-11-01T09:00Z, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
