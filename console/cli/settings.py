"""`opsdesk init`, `config check|set` and `info`: write, validate and change the
configuration, and say where everything is."""

from __future__ import annotations

import argparse
import platform
import re
import sys
from pathlib import Path
from typing import Any

import tomli_w

from opsdesk.console import __version__
from opsdesk.console.cli.common import options_from
from opsdesk.console.cli.output import emit_json, emit_line
from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.dropins import set_value, write_toml
from opsdesk.console.config.model import Person, Roles, Service
from opsdesk.console.config.private_files import make_private_folders
from opsdesk.console.config.schema import to_data
from opsdesk.console.errors import ConfigError, OpsdeskError
from opsdesk.console.ops.identity import EVERYONE, current_login, role_sources
from opsdesk.console.ops.session import (
    Options,
    default_store_path,
    load_config,
    open_session,
    say_warnings,
)
from opsdesk.store import LATEST_SCHEMA, Store


def init(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser() if args.path else config_loader.default_config_path()
    if path.exists() and not args.force:
        raise OpsdeskError(f"{path}: already exists; use --force to overwrite it")
    login = current_login()
    header = (
        "opsdesk starter config (see sample.toml for every section). "
        "Generated settings go into conf.d/."
    )
    starter: dict[str, Any] = {"ui": {"theme": "textual-dark", "mouse": False, "bell": True}}
    team = config_loader.system_files()
    if team:  # a shared host: the team, its store and roles come from the system config
        header = f"Your own settings; the team's config is {', '.join(map(str, team))}."
    else:
        starter = {
            "store": {"path": str(default_store_path())},
            **starter,
            "people": [to_data(Person, Person(login=login, name=login))],
            "roles": to_data(Roles, Roles(admin=[login], lead=[login])),
            "services": [
                to_data(Service, Service(name="website", tier=1, description="Public site"))
            ],
        }
    config_loader.parse_sources([(str(path), starter)])
    write_toml(path, starter, header)
    make_private_folders(path.parent / config_loader.DROPIN_DIR)
    emit_line(f"wrote {path}")
    return 0


def config_check(args: argparse.Namespace) -> int:
    """The effective config as the store's session would use it: role grants from files
    not trusted to grant are left out (and said)."""
    loaded, _ = load_config(options_from(args))
    say_warnings(loaded)
    _check_keymap(loaded.config.keys, loaded.source_label)
    data = config_loader.to_toml_data(loaded.config)
    if getattr(args, "json", False):
        emit_json({"files": [str(f) for f in loaded.files], "config": data})
        return 0
    sys.stderr.write(f"opsdesk: config OK ({loaded.source_label})\n")
    sys.stdout.write(_escape_invisible(tomli_w.dumps(data)))
    return 0


def _check_keymap(keys: dict[str, str], label: str) -> None:
    from opsdesk.console.config.keymap import validate_keymap

    problem = validate_keymap(keys)
    if problem:
        raise ConfigError(f"{label}: keys.{problem}") from None


def config_set(args: argparse.Namespace) -> int:
    main, config_dir = config_loader.locate(args.config)
    target = set_value(config_dir, main, args.key, args.value)
    emit_line(f"set {args.key} in {target}")
    return 0


async def info(args: argparse.Namespace) -> int:
    options = options_from(args)
    loaded, path = load_config(options)
    login = current_login()
    details: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "config_files": [str(f) for f in loaded.files],
        "config_source": loaded.source_label,
        "config_dir": str(loaded.config_dir),
        "store": str(path),
        "log_file": str(args.log_path) if args.log_path else None,
        "login": login,
    }
    held = role_sources(login, loaded.config, loaded.role_sources)
    on_disk = Store.peek_schema(path) if path.exists() else None
    if on_disk is None or on_disk < LATEST_SCHEMA:
        say_warnings(loaded)  # otherwise the session says them (none for a demo store)
    if on_disk is not None and on_disk < LATEST_SCHEMA:
        details.update(
            schema_version=on_disk,
            schema_latest=LATEST_SCHEMA,
            note="upgraded (with a backup copy) the next time it is opened for writing",
        )
    elif path.exists():
        session = await open_session(Options(options.config, str(path), read_only=True))
        try:
            store_info = await session.store.info()
        finally:
            await session.close()
        details.update(
            schema_version=store_info.schema_version,
            schema_latest=store_info.latest_schema,
            store_created=store_info.created_at,
            demo=store_info.demo,
            counts=store_info.counts,
            config_source=session.loaded.source_label,
        )
        held = session.roles
    else:
        details.update(schema_version=None, note="the store is created when first used")
    details.update(roles=sorted(held), role_sources=dict(sorted(held.items())))
    if args.json:
        emit_json(details)
        return 0
    for key, value in details.items():
        if key == "role_sources":
            continue
        if key == "roles":
            value = [
                f"{role} ({source})" if source == EVERYONE else f"{role} (from {source})"
                for role, source in sorted(held.items())
            ]
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        emit_line(f"{key + ':':16} {shown if shown not in (None, '') else '-'}")
    return 0


# tomli-w escapes C0 controls but writes C1 controls, bidi overrides and invisible format
# characters as they are; to a terminal they are commands or hidden text. Inside TOML
# basic strings (all tomli-w writes) a \uXXXX escape reads back as the same character.
_INVISIBLE_IN_TOML = re.compile("[\x80-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _escape_invisible(text: str) -> str:
    return _INVISIBLE_IN_TOML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
