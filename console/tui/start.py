"""Start the Textual console after checking everything that could fail with a traceback.

Config (with its keymap and theme: the config layer checks them, so `config check` and
`config set` refuse what start-up would) and the store are checked first, so a mistake is
one line and exit code 2 (config) or 1 (store), never a half-drawn screen.
"""

from __future__ import annotations

import asyncio
import sys

from opsdesk.console.errors import UsageError
from opsdesk.console.ops.session import Options, Session, open_session

NO_TERMINAL = (
    "the console needs a terminal, and {stream} is not one (over ssh use ssh -t); "
    "the commands work without one, e.g. opsdesk incident list"
)


async def _check(options: Options) -> Session:
    session = await open_session(options, create=True)
    await session.close()
    return session


def _require_terminal() -> None:
    """Refuse to draw where nobody can type: with input from a pipe or /dev/null (`ssh host
    opsdesk` without -t, cron, a script) Textual's input thread reads end-of-file in a
    loop and the console would spin at a full core, forever, drawing for no one."""
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout)):
        if stream is None or not stream.isatty():
            raise UsageError(NO_TERMINAL.format(stream=name))


def run_tui(options: Options, *, mouse: bool | None) -> int:
    session = asyncio.run(_check(options))  # loading the config checks theme and keys
    _require_terminal()  # after the config: its mistakes are said wherever it runs
    from opsdesk.console.tui.app import OpsdeskApp

    app = OpsdeskApp(options)
    result = app.run(mouse=session.config.ui.mouse if mouse is None else mouse)
    return int(result or app.return_code or 0)
