"""Open what every command needs: the config, the store path, the store and the actor.

A demo store carries its own config. It is used unless a config is named explicitly
(`--config` or `$OPSDESK_CONFIG`), so `opsdesk --store demo.db ...` works on a fresh
machine and a personal config in the XDG folder does not clash with the demo team.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.loader import LoadedConfig
from opsdesk.console.config.model import Config
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.identity import actor_for
from opsdesk.store import Actor, Store


def default_store_path() -> Path:
    return platformdirs.user_data_path("opsdesk") / "opsdesk.db"


def default_demo_path() -> Path:
    return platformdirs.user_data_path("opsdesk") / "demo.db"


@dataclass
class Options:
    """The global options every command accepts."""

    config: str | None = None
    store: str | None = None
    read_only: bool = False


@dataclass
class Session:
    loaded: LoadedConfig
    store: Store
    actor: Actor

    @property
    def config(self) -> Config:
        return self.loaded.config

    async def close(self) -> None:
        await self.store.close()


def store_path(options: Options, loaded: LoadedConfig) -> Path:
    """`--store` (relative to the working directory), else `[store] path` (relative to the
    config file's folder), else the per-user data folder."""
    if options.store:
        return Path(options.store).expanduser()
    if loaded.config.store.path:
        configured = Path(loaded.config.store.path).expanduser()
        if not configured.is_absolute() and loaded.config_dir is not None:
            configured = loaded.config_dir / configured
        return configured
    return default_store_path()


async def open_session(
    options: Options, *, create: bool = True, login: str | None = None
) -> Session:
    """Open config and store. `login` is for tests and tools acting for a known person;
    the CLI never sets it, so the actor is the process's own account."""
    loaded = config_loader.load(options.config)
    path = store_path(options, loaded)
    store = await Store.open(
        path, group=loaded.config.store.group, read_only=options.read_only, create=create
    )
    explicit = bool(options.config or os.environ.get(config_loader.ENV_VAR))
    try:
        if not explicit and (not loaded.from_files or await store.meta.is_demo()):
            embedded = await store.meta.embedded_config()
            if embedded is not None:
                label = f"{path} (embedded config)"
                try:
                    config = config_loader.parse_text(embedded, label)
                except ConfigError as exc:
                    raise ConfigError(
                        f"{exc}; this demo store was made by an older opsdesk: rebuild it with "
                        f"`opsdesk demo --store {path}`"
                    ) from None
                loaded = LoadedConfig(config, [], loaded.config_dir, label)
    except BaseException:
        await store.close()
        raise
    return Session(loaded=loaded, store=store, actor=actor_for(loaded.config, login))
