"""`opsdesk init`, `config check|set` and `info`: write, validate and change the
configuration, and say where everything is."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import sys
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from opsdesk.console import __version__
from opsdesk.console.cli.common import options_from
from opsdesk.console.cli.output import emit_json, emit_line, warn
from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.dropins import parse_value, set_value
from opsdesk.console.config.model import (
    EscalationLevel,
    EscalationPolicy,
    Layer,
    Person,
    Roles,
    Schedule,
    Service,
    SlaConfig,
)
from opsdesk.console.config.private_files import make_private_folders
from opsdesk.console.config.schema import to_data
from opsdesk.console.domain.text import clean
from opsdesk.console.errors import ConfigError, OpsdeskError, UsageError
from opsdesk.console.ops.identity import EVERYONE, current_login, role_sources
from opsdesk.console.ops.session import (
    Options,
    default_store_path,
    load_config,
    open_session,
    say_warnings,
)
from opsdesk.store import LATEST_SCHEMA, Store
from opsdesk.store.location import PgLocation, location_label


def init(args: argparse.Namespace) -> int:
    path = Path(args.path).expanduser() if args.path else config_loader.default_config_path()
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; name the config file, e.g. {path / 'config.toml'}")
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
            "people": [to_data(Person, Person(login=login, name=login, timezone=_system_zone()))],
            "roles": to_data(Roles, Roles(admin=[login], lead=[login])),
            "services": [
                to_data(Service, Service(name="website", tier=1, description="Public site"))
            ],
            **_starter_team(login),
        }
    config_loader.parse_sources([(str(path), starter)])
    try:
        _write_commented(path, starter, header, STARTER_COMMENTS)
        make_private_folders(path.parent / config_loader.DROPIN_DIR)
    except OSError as exc:  # a read-only or virtual filesystem (/proc), no permission, full
        why = exc.strerror or type(exc).__name__
        raise OpsdeskError(f"{path}: cannot write it ({why} in {path.parent})") from None
    emit_line(f"wrote {path}")
    return 0


def _starter_team(login: str) -> dict[str, Any]:
    """What a team of one needs for every workflow to work: SLA targets for all four
    priorities, a weekly rota of one in the system's zone, an escalation policy for the
    starter service, and approval rules a single person can meet (nobody approves their
    own change, so with one person no change can need an approval)."""
    zone = _system_zone()
    today = datetime.now(ZoneInfo(zone)).date()
    monday = datetime.combine(today - timedelta(days=today.weekday()), time(9, 0))
    rota = Layer(name="weekly", members=[login], rotation=timedelta(weeks=1), start=monday)
    level = EscalationLevel(after=timedelta(0), schedule="primary")
    return {
        "sla": {"priorities": to_data(SlaConfig, SlaConfig())["priorities"]},
        "schedules": [to_data(Schedule, Schedule(name="primary", timezone=zone, layers=[rota]))],
        "escalation_policies": [
            to_data(EscalationPolicy, EscalationPolicy(service="website", levels=[level]))
        ],
        "changes": {
            "approval_rules": [
                {"type": kind, "cab": 0, "lead": 0} for kind in ("standard", "normal", "emergency")
            ]
        },
    }


STARTER_COMMENTS = {
    "[roles]": "Admins hold every role. Add leads and CAB members here as the team grows.",
    "[sla.priorities.P1]": (
        "SLA targets for all four priorities (giving any replaces the defaults). A target\n"
        '# may count business hours only: calendar = "<name>" of an [sla.calendars.<name>].'
    ),
    "[[schedules]]": (
        "Who is on call: a weekly rota of one. Add people to `members` to take turns."
    ),
    "[[escalation_policies]]": (
        "Who is paged for the service: whoever is on call in `primary`, at once. Add\n"
        '# levels (after = "30m", person = "<login>") for a backup.'
    ),
    "[changes]": (
        "Nobody approves their own change, so with one person no change can need an\n"
        "# approval. When the team grows, list CAB members under [roles] cab and raise\n"
        "# `cab` (or `lead`) for normal changes, e.g. cab = 1; `opsdesk config check` says\n"
        "# when a rule cannot be met."
    ),
}
"""Comments written above the starter config's sections: what to edit."""


