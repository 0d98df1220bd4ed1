"""The `opsdesk` command: argument parsing, dispatch, and one-line errors with exit codes.

Global options (`--config`, `--store`, `--read-only`, `--log-file`, `-v`) are accepted
before or after the subcommand. With no subcommand the console opens.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

from opsdesk.console import collection
from opsdesk.console.cli.output import warn
from opsdesk.console.cli.parsing import (
    Parser,
    add_action,
    add_global_options,
    count,
    instant,
    level,
)
from opsdesk.console.errors import OpsdeskError

log = logging.getLogger("opsdesk.cli")

Command = Callable[[str, Callable[..., Any], str], argparse.ArgumentParser]

# Every command, in the order `opsdesk --help` lists them, and the function that defines
# it (and the others of its group). A command's module, and what its handlers import
# (the store, HTTP, the pager), is loaded only when that command is chosen: `--version`
# loads none of them, `incident list` only the incident commands.
GROUPS: dict[str, tuple[str, ...]] = {
    "settings": ("init", "config", "info"),
    "demo": ("demo",),
    "audit": ("audit",),
    "incidents": ("incident",),
    "problems": ("problem", "review", "action"),
    "changes": ("change",),
    "oncall": ("oncall",),
    "status": ("poll", "vendors", "plugins"),
    "paging": ("serve", "page", "notify", "notifications"),
    "banner": ("banner",),
    "imports": ("import",),
    "report": ("report",),
    "store": ("store",),
}


class Commands(argparse._SubParsersAction):
    """Subcommands whose arguments are defined when one of them is chosen (or when the
    top-level help lists them all), so a command imports only its own module."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pending: dict[str, Callable[[], None]] = {}

    def placeholder(self, name: str) -> None:
        """Name a command (for parsing and the help's list) without making its parser: an
        ArgumentParser costs ~50 µs and two gettext lookups, and there are 38 commands."""
        self._name_parser_map[name] = None
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), ""))

    def parser_of(self, name: str) -> argparse.ArgumentParser:
        """The command's parser, made when it is first defined."""
        parser = self._name_parser_map[name]
        if parser is None:
            parser = self._parser_class(prog=f"{self._prog_prefix} {name}", add_help=False)
            self._name_parser_map[name] = parser
        return parser

    def load(self, name: str) -> None:
        define = self.pending.get(name)
        if define is not None:
            for other in [n for n, d in self.pending.items() if d is define]:
                del self.pending[other]
            define()

    def load_all(self) -> None:
        while self.pending:
            self.load(next(iter(self.pending)))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


class _Version(argparse.Action):
    """`--version`, reading the package metadata only when asked (it costs ~14 ms)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from opsdesk import console

        sys.stdout.write(f"opsdesk {console.__version__}\n")  # on stdout, as argparse's
        parser.exit()


class TopParser(Parser):
    """The `opsdesk` parser: its help defines every command first, to list them all."""

    commands: Commands

    def format_help(self) -> str:
        self.commands.load_all()
        return super().format_help()


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole command line; with `lazy`, each command's arguments are defined only
    when it is chosen (what `run` does, so a command loads only its own module)."""
    parser = TopParser(
        prog="opsdesk",
        description="A terminal console for IT service operations.",
        epilog="Run without a command to open the console. Docs: README.md and docs/.",
    )
    parser.add_argument("--version", action=_Version, help="show the version and exit")
    parser.add_argument("--mouse", action="store_true", default=None, help="enable mouse")
    add_global_options(parser, suppress=False)
    parser.set_defaults(handler=_run_console)
    sub = parser.add_subparsers(
        title="commands", metavar="COMMAND", parser_class=Parser, action=Commands
    )
    assert isinstance(sub, Commands)
    parser.commands = sub

    def command(name: str, handler: Callable[..., Any], help_text: str) -> argparse.ArgumentParser:
        child = sub.parser_of(name)
        child.description = help_text
        child.add_argument(  # what add_help adds, now that the command is chosen
            "-h", "--help", action="help", default=argparse.SUPPRESS,
            help="show this help message and exit",
        )  # fmt: skip
        add_global_options(child, suppress=True)
        for choice in sub._choices_actions:
            if choice.dest == name:
                choice.help = help_text
        child.set_defaults(handler=handler)
        return child

    for group, names in GROUPS.items():
        for name in names:  # a bare placeholder in help order; `command` makes its parser
            # and fills it in (its help and global options too)
            sub.placeholder(name)
        define = _definer(group, command)
        sub.pending.update(dict.fromkeys(names, define))
    if not lazy:
        sub.load_all()
    return parser


