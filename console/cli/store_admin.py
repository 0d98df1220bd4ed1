"""`opsdesk store migrate | roles | grant | revoke`: running a store rather than its
records. On PostgreSQL the database's owner migrates it (nobody else may create its
objects), and admins grant opsdesk's roles as PostgreSQL roles, each grant audited; on
SQLite roles stay in config files and `migrate` upgrades the file (a backup first)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.ops.session import open_session

AddAction = Callable[[Any, str, Callable[..., Any], str], argparse.ArgumentParser]
ROLE_NAMES = ("engineer", "lead", "admin", "cab")


def add_actions(actions: Any, add_action: AddAction) -> None:
    migrate = add_action(
        actions, "migrate", migrate_command,
        "bring the store to this opsdesk's schema (PostgreSQL: as the database's owner)",
    )  # fmt: skip
    migrate.add_argument("--json", action="store_true")
    roles = add_action(actions, "roles", roles_command, "who holds opsdesk's roles (PostgreSQL)")
    roles.add_argument("--json", action="store_true")
    for name, command, text in (
        ("grant", grant_command, "give LOGIN one of opsdesk's roles (PostgreSQL; admins)"),
        ("revoke", revoke_command, "take one of opsdesk's roles from LOGIN (PostgreSQL; admins)"),
    ):
        action = add_action(actions, name, command, text)
        action.add_argument("login", metavar="LOGIN", help="the person's database login")
        action.add_argument("role", metavar="ROLE", help=" | ".join(ROLE_NAMES))
        action.add_argument("--json", action="store_true")


async def migrate_command(args: argparse.Namespace) -> int:
    """Opening a store for writing migrates it; say from which schema to which."""
    options = options_from(args)
    session = await open_session(options)
    try:
        info = await session.store.info()
    finally:
        await session.close()
    if args.json:
        emit_json({"store": info.path, "schema_version": info.schema_version,
                   "schema_latest": info.latest_schema})  # fmt: skip
    else:
        emit_line(f"{info.path}: schema {info.schema_version} (this opsdesk's latest)")
    return 0


async def roles_command(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        held = await session.store.role_members()
    finally:
        await session.close()
    if args.json:
        emit_json({"roles": held})
        return 0
    emit_table(["login", "roles"], [[login, ", ".join(roles)] for login, roles in held.items()])
    return 0


async def grant_command(args: argparse.Namespace) -> int:
    return await _change(args, grant=True)


async def revoke_command(args: argparse.Namespace) -> int:
    return await _change(args, grant=False)


async def _change(args: argparse.Namespace, *, grant: bool) -> int:
    from opsdesk.store.pg.roles import check_login, check_role

    role, login = check_role(args.role), check_login(args.login)  # exit 2 before connecting
    session = await open_session(options_from(args))
    try:
        change = session.store.grant_role if grant else session.store.revoke_role
        await change(session.actor, login, role, now())
        held = (await session.store.role_members()).get(login, [])
    finally:
        await session.close()
    if args.json:
        emit_json({"login": login, "roles": held})
    else:
        verb = "granted to" if grant else "revoked from"
        emit_line(f"{role} {verb} {login}; {login} now holds: {', '.join(held) or 'no role'}")
    return 0