def _write_commented(path: Path, data: dict[str, Any], header: str, notes: dict[str, str]) -> None:
    """Like `write_toml` (atomic, private), with `notes` as comments above the sections."""
    make_private_folders(path.parent)
    lines = []
    for line in tomli_w.dumps(data).splitlines():
        note = notes.get(line.strip())
        if note:
            lines.append(f"# {note}")
        lines.append(line)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"# {header}\n" + "\n".join(lines) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _system_zone() -> str:
    """This host's IANA time zone name ($TZ, else /etc/localtime's link, else
    /etc/timezone), or UTC."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.partition("zoneinfo/")[2])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                ZoneInfo(name)
            except (ValueError, ZoneInfoNotFoundError):
                continue
            return name
    return "UTC"


def config_check(args: argparse.Namespace) -> int:
    """The effective config as the store's session would use it: role grants from files
    not trusted to grant are left out (and said). Every check start-up makes is made
    here. On mistakes, every one is listed on stdout, one line each naming file and key
    (as linters do), and stderr says the first and how many more; exit 2."""
    try:
        loaded, _ = load_config(options_from(args))
    except config_loader.ConfigErrors as exc:
        if getattr(args, "json", False):
            emit_json({"errors": exc.lines})
        else:
            sys.stdout.write("".join(f"{clean(line, keep_newlines=False)}\n" for line in exc.lines))
        raise ConfigError(_summary(exc)) from None
    say_warnings(loaded)
    for line in config_loader.default_approval_warnings(loaded.config):
        warn(f"warning: {loaded.source_label}: {line}")
    data = config_loader.to_toml_data(loaded.config)
    if getattr(args, "json", False):
        emit_json({"files": [str(f) for f in loaded.files], "config": data})
        return 0
    sys.stderr.write(f"opsdesk: config OK ({loaded.source_label})\n")
    sys.stdout.write(_escape_invisible(tomli_w.dumps(data)))
    return 0


def _summary(exc: config_loader.ConfigErrors) -> str:
    more = len(exc.lines) - 1
    return exc.lines[0] + (f" (and {more} more above)" if more else "")


def config_set(args: argparse.Namespace) -> int:
    """Refuses a value the config (or start-up) would refuse, saying every mistake."""
    main, config_dir = config_loader.locate(args.config)
    try:
        target = set_value(config_dir, main, args.key, args.value)
    except config_loader.ConfigErrors as exc:
        for line in exc.lines[:-1]:
            warn(line)
        raise ConfigError(exc.lines[-1]) from None
    if getattr(args, "json", False):
        emit_json({"key": args.key, "value": parse_value(args.value), "file": str(target)})
        return 0
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
        "store": location_label(path),
        "log_file": str(args.log_path) if args.log_path else None,
        "login": login,
    }
    held = role_sources(login, loaded.config, loaded.role_sources)
    if isinstance(path, PgLocation):  # the database says who you are and what you hold
        on_disk, exists = None, True
    else:
        exists = path.exists()
        on_disk = Store.peek_schema(path) if exists else None
    if not isinstance(path, PgLocation) and (on_disk is None or on_disk < LATEST_SCHEMA):
        say_warnings(loaded)  # otherwise the session says them (none for a demo store)
    if on_disk is not None and on_disk < LATEST_SCHEMA:
        details.update(
            schema_version=on_disk,
            schema_latest=LATEST_SCHEMA,
            note="upgraded (with a backup copy) the next time it is opened for writing",
        )
    elif exists:
        where = path.url if isinstance(path, PgLocation) else str(path)
        session = await open_session(Options(options.config, where, read_only=True))
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
        details["login"] = session.actor.login  # on PostgreSQL: the role that authenticated
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
