"""Start the Textual console after checking everything that could fail with a traceback.

Config (with its keymap and theme: the config layer checks them, so `config check` and
`config set` refuse what start-up would) and the store are checked first, so a mistake is
one line and exit code 2 (config) or 1 (store), never a half-drawn screen.
"""

from __future__ import annotations

import asyncio

from opsdesk.console.ops.session import Options, Session, open_session


async def _check(options: Options) -> Session:
    session = await open_session(options, create=True)
    await session.close()
    return session


def run_tui(options: Options, *, mouse: bool | None) -> int:
    session = asyncio.run(_check(options))  # loading the config checks theme and keys
    from opsdesk.console.tui.app import OpsdeskApp

    app = OpsdeskApp(options)
    result = app.run(mouse=session.config.ui.mouse if mouse is None else mouse)
    return int(result or app.return_code or 0)
