"""Open what every command needs: the config, the store path, the store and the actor.

Trust, as ssh and sudo do it (docs/operations.md, "A shared host"). The loader refuses any
config file, drop-in folder or plugin file that someone other than its owner and root
could change. Here the session decides which of the files read may grant roles (`[roles]`,
and the approvals `[changes]` asks for), since that depends on the store: files owned by
root or by the store's owner (you, for a store you are about to create), on a path only
they can change. So your own config makes you admin of your own store (a laptop), never
of a colleague's. A file that may not grant has those sections ignored, said once.

A demo store (flagged `demo` in its meta table) uses the demo team built into opsdesk,
made for the store's owner, unless a config is named explicitly (`--config` or
`$OPSDESK_CONFIG`). Nothing read from a store loads code or grants roles: the flag only
picks which built-in config applies.
"""

from __future__ import annotations

import logging
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from opsdesk.console.config import loader as config_loader
from opsdesk.console.config import trust
from opsdesk.console.config.loader import ConfigFile, LoadedConfig
from opsdesk.console.config.model import Config
from opsdesk.console.ops.identity import actor_for, role_sources
from opsdesk.store import Actor, Store
from opsdesk.store.location import PgLocation, StoreLocation, parse_location
from opsdesk.store.records import Role
from opsdesk.store.value import Value

log = logging.getLogger("opsdesk.trust")
"""Grants ignored are logged here as warnings; the CLI says each once on stderr."""


def default_store_path() -> Path:
    return platformdirs.user_data_path("opsdesk") / "opsdesk.db"


def default_demo_path() -> Path:
    return platformdirs.user_data_path("opsdesk") / "demo.db"


def default_store_choice() -> Path:
    """The store when neither `--store` nor a config names one: the per-user store, or,
    while that does not exist yet and `opsdesk demo` has built its store, the demo (said
    once), so the commands reach what the console showed."""
    from opsdesk.store.bulk import existing_kind  # only when no store is named

    path, demo = default_store_path(), default_demo_path()
    if not path.exists() and existing_kind(demo) == "demo":
        log.warning(f"using the demo store {demo} (no other store yet)")
        return demo
    return path


@dataclass(eq=False, repr=False)
class Options(Value):
    """The global options every command accepts, and whether the command uses status
    sources (`sources`): one that never polls leaves their options unchecked by their
    plugins, so it loads none (the console, `poll`, `vendors`, `serve` and `config check`
    check them; a mistake there does not stop `opsdesk incident ack` during an outage)."""

    config: str | None = None
    store: str | None = None
    read_only: bool = False
    sources: bool = True


@dataclass(eq=False, repr=False)
class Session(Value):
    """A command's or console's opened config and store, and who is acting."""

    loaded: LoadedConfig
    store: Store
    actor: Actor
    database_roles: dict[Role, str] | None = None  # PostgreSQL: role -> the database role

    @property
    def config(self) -> Config:
        return self.loaded.config

    @property
    def roles(self) -> dict[Role, str]:
        """Each role the actor holds and the file (or `everyone`, or on PostgreSQL the
        database role) it comes from."""
        if self.database_roles is not None:
            return dict(self.database_roles)
        return role_sources(self.actor.login, self.config, self.loaded.role_sources)

    @property
    def warnings(self) -> list[str]:
        """Role grants ignored, one line per file (the console shows them)."""
        return self.loaded.warnings

    async def close(self) -> None:
        await self.store.close()


class Granting:
    """Whose files may grant roles for one store, and how to say why a file may not.
    (A plain class: a frozen dataclass costs every command ~0.5 ms of start to build.)"""

    __slots__ = ("owner", "owners", "replaceable", "store")

    def __init__(
        self, store: Path, owner: int, owners: frozenset[int], replaceable: trust.Fault | None
    ) -> None:
        self.store = store
        self.owner = owner
        self.owners = owners
        self.replaceable = replaceable

    @classmethod
    def of(cls, store: Path) -> Granting:
        """Root's files always; the store owner's (yours, if it does not exist yet) only
        when nobody else can replace the store file with one of their own."""
        try:
            owner = trust.owner_of(store)
        except FileNotFoundError:
            owner = os.geteuid()
        except OSError:  # not even stat-able by us: the store will say why when opened
            return cls(store, os.geteuid(), frozenset({trust.ROOT}), None)
        open_to = None if owner == trust.ROOT else trust.replaceable(store, {owner})
        owners = {trust.ROOT} if open_to is not None else {trust.ROOT, owner}
        return cls(store, owner, frozenset(owners), open_to)

    def refusal(self, item: ConfigFile) -> str | None:
        """Why `item` may not grant roles, or None."""
        if item.owner not in self.owners:
            name = trust.login_of(self.owner)
            if self.replaceable is not None:
                fault = self.replaceable
                hint = (
                    f"fix with chmod +t {fault.at}"
                    if fault.problem.startswith("writable")
                    else fault.fix
                )
                return (
                    f"it is not owned by root, and the store's owner ({name}) grants no roles "
                    f"while others could replace {self.store} ({fault.reason}; {hint})"
                )
            if self.owner == trust.ROOT:
                return "it is not owned by root (the store's owner)"
            return f"it is not owned by root or the store's owner ({name})"
        found = trust.fault(item.path, owners=self.owners, folder_owners=self.owners)
        return None if found is None else found.reason