def _definer(group: str, command: Command) -> Callable[[], None]:
    def define() -> None:
        DEFINE[group](command)

    return define


def _run_console(args: argparse.Namespace) -> int:
    from opsdesk.console.cli.console import run_console

    return run_console(args)


def _settings(command: Command) -> None:
    from opsdesk.console.cli import settings

    init = command(
        "init", settings.init, "write a starter config (never overwrites without --force)"
    )
    init.add_argument("path", nargs="?", help="where to write it (default: the XDG config path)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    config = command("config", settings.config_check, "check or change the configuration")
    config_sub = config.add_subparsers(
        title="config commands", metavar="ACTION", parser_class=Parser, required=True
    )
    check = config_sub.add_parser("check", help="validate and print the effective config")
    add_global_options(check, suppress=True)
    check.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    check.set_defaults(handler=settings.config_check)
    set_ = config_sub.add_parser("set", help="set one value in the conf.d/90-settings.toml drop-in")
    add_global_options(set_, suppress=True)
    set_.add_argument("key", help="dotted key, e.g. ui.theme")
    set_.add_argument("value", help='TOML value (strings may be bare), e.g. textual-light or "2"')
    set_.add_argument("--json", action="store_true", help="print what was set as JSON")
    set_.set_defaults(handler=settings.config_set)

    info = command("info", settings.info, "show version, config files, store and log paths")
    info.add_argument("--json", action="store_true")


def _demo(command: Command) -> None:
    from opsdesk.console.cli import console

    demo = command("demo", console.demo, "open the console on the demo store (built if missing)")
    demo.add_argument("--incidents", type=count, default=5000, metavar="N", help="default 5000")
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="default 7")
    demo.add_argument("--no-ui", action="store_true", help="create the store and exit")
    demo.add_argument("--reset", action="store_true", help="rebuild the demo store from scratch")


def _audit(command: Command) -> None:
    from opsdesk.console.cli import audit

    audit_ = command("audit", audit.audit, "show the audit log (the newest N, or from --since on)")
    audit_.add_argument(
        "--since", metavar="ISO", type=instant, help="from this time (UTC if no offset)"
    )
    audit_.add_argument("--entity", metavar="KEY", help="only this entity, e.g. INC-12")
    audit_.add_argument("--limit", type=count, default=200, metavar="N", help="default 200")
    audit_.add_argument(
        "--verify",
        action="store_true",
        help="check the whole log's hash chain and guards instead (exit 1 if broken)",
    )
    audit_.add_argument("--json", action="store_true")


def _banner(command: Command) -> None:
    from opsdesk.console.cli import banner

    banner_ = command("banner", banner.banner, "show, set or clear the team banner (leads)")
    banner_.add_argument("action", nargs="?", choices=["show", "set", "clear"], default="show")
    banner_.add_argument("text", nargs="?", help="banner text for `set`")
    banner_.add_argument("--json", action="store_true")


def _module(name: str) -> Any:
    return importlib.import_module(f"opsdesk.console.cli.{name}")


DEFINE: dict[str, Callable[[Command], None]] = {
    "settings": _settings,
    "demo": _demo,
    "audit": _audit,
    "incidents": lambda command: _module("incidents").add_parser(command, level),
    "problems": lambda command: _module("problems").add_parsers(command, add_action, instant),
    "changes": lambda command: _module("changes").add_parser(command, add_action, instant),
    "oncall": lambda command: _module("oncall").add_parser(command, add_action, instant),
    "status": lambda command: _module("status").add_parsers(command, add_action),
    "paging": lambda command: _module("paging").add_parsers(command),
    "banner": _banner,
    "imports": lambda command: _module("imports").add_parser(command),
    "report": lambda command: _module("report").add_parser(command, add_action),
    "store": lambda command: _module("store").add_parser(command, add_action),
}


