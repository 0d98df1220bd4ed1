"""Who is acting: the OS account of the process, and the roles config grants it.

The login comes from the effective uid via the password database, never from $USER or
$LOGNAME, which anyone can set. Roles are checked inside store operations, so the CLI
and the UI enforce the same rules.
"""

from __future__ import annotations

import os
import pwd

from opsdesk.console.config.model import Config
from opsdesk.store import Actor
from opsdesk.store.records import Role


def current_login() -> str:
    """The login name of the effective uid (the numeric uid if it has no passwd entry)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def roles_of(login: str, config: Config) -> frozenset[Role]:
    granted: set[Role] = {"engineer"}
    for role in ("admin", "lead", "cab"):
        if login in getattr(config.roles, role):
            granted.add(role)
    return frozenset(granted)


def actor_for(config: Config, login: str | None = None) -> Actor:
    login = login or current_login()
    return Actor(login=login, roles=roles_of(login, config))
