"""Start the Textual console after checking everything that could fail with a traceback.

Config, keymap, theme and the store are checked first, so a mistake is one line and exit
code 2 (config) or 1 (store), never a half-drawn screen.
"""

from __future__ import annotations

import asyncio

from textual.theme import BUILTIN_THEMES

from opsdesk.console.config.keymap import validate_keymap
from opsdesk.console.config.schema import suggest
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.session import Options, Session, open_session


async def _check(options: Options) -> Session:
    session = await open_session(options, create=True)
    await session.close()
    return session


def run_tui(options: Options, *, mouse: bool | None) -> int:
    session = asyncio.run(_check(options))
    label = session.loaded.source_label
    problem = validate_keymap(session.config.keys)
    if problem:
        raise ConfigError(f"{label}: keys.{problem}")
    theme = session.config.ui.theme
    if theme not in BUILTIN_THEMES:
        raise ConfigError(
            f"{label}: ui.theme: unknown theme {theme!r}{suggest(theme, BUILTIN_THEMES)}"
        )
    from opsdesk.console.tui.app import OpsdeskApp

    app = OpsdeskApp(options)
    result = app.run(mouse=session.config.ui.mouse if mouse is None else mouse)
    return int(result or app.return_code or 0)
