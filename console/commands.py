"""What each CLI command does. Each handler takes the parsed arguments and returns an
exit code (or raises an OpsdeskError/StoreError, which the CLI prints as one line)."""

from __future__ import annotations

import argparse
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from opsdesk.console import __version__
from opsdesk.console import config as config_loader
from opsdesk.console.config_model import Person, Roles, Service
from opsdesk.console.dropins import set_value, write_toml
from opsdesk.console.errors import ConfigError, OpsdeskError, UsageError
from opsdesk.console.identity import current_login
from opsdesk.console.output import emit_json, emit_line, emit_table
from opsdesk.console.schema import to_data
from opsdesk.console.session import (
    Options,
    default_demo_path,
    default_store_path,
    open_session,
    store_path,
)
from opsdesk.console.text import one_line
from opsdesk.store import LATEST_SCHEMA, Store


def options_from(args: argparse.Namespace) -> Options:
    return Options(config=args.config, store=args.store, read_only=args.read_only)


def now() -> datetime:
    """The only clock the CLI reads; everything below takes `now` as an argument."""
    return datetime.now(UTC)


def run_console(args: argparse.Namespace) -> int:
    from opsdesk.console.tui import run_tui

    return run_tui(options_from(args), mouse=args.mouse)


def init(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser() if args.path else config_loader.default_config_path()
    if path.exists() and not args.force:
        raise OpsdeskError(f"{path}: already exists; use --force to overwrite it")
    login = current_login()
    starter = {
        "store": {"path": str(default_store_path())},
        "ui": {"theme": "textual-dark", "mouse": False, "bell": True},
        "people": [to_data(Person, Person(login=login, name=login))],
        "roles": to_data(Roles, Roles(admin=[login], lead=[login])),
        "services": [to_data(Service, Service(name="website", tier=1, description="Public site"))],
    }
    config_loader.parse_sources([(str(path), starter)])
    write_toml(
        path,
        starter,
        "opsdesk starter config (see sample.toml for every section). "
        "Generated settings go into conf.d/.",
    )
    (path.parent / config_loader.DROPIN_DIR).mkdir(exist_ok=True)
    emit_line(f"wrote {path}")
    return 0


def config_check(args: argparse.Namespace) -> int:
    loaded = config_loader.load(args.config)
    _check_keymap(loaded.config.keys, loaded.source_label)
    data = config_loader.to_toml_data(loaded.config)
    if getattr(args, "json", False):
        emit_json({"files": [str(f) for f in loaded.files], "config": data})
        return 0
    sys.stderr.write(f"opsdesk: config OK ({loaded.source_label})\n")
    sys.stdout.write(tomli_w.dumps(data))
    return 0


def _check_keymap(keys: dict[str, str], label: str) -> None:
    from opsdesk.console.keymap import validate_keymap

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
    loaded = config_loader.load(options.config)
    path = store_path(options, loaded)
    details: dict[str, Any] = {
        "version": __version__,
        "python": platform.python_version(),
        "config_files": [str(f) for f in loaded.files],
        "config_source": loaded.source_label,
        "config_dir": str(loaded.config_dir),
        "store": str(path),
        "log_file": str(args.log_path) if args.log_path else None,
        "login": current_login(),
    }
    on_disk = Store.peek_schema(path) if path.exists() else None
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
            roles=sorted(session.actor.roles),
        )
    else:
        details.update(schema_version=None, note="the store is created when first used")
    if args.json:
        emit_json(details)
        return 0
    for key, value in details.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        emit_line(f"{key + ':':16} {shown if shown not in (None, '') else '-'}")
    return 0


def demo(args: argparse.Namespace) -> int:
    import asyncio

    from opsdesk.console.demo import build_demo

    path = Path(args.store).expanduser() if args.store else default_demo_path()
    anchor = now().replace(minute=0, second=0, microsecond=0)
    sys.stderr.write(
        f"opsdesk: building a demo store with {args.incidents:,} incidents at {path}\n"
    )
    result = asyncio.run(
        build_demo(
            path, incidents=args.incidents, seed=args.seed, now=anchor, creator=current_login()
        )
    )
    sys.stderr.write(
        f"opsdesk: demo ready in {result.seconds:.1f} s "
        f"({result.incidents:,} incidents, {result.changes:,} changes)\n"
    )
    if args.no_ui:
        return 0
    from opsdesk.console.tui import run_tui

    options = Options(config=args.config, store=str(path), read_only=args.read_only)
    return run_tui(options, mouse=None)


async def audit(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        entries = await session.store.audit.entries(
            since=args.since, entity_key=args.entity, limit=args.limit, newest_first=not args.since
        )
        if not args.since:
            entries.reverse()
    finally:
        await session.close()
    if args.json:
        emit_json(entries)
        return 0
    rows = [
        [
            e.at.strftime("%Y-%m-%d %H:%M:%SZ"),
            e.actor,
            e.action,
            e.entity_key,
            _summary(e.before, e.after),
        ]
        for e in entries
    ]
    emit_table(["at (UTC)", "actor", "action", "key", "change"], rows)
    return 0


def _summary(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return "created" if after else ""
    if after is None:
        return "removed"
    changed = [k for k in after if before.get(k) != after.get(k)]
    return ", ".join(f"{k}: {before.get(k)!s} -> {after[k]!s}" for k in changed)


async def banner(args: argparse.Namespace) -> int:
    if args.action == "set" and not args.text:
        raise UsageError("banner set: give the banner text, e.g. opsdesk banner set 'bridge: ...'")
    if args.action != "set" and args.text:
        raise UsageError(f"banner {args.action}: takes no text")
    session = await open_session(options_from(args), create=args.action != "show")
    try:
        current = await session.store.banner.get()
        if args.action in ("set", "clear"):
            text = one_line(args.text or "")
            current = await session.store.banner.set(session.actor, text, current.version, now())
    finally:
        await session.close()
    if args.json:
        emit_json(current)
    elif current.text:
        emit_line(f"{current.text}  (set by {current.set_by})")
    else:
        emit_line("no banner")
    return 0
