"""Errors that reach a person: each carries the one line to print and the exit code.

Exit codes follow the house rule: 2 for usage and configuration mistakes, 1 for
runtime refusals and failures. The CLI prints `opsdesk: <message>` and exits;
it never shows a traceback for these.
"""

from __future__ import annotations


class OpsdeskError(Exception):
    """Base for every error that is reported to the user as one line."""

    exit_code = 1


class UsageError(OpsdeskError):
    """A command was called wrongly (bad flag value, missing argument)."""

    exit_code = 2


class InputError(UsageError):
    """A value given to a command or a form names nothing the config knows (a service,
    login or schedule) or cannot be right (a range that ends before it starts). Exit 2, as
    any usage mistake; a refusal because of the state of things (a wrong state, a missing
    role) stays an exit 1 error."""


class ConfigError(OpsdeskError):
    """A configuration file is unreadable or invalid; the message names file and key."""

    exit_code = 2


def changed_since_you_looked(key: str, by: str, had: int, now: int) -> str:
    """Why a write made from an old view of a record is refused: who changed it since."""
    return (
        f"{key} was changed by {by} since you looked (version {had}, now {now}); "
        "look at it again and retry"
    )
