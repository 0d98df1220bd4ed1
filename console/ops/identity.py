"""Who is acting: the OS account of the process, and the roles config grants it.

The login comes from the effective uid via the password database, never from $USER or
$LOGNAME, which anyone can set. Roles come only from config the session trusts to grant
them (files owned by root or the store's owner; see session.py), and each role keeps the
file it came from, for `opsdesk info`. Roles are checked inside store operations, so the
CLI and the UI enforce the same rules.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping

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


EVERYONE = "everyone"
GRANTED: tuple[Role, ...] = ("admin", "lead", "cab")


def roles_of(login: str, config: Config) -> frozenset[Role]:
    return frozenset(role_sources(login, config))


def role_sources(
    login: str, config: Config, sources: Mapping[str, str] | None = None
) -> dict[Role, str]:
    """Each role `login` holds, with where it was granted: the config file that lists
    them (from `sources`, role to file), or `everyone` for the engineer role."""
    held: dict[Role, str] = {}
    for role in GRANTED:
        if login in getattr(config.roles, role):
            held[role] = (sources or {}).get(role, "config")
    held["engineer"] = EVERYONE
    return held


def actor_for(config: Config, login: str | None = None) -> Actor:
    login = login or current_login()
    return Actor(login=login, roles=roles_of(login, config))