NAME_ARGUMENTS = ("service", "schedule", "source", "vendor", "person", "assignee",
                  "implementer", "login")  # fmt: skip
"""Arguments that name a config entry: held to the same rule as names in config."""


def argument_problem(
    parser: argparse.ArgumentParser, argv: Sequence[str], args: argparse.Namespace
) -> str | None:
    """The first argument that cannot be used, as "--title: not valid UTF-8": bytes that
    are not UTF-8 reach Python as lone surrogates, which crash wherever the text is
    written (store, log, terminal); a name with control characters could never match
    a config entry and would be drawn as an escape sequence."""
    from opsdesk.console.config.schema import name_problem

    labels = _argument_labels(parser, argv)
    for dest, value in vars(args).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(item, str):
                continue
            label = labels.get(dest, dest)
            if any("\ud800" <= char <= "\udfff" for char in item):
                return f"{label}: not valid UTF-8"
            problem = name_problem(item) if dest in NAME_ARGUMENTS else None
            if problem:
                return f"{label}: {problem}"
    return None


def _argument_labels(parser: argparse.ArgumentParser, argv: Sequence[str]) -> dict[str, str]:
    """How the command line spells each argument (`--title`, or `login` for a
    positional), following the subcommands named in `argv`."""
    labels: dict[str, str] = {}
    current: argparse.ArgumentParser | None = parser
    while current is not None:
        chosen = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                name = next((a for a in argv if a in action.choices), None)
                chosen = action.choices[name] if name is not None else None
            elif action.option_strings:
                longs = [o for o in action.option_strings if o.startswith("--")]
                labels[action.dest] = (longs or action.option_strings)[0]
            else:
                labels[action.dest] = str(action.metavar or action.dest)
        current = chosen
    return labels


TRUST_LOG = logging.getLogger("opsdesk.trust")


class _SayOnce(logging.Handler):
    """Says each trust warning (role grants ignored, from `opsdesk.console.ops.session`)
    once per command, as one line on stderr; the log file gets it too."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.said:
            self.said.add(message)
            warn(message)


def run(
    argv: Sequence[str] | None = None,
    *,
    parsed: Callable[[argparse.Namespace], None] | None = None,
) -> int:
    """Parse `argv`, run the command, and turn every expected failure into one line.
    `parsed` is called once the command (and so its module) is known."""
    parser = build_parser(lazy=True)
    args = parser.parse_args(argv)
    if parsed is not None:
        parsed(args)
    problem = argument_problem(parser, sys.argv[1:] if argv is None else argv, args)
    if problem:
        warn(problem)
        return 2
    from opsdesk.console.cli import logs

    args.log_path = logs.setup(args.log_file, args.verbose)
    say_once = _SayOnce()
    TRUST_LOG.addHandler(say_once)
    try:
        result = args.handler(args)
        if isinstance(result, types.CoroutineType):
            import asyncio  # the handler's module has loaded it already

            result = asyncio.run(result)
        return int(result or 0)
    except OpsdeskError as exc:
        warn(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        store = sys.modules.get("opsdesk.store")  # a StoreError comes from a loaded store
        if store is not None and isinstance(exc, store.StoreError):
            warn(str(exc))
            return int(exc.exit_code)
        log.exception("internal error")
        where = f"; details in {args.log_path}" if args.log_path else ""
        warn(f"internal error: {type(exc).__name__}: {exc}{where}")
        return 1
    finally:
        TRUST_LOG.removeHandler(say_once)


def main() -> None:
    """The `opsdesk` command, with garbage collection paused while it starts
    (console/collection.py says why)."""
    collection.pause()
    code = run(parsed=_loaded)
    collection.freeze_at_exit()
    sys.exit(code)


def _loaded(args: argparse.Namespace) -> None:
    """The command is loaded: collect from here on, except for the console, which resumes
    once its first frame is drawn (console/tui/app.py)."""
    if args.handler is not _run_console:
        collection.resume()
