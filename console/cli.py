"""The `opsdesk` command: argument parsing, dispatch, and one-line errors with exit codes.

Global options (`--config`, `--store`, `--read-only`, `--log-file`, `-v`) are accepted
before or after the subcommand. With no subcommand the console opens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from opsdesk.console import __version__, logs
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.output import warn
from opsdesk.store import StoreError

log = logging.getLogger("opsdesk.cli")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `opsdesk: <what is wrong> (see --help)`, exit 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("opsdesk").strip()
        warn(f"{command + ': ' if command else ''}{message} (see {self.prog} --help)")
        raise SystemExit(2)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    from opsdesk.console import commands

    parser = _Parser(
        prog="opsdesk",
        description="A terminal console for IT service operations.",
        epilog="Run without a command to open the console. Docs: README.md and docs/.",
    )
    parser.add_argument("--version", action="version", version=f"opsdesk {__version__}")
    parser.add_argument("--mouse", action="store_true", default=None, help="enable mouse")
    _global_options(parser, suppress=False)
    parser.set_defaults(handler=commands.run_console)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: Callable[..., Any], help_text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(child, suppress=True)
        child.set_defaults(handler=handler)
        return child

    init = command(
        "init", commands.init, "write a starter config (never overwrites without --force)"
    )
    init.add_argument("path", nargs="?", help="where to write it (default: the XDG config path)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    config = command("config", commands.config_check, "check or change the configuration")
    config_sub = config.add_subparsers(
        title="config commands", metavar="ACTION", parser_class=_Parser, required=True
    )
    check = config_sub.add_parser("check", help="validate and print the effective config")
    _global_options(check, suppress=True)
    check.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    check.set_defaults(handler=commands.config_check)
    set_ = config_sub.add_parser("set", help="set one value in the conf.d/90-settings.toml drop-in")
    _global_options(set_, suppress=True)
    set_.add_argument("key", help="dotted key, e.g. ui.theme")
    set_.add_argument("value", help='TOML value (strings may be bare), e.g. textual-light or "2"')
    set_.set_defaults(handler=commands.config_set)

    info = command("info", commands.info, "show version, config files, store and log paths")
    info.add_argument("--json", action="store_true")

    demo = command("demo", commands.demo, "create a demo store and open the console on it")
    demo.add_argument("--incidents", type=_count, default=5000, metavar="N", help="default 5000")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="default 7")
    demo.add_argument("--no-ui", action="store_true", help="create the store and exit")

    audit = command(
        "audit", commands.audit, "show the audit log (the newest N, or from --since on)"
    )
    audit.add_argument(
        "--since", metavar="ISO", type=_instant, help="from this time (UTC if no offset)"
    )
    audit.add_argument("--entity", metavar="KEY", help="only this entity, e.g. INC-12")
    audit.add_argument("--limit", type=_count, default=200, metavar="N", help="default 200")
    audit.add_argument("--json", action="store_true")

    from opsdesk.console import (
        change_commands,
        incident_commands,
        oncall_commands,
        status_commands,
    )

    incident_commands.add_parser(command, _level)
    change_commands.add_parser(command, _action, _instant)
    oncall_commands.add_parser(command, _action, _instant)
    status_commands.add_parsers(command, _action)

    banner = command("banner", commands.banner, "show, set or clear the team banner (leads)")
    banner.add_argument("action", nargs="?", choices=["show", "set", "clear"], default="show")
    banner.add_argument("text", nargs="?", help="banner text for `set`")
    banner.add_argument("--json", action="store_true")
    return parser


def _action(sub: Any, name: str, handler: Callable[..., Any], text: str) -> argparse.ArgumentParser:
    """A second-level command (`opsdesk oncall now`) with the global options."""
    child: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text)
    _global_options(child, suppress=True)
    child.set_defaults(handler=handler)
    return child


def _level(text: str) -> int:
    if text not in ("1", "2", "3"):
        raise argparse.ArgumentTypeError(f"expected 1, 2 or 3 (1 is highest), got {text!r}")
    return int(text)


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected zero or more, got {text!r}")
    return value


def _instant(text: str) -> Any:
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO-8601 time like 2026-11-01T09:00Z, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, and turn every expected failure into one line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.log_path = logs.setup(args.log_file, args.verbose)
    try:
        result = args.handler(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return int(result or 0)
    except (OpsdeskError, StoreError) as exc:
        warn(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        log.exception("internal error")
        where = f"; details in {args.log_path}" if args.log_path else ""
        warn(f"internal error: {type(exc).__name__}: {exc}{where}")
        return 1


def main() -> None:
    sys.exit(run())