def load_config(options: Options) -> tuple[LoadedConfig, StoreLocation]:
    """The config as the session trusts it, and the store it is for. Every file is
    checked before it is read; the store path is known from the files before they are
    trusted (it decides whose files may grant roles), so it can come from any of them.
    On a PostgreSQL store no file grants roles: the database's roles are the only ones."""
    files, config_dir = config_loader.read_files(options.config)
    location: StoreLocation
    if options.store:
        location = parse_location(options.store)
    else:
        location = config_loader.configured_store(files) or default_store_choice()
    if isinstance(location, PgLocation):
        refusal = database_grants_only
    else:
        refusal = Granting.of(location).refusal
    loaded = config_loader.assemble(files, config_dir, may_grant=refusal, plugins=options.sources)
    return loaded, location


def database_grants_only(item: ConfigFile) -> str | None:
    """On a PostgreSQL store, roles are PostgreSQL roles an admin grants (`opsdesk store
    grant`): no config file grants one (`open_session` says so of any `[roles]` it finds).
    The change approval rules (`[changes]`: how many approvals, from whom) still come from
    config, and only from files root owns on a path only root can change (`/etc/opsdesk`):
    a person's own file cannot lower what their change needs."""
    if (
        item.owner == trust.ROOT
        and trust.fault(item.path, owners={trust.ROOT}, folder_owners={trust.ROOT}) is None
    ):
        return None
    return (
        "the store is PostgreSQL, where roles are granted in the database (opsdesk store grant)"
        " and approval rules come only from files root owns"
    )


ROLES_IN_DATABASE = (
    "[roles] has no effect on a PostgreSQL store: roles are granted in the database"
    " (opsdesk store grant)"
)


def say_warnings(loaded: LoadedConfig) -> None:
    for line in loaded.warnings:
        log.warning(line)


def explicit_config(options: Options) -> bool:
    return bool(options.config or os.environ.get(config_loader.ENV_VAR))


def demo_team_applies(options: Options, loaded: LoadedConfig) -> bool:
    """Whether a store's demo flag may bring in the built-in demo team. Not when a config
    is named (`--config`, `$OPSDESK_CONFIG`), and not for a store that a config file names
    in `[store] path`: that store is the team's, and the flag is in a table every group
    member can write, so honouring it there would swap the team's schedules, escalation
    and roles for the demo's."""
    return not explicit_config(options) and (
        bool(options.store) or not (loaded.config.store.path or loaded.config.store.url)
    )


def demo_team(path: Path, config_dir: Path | None, *, plugins: bool = True) -> LoadedConfig:
    """The config of the demo store at `path`: the demo team built into opsdesk, whose
    admin is the store file's owner (who made it). Nothing of it is read from the store.
    `plugins`: check its sources' options (Options.sources)."""
    from opsdesk.console.ops.demo_team import demo_config  # a demo store only

    creator = trust.login_of(trust.owner_of(path))
    label = f"{path} (demo store: the built-in demo team, made by {creator})"
    data = demo_config(creator)
    data["roles"] = {
        role: [login for login in logins if login == creator or not _is_account(login)]
        for role, logins in data["roles"].items()
    }
    config = config_loader.parse_sources([(label, data)], plugins=plugins)
    granted = {role: label for role in ("admin", "lead", "cab") if getattr(config.roles, role)}
    return LoadedConfig(config, [], config_dir, label, role_sources=granted)


def _is_account(login: str) -> bool:
    """A real account on this host: a made-up demo lead with its name grants it nothing."""
    try:
        pwd.getpwnam(login)
    except KeyError:
        return False
    return True


async def open_session(
    options: Options, *, create: bool = True, login: str | None = None
) -> Session:
    """Open config and store. A missing store is created (`create=True`: the console and
    every command that changes something), or read as an empty store without making a
    file (`create=False`: commands that only read). `login` is for tests and tools acting
    for a known person; the CLI never sets it, so the actor is the process's own account."""
    loaded, location = load_config(options)
    store = await Store.open(
        location, group=loaded.config.store.group, read_only=options.read_only, create=create
    )
    try:
        if isinstance(location, PgLocation):
            # The person is the role that authenticated; `login` cannot choose another.
            actor, granted = await store.authenticated_actor()
            roles = loaded.config.roles
            if (
                roles.admin or roles.lead or roles.cab
            ) and ROLES_IN_DATABASE not in loaded.warnings:
                loaded.warnings.append(ROLES_IN_DATABASE)
            say_warnings(loaded)
            return Session(loaded=loaded, store=store, actor=actor, database_roles=granted)
        if demo_team_applies(options, loaded) and await store.meta.is_demo():
            loaded = demo_team(location, loaded.config_dir, plugins=options.sources)
    except BaseException:
        await store.close()
        raise
    say_warnings(loaded)
    return Session(loaded=loaded, store=store, actor=actor_for(loaded.config, login))
