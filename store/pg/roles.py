"""opsdesk's roles on PostgreSQL: who is connected, which of opsdesk's roles they hold,
and granting or revoking those roles (issue 20).

On this backend a config file's [roles] grants nothing: holding `lead` is being a member
of the group role `opsdesk_lead`, and the acting person is `session_user`, the role that
authenticated. Granting goes through `opsdesk_grant` / `opsdesk_revoke`
(migrations/0002_security.sql): security-definer functions owned by opsdesk_owner that
only members of opsdesk_admin (or a superuser) may call. They, and not the admin, hold
CREATEROLE, because on PostgreSQL 15 a role with CREATEROLE may grant itself any role,
opsdesk_owner included, and so drop every guard. The functions quote each name with
format('%I') on the server, refuse anything but the four role names, and create the LOGIN
role when it is missing.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as pg_errors

from opsdesk.store.errors import InvalidOperation, NotFound, PermissionDenied, StoreError
from opsdesk.store.records import Role

ROLES: tuple[Role, ...] = ("engineer", "lead", "admin", "cab")
"""opsdesk's role names; on PostgreSQL each is the group role `opsdesk_<name>`."""
GROUP_PREFIX = "opsdesk_"
LOGIN_LIMIT = 63  # bytes: PostgreSQL's NAMEDATALEN - 1; a longer name would be cut, not refused

MEMBERSHIPS = (
    "SELECT session_user, coalesce(array_agg(substr(r.rolname, 9) ORDER BY r.rolname)"
    " FILTER (WHERE pg_has_role(session_user, r.oid, 'MEMBER')), '{}')"
    " FROM pg_roles AS r WHERE r.rolname = ANY(%s)"
)


class UnknownRole(InvalidOperation):
    """A role name that is not one of opsdesk's four: a usage mistake (exit 2)."""

    exit_code = 2


async def roles_of(conn: psycopg.AsyncConnection[Any]) -> tuple[str, frozenset[Role]]:
    """(login, roles) of the connected person: `session_user` and each opsdesk role it is
    a member of, directly or through another (lead, admin and cab are members of
    engineer). `SET ROLE` cannot change either: session_user is who authenticated."""
    groups = [GROUP_PREFIX + role for role in ROLES]
    cursor = await conn.execute(MEMBERSHIPS, (groups,))
    row = await cursor.fetchone()
    if row is None:  # an aggregate always answers one row
        raise StoreError("PostgreSQL did not say who is connected")
    held = frozenset(role for role in ROLES if role in row[1])
    return str(row[0]), held


async def grant(conn: psycopg.AsyncConnection[Any], login: str, role: str) -> None:
    """Make `login` a member of opsdesk's `role`, creating the LOGIN role when missing
    (how it authenticates is pg_hba.conf's business: docs/operations.md)."""
    await _call(conn, "SELECT opsdesk_grant(%s, %s)", login, role, "granting")


async def revoke(conn: psycopg.AsyncConnection[Any], login: str, role: str) -> None:
    """Take opsdesk's `role` away from `login` (the login itself stays: it may own
    nothing, but dropping it is the DBA's call)."""
    await _call(conn, "SELECT opsdesk_revoke(%s, %s)", login, role, "revoking")


def check_role(role: str) -> Role:
    """`role` as one of opsdesk's role names, or UnknownRole saying which there are."""
    for known in ROLES:
        if role == known:
            return known
    raise UnknownRole(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def check_login(login: str) -> str:
    """`login` if it can name a person's role: not empty, not one of PostgreSQL's or
    opsdesk's own role names, no longer than PostgreSQL keeps."""
    if not login or login != login.strip() or "\x00" in login:
        raise InvalidOperation(f"{login!r} is not a login name")
    if login.startswith((GROUP_PREFIX, "pg_")):
        raise InvalidOperation(f"{login!r} is a group or system role, not a person's login")
    if len(login.encode("utf-8")) > LOGIN_LIMIT:
        raise InvalidOperation(
            f"login {login[:20]!r}... is longer than PostgreSQL's {LOGIN_LIMIT} bytes"
        )
    return login


async def _call(
    conn: psycopg.AsyncConnection[Any], sql: str, login: str, role: str, verb: str
) -> None:
    checked_role, checked_login = check_role(role), check_login(login)
    try:
        # A savepoint when the caller holds a transaction (the audited write around it),
        # so a refusal leaves that transaction usable for the error's own handling.
        async with conn.transaction():
            await conn.execute(sql, (checked_login, checked_role))
    except pg_errors.InsufficientPrivilege:
        raise PermissionDenied(
            f"{verb} opsdesk roles needs the admin role; {await _who(conn)} does not have it"
        ) from None
    except pg_errors.UndefinedFunction:
        raise StoreError(
            "this database has no opsdesk roles yet (migration 0002 has not run); "
            "open the store once as its owner"
        ) from None
    except pg_errors.UndefinedObject as exc:
        raise NotFound(_primary(exc)) from None
    except pg_errors.InvalidParameterValue as exc:
        raise InvalidOperation(_primary(exc)) from None


async def _who(conn: psycopg.AsyncConnection[Any]) -> str:
    cursor = await conn.execute("SELECT session_user")
    row = await cursor.fetchone()
    return str(row[0]) if row else "this login"


def _primary(exc: psycopg.Error) -> str:
    diag = exc.diag.message_primary
    return diag or str(exc).splitlines()[0]


MEMBERS = (
    "SELECT m.rolname, substr(g.rolname, 9) FROM pg_auth_members AS a"
    " JOIN pg_roles AS g ON g.oid = a.roleid JOIN pg_roles AS m ON m.oid = a.member"
    " WHERE g.rolname = ANY(%s) AND m.rolcanlogin ORDER BY m.rolname, g.rolname"
)


async def members(conn: psycopg.AsyncConnection[Any]) -> dict[str, list[Role]]:
    """Each login granted one of opsdesk's roles directly, with those roles: what
    `opsdesk store roles` lists (roles held through another group are not repeated)."""
    cursor = await conn.execute(MEMBERS, ([GROUP_PREFIX + role for role in ROLES],))
    held: dict[str, list[Role]] = {}
    for login, role in await cursor.fetchall():
        held.setdefault(str(login), []).append(check_role(str(role)))
    return held
