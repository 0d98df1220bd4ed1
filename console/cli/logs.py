"""Where logs go: a file (never the terminal, which the console owns), `-v` for more."""

from __future__ import annotations

import logging
from pathlib import Path

import platformdirs

from opsdesk.console.config.private_files import make_private_folders, touch_private_file


def default_log_path() -> Path:
    return platformdirs.user_log_path("opsdesk") / "opsdesk.log"


def setup(log_file: str | None, verbosity: int) -> Path | None:
    """Log to `log_file` (or the default path); return the path, or None if it is unwritable."""
    path = Path(log_file).expanduser() if log_file else default_log_path()
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    try:
        make_private_folders(path.parent)
        touch_private_file(path)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level if name == "opsdesk" else max(level, logging.WARNING))
        logger.propagate = False
    return path


LOGGERS = ("opsdesk", "psycopg")
"""Into the file: opsdesk's own, and the PostgreSQL driver's (a search cancelled as someone
types, a connection the server dropped), which would otherwise reach the terminal through
Python's last-resort handler and draw over the console."""
