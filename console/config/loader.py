"""Find, read, merge and validate the configuration.

Two layers, merged in this order: the team's system config (`/etc/opsdesk/config.toml`,
then `/etc/opsdesk/conf.d/*.toml`), then the person's own: `--config PATH`, else
`$OPSDESK_CONFIG`, else the XDG config file, with the `conf.d/*.toml` beside it. With
neither, built-in defaults. Drop-ins merge after their main file, in name order: tables
merge key by key, arrays of tables (people, services, ...) append, other values replace.
Any mistake becomes a `ConfigError` whose one line names the file, the key path and what
was expected.

Before a file is read it is checked as ssh checks its config (`trust.py`): a file, a
`conf.d/` folder or a plugin file that someone other than its owner and root could change
is refused. Which files may grant roles is decided by the session, which knows the store.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeGuard, get_args

import platformdirs

from opsdesk.console.config import trust
from opsdesk.console.config.model import (
    ChangeType,
    Config,
    EscalationLevel,
    Layer,
    Priority,
    StatusSource,
)
from opsdesk.console.config.review_checks import review_errors
from opsdesk.console.config.schema import Path as KeyPath
from opsdesk.console.config.schema import (
    SchemaError,
    SchemaErrors,
    build,
    each_error,
    format_path,
    suggest,
    to_data,
)
from opsdesk.console.config.themes import BUILTIN_THEME_NAMES
from opsdesk.console.errors import ConfigError
from opsdesk.store.location import PgLocation, StoreLocation, is_pg_url
from opsdesk.store.value import FrozenValue, Value

ENV_VAR = "OPSDESK_CONFIG"
DROPIN_DIR = "conf.d"
CONFIG_NAME = "config.toml"
SYSTEM_CONFIG_DIR = Path("/etc/opsdesk")
"""The team's config folder, read before the person's own. A constant on purpose: no
flag or environment variable moves it (tests replace it in-process)."""

GRANTS = {"roles": "roles", "changes": "change approval rules"}
"""Sections that grant privilege. A file the session does not trust to grant has them
ignored (roles from `[roles]`; approvals needed, from `[changes]`)."""


class ConfigErrors(ConfigError):
    """Every mistake found in the configuration, one line each in file order (`lines`).
    Its message is the first line, saying how many more there are: `config check` lists
    them all."""

    def __init__(self, lines: list[str]) -> None:
        more = len(lines) - 1
        tail = f" (and {more} more mistake{'s' if more > 1 else ''}: see `opsdesk config check`)"
        super().__init__(lines[0] + (tail if more else ""))
        self.lines = lines


def default_config_path() -> Path:
    """The per-user config file (`~/.config/opsdesk/config.toml` on Linux)."""
    return platformdirs.user_config_path("opsdesk") / CONFIG_NAME


@dataclass(frozen=True, eq=False, repr=False)
class ConfigFile(FrozenValue):
    """One file as read: its TOML data, its owner, and the folder of its layer (the
    system folder, or the person's config folder) that relative paths start from."""

    path: Path
    data: dict[str, Any]
    owner: int
    layer: str  # "system" or "user"
    folder: Path


@dataclass(eq=False, repr=False)
class LoadedConfig(Value):
    """A validated config plus where it came from (for `opsdesk info` and drop-ins)."""

    config: Config
    files: list[Path] = field(default_factory=list)
    config_dir: Path | None = None
    source_label: str = "built-in defaults"
    read: list[ConfigFile] = field(default_factory=list)
    role_sources: dict[str, str] = field(default_factory=dict)
    """Each role that is granted to anyone: the file its member list came from."""
    warnings: list[str] = field(default_factory=list)
    """One line per file whose grants were ignored."""

    @property
    def from_files(self) -> bool:
        return bool(self.files)


def locate(explicit: str | None) -> tuple[Path | None, Path]:
    """Return (the person's main file or None, their config directory) following the
    lookup order."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (from --config)")
        return path, path.parent
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (from ${ENV_VAR})")
        return path, path.parent
    path = default_config_path()
    return (path if path.is_file() else None), path.parent


def dropin_files(config_dir: Path) -> list[Path]:
    folder = config_dir / DROPIN_DIR
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def system_files() -> list[Path]:
    """The team's config files on this host, if any (not read, not checked)."""
    main = SYSTEM_CONFIG_DIR / CONFIG_NAME
    return ([main] if main.is_file() else []) + dropin_files(SYSTEM_CONFIG_DIR)


def refuse_if_exposed(path: Path, owners: Iterable[int] | None = None) -> int:
    """Refuse (ConfigError, exit 2) a file or folder that someone other than its owner
    and root could change, or that is not owned by one of `owners`; return its owner."""
    found = trust.fault(path, owners=None if owners is None else set(owners))
    if found is not None:
        raise ConfigError(str(found))
    return trust.owner_of(path)


def read_files(explicit: str | None = None) -> tuple[list[ConfigFile], Path]:
    """Every config file in merge order (system layer, then the person's), each checked
    before it is read; and the person's config directory."""
    main, config_dir = locate(explicit)
    system_main = SYSTEM_CONFIG_DIR / CONFIG_NAME
    seen: set[str] = set()
    files = _read_layer(
        system_main if system_main.is_file() else None, SYSTEM_CONFIG_DIR, "system",
        trust.ROOT, seen,
    )  # fmt: skip
    files += _read_layer(main, config_dir, "user", os.geteuid(), seen)
    return files, config_dir


def _read_layer(
    main: Path | None, folder: Path, layer: str, default_owner: int, seen: set[str]
) -> list[ConfigFile]:
    """The main file and its drop-ins. Drop-ins and their folder must belong to root or
    to whoever owns the main file (root for the system layer, you for your own without
    one): a `conf.d/` someone else made beside your file is not yours."""
    out: list[ConfigFile] = []
    principal = default_owner

    def add(path: Path, owner: int) -> None:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append(ConfigFile(path, read_toml(path), owner, layer, folder))

    if main is not None:
        principal = refuse_if_exposed(main)
        add(main, principal)
    dropins = folder / DROPIN_DIR
    if dropins.is_dir():
        owners = {trust.ROOT, principal}
        refuse_if_exposed(dropins, owners)
        for path in sorted(dropins.glob("*.toml")):
            add(path, refuse_if_exposed(path, owners))
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file. Arrays and tables nested more than `most` deep are refused: no
    config needs them, and tomllib (like everything that walks the data after it)
    recurses once per level, so `x = [[[[...` 5,000 deep would end in RecursionError."""
    import tomllib  # only when a file is read: the demo team and defaults need no parser

    most = 64
    too_deep = f"{path}: too deeply nested (over {most} levels)"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8") from None
    except RecursionError:
        raise ConfigError(too_deep) from None
    pending: list[tuple[Any, int]] = [(data, 0)]  # (value, its depth): no recursion here
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > most:
                    raise ConfigError(too_deep)
                pending.append((child, depth + 1))
    return data


class _Merged:
    """Merged TOML data plus, for each key path, the file it came from."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origins: dict[KeyPath, str] = {}
        self.labels: list[str] = []

    def add(self, data: dict[str, Any], origin: str) -> None:
        self.labels.append(origin)
        self._merge(self.data, data, (), origin)

    def _merge(
        self, into: dict[str, Any], data: dict[str, Any], path: KeyPath, origin: str
    ) -> None:
        for key, value in data.items():
            here = (*path, key)
            current = into.get(key)
            if isinstance(current, dict) and isinstance(value, dict):
                self._merge(current, value, here, origin)
            elif _is_table_array(current) and _is_table_array(value):
                for item in value:
                    self.origins[(*here, len(current))] = origin
                    current.append(item)
            else:
                into[key] = value
                self.origins[here] = origin

    def origin_of(self, path: KeyPath) -> str:
        for end in range(len(path), 0, -1):
            if path[:end] in self.origins:
                return self.origins[path[:end]]
        return next(iter(self.origins.values()), "config")


def _is_table_array(value: Any) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def parse_sources(
    sources: Iterable[tuple[str, dict[str, Any]]],
    *,
    owners: Mapping[str, int] | None = None,
    plugins: bool = True,
) -> Config:
    """Merge (label, data) pairs in order and build a validated Config. `owners` gives
    the owner of each file label, for the plugin files they name (see below). Without
    `plugins`, the sources' plugin options are not checked (see `assemble`)."""
    return _parse(_merged(sources), owners or {}, plugins=plugins)


def _merged(sources: Iterable[tuple[str, dict[str, Any]]]) -> _Merged:
    merged = _Merged()
    for label, data in sources:
        merged.add(data, label)
    _gather_plugin_options(merged.data)
    return merged


def _parse(merged: _Merged, owners: Mapping[str, int], *, plugins: bool = True) -> Config:
    """Build and check the config, reporting every mistake (ConfigErrors): first what
    does not fit the schema; when everything does, every reference mistake (and, with
    `plugins`, every source's options against its plugin)."""
    try:
        config: Config = build(Config, merged.data)
    except SchemaError as exc:
        raise _errors(merged, each_error(exc)) from None
    _check_plugin_files(config, merged, owners)
    found = _reference_errors(config, plugins=plugins)
    errors = [single for error in found for single in each_error(error)]
    if errors:
        raise _errors(merged, errors) from None
    return config


def _errors(merged: _Merged, errors: list[SchemaError]) -> ConfigErrors:
    """One line per mistake, naming file and key, in file order: by file in merge order,
    then by section in the order the files give them."""
    sections = list(merged.data)

    def order(error: SchemaError) -> tuple[int, int]:
        origin = merged.origin_of(error.path)
        head = error.path[0] if error.path else None
        return (
            merged.labels.index(origin) if origin in merged.labels else len(merged.labels),
            sections.index(head) if head in sections else len(sections),
        )

    lines: list[str] = []
    for error in sorted(errors, key=order):
        line = f"{merged.origin_of(error.path)}: {_where(error.path, merged.data)}: {error.reason}"
        if line not in lines:
            lines.append(line)
    return ConfigErrors(lines)


_DOTTED_ID = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def _where(path: KeyPath, data: Any) -> str:
    """The key path as format_path writes it, but a binding id as it is named everywhere
    else (`keys.screen.oncall`, not `keys."screen.oncall"`)."""
    if len(path) == 2 and path[0] == "keys" and _DOTTED_ID.fullmatch(str(path[1])):
        return f"keys.{path[1]}"
    return format_path(path, data)


def _check_plugin_files(config: Config, merged: _Merged, owners: Mapping[str, int]) -> None:
    """A plugin file runs as you, so before anything loads one (config validation does,
    to check the sources' options): refuse it if anyone but its owner and root could
    change it, or if it belongs to someone other than root, you, or the owner of the
    config file that names it. A missing file is left to the registry to report, unless
    someone else could create it before the registry looks."""
    if not config.plugins.files:
        return
    origin = merged.origin_of(("plugins", "files"))
    allowed = {trust.ROOT, os.geteuid()}
    if origin in owners:
        allowed.add(owners[origin])
    for name in config.plugins.files:
        path = Path(name)
        if path.exists():
            refuse_if_exposed(path, allowed)
            continue
        found = trust.creatable(path, allowed)
        if found is not None:
            raise ConfigError(
                f"{path}: no such plugin file, and {found.reason}: someone else could put one "
                "there; keep plugin files where only root or you can write"
            )


SOURCE_KEYS = {f.name for f in dataclasses.fields(StatusSource)}


def _gather_plugin_options(data: dict[str, Any]) -> None:
    """In each [[sources]] table, keys that are not common source keys are the plugin's
    own options: move them under `options`, where the plugin's schema checks them."""
    for entry in data.get("sources") or []:
        if isinstance(entry, dict):
            extras = {key: entry.pop(key) for key in list(entry) if key not in SOURCE_KEYS}
            if extras:
                options = entry.get("options")
                entry["options"] = {**(options if isinstance(options, dict) else {}), **extras}


GrantCheck = Callable[[ConfigFile], str | None]
"""Why a file may not grant roles (None: it may)."""


def load(explicit: str | None = None, *, may_grant: GrantCheck | None = None) -> LoadedConfig:
    """Load the configuration following the lookup order; defaults when nothing is found.
    Without `may_grant` every file read may grant roles (the session passes the check)."""
    files, config_dir = read_files(explicit)
    return assemble(files, config_dir, may_grant=may_grant)


def assemble(
    files: list[ConfigFile],
    config_dir: Path | None,
    *,
    may_grant: GrantCheck | None = None,
    plugins: bool = True,
) -> LoadedConfig:
    """Merge files already read. The grant sections of a file `may_grant` does not trust
    are dropped (and said, once per file, in `warnings`). Without `plugins` the sources'
    options are not checked against their plugins: for a command that never polls
    (`incident list`), which so loads no plugin and no package metadata (about 15 ms of
    its start, README "Performance"); every other mistake is still found."""
    sources: list[tuple[str, dict[str, Any]]] = []
    warnings: list[str] = []
    for item in files:
        data = copy.deepcopy(item.data)
        dropped = [key for key in GRANTS if key in data]
        reason = may_grant(item) if may_grant is not None and dropped else None
        if reason is not None:
            for key in dropped:
                del data[key]
            what = " and ".join(GRANTS[key] for key in dropped)
            warnings.append(f"{what} from {item.path} ignored: {reason}")
        sources.append((str(item.path), data))
    merged = _merged(sources)
    config = _parse(merged, {str(item.path): item.owner for item in files}, plugins=plugins)
    paths = [item.path for item in files]
    return LoadedConfig(
        config=config,
        files=paths,
        config_dir=config_dir,
        source_label=", ".join(map(str, paths)) if paths else "built-in defaults",
        read=files,
        role_sources={
            role: merged.origin_of(("roles", role))
            for role in ("admin", "lead", "cab")
            if getattr(config.roles, role)
        },
        warnings=warnings,
    )


def configured_store(files: list[ConfigFile]) -> StoreLocation | None:
    """`[store] path` (a SQLite file, relative to its layer's folder) or `[store] url` (a
    PostgreSQL database) as the files set it, the last one winning: what the store will
    be, known before the files are trusted or validated."""
    found: StoreLocation | None = None
    for item in files:
        store = item.data.get("store")
        if not isinstance(store, dict):
            continue
        url, value = store.get("url"), store.get("path")
        if isinstance(url, str) and is_pg_url(url):
            found = PgLocation(url.strip())
        elif isinstance(value, str) and value:
            path = Path(value).expanduser()
            found = path if path.is_absolute() else item.folder / path
    return found


def parse_text(text: str, label: str) -> Config:
    """Validate config held as text (benchmarks and tools)."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    return parse_sources([(label, data)])


def to_toml_data(config: Config) -> dict[str, Any]:
    """The effective config as TOML-ready data (what `config check` prints)."""
    data: dict[str, Any] = to_data(Config, config)
    return data


def check_references(config: Config) -> None:
    """Cross-section checks: names that must exist, duplicates, shapes TOML cannot express,
    the theme and keys start-up needs, and approval rules someone can meet (SchemaErrors
    with every mistake when there are several)."""
    errors = [single for error in _reference_errors(config) for single in each_error(error)]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise SchemaErrors(errors)


def _unknown(path: KeyPath, kind: str, name: str, known: Iterable[str]) -> SchemaError:
    known = list(known)
    hint = suggest(name, known) if known else f" (no {kind} is defined)"
    return SchemaError(path, f"unknown {kind} {json.dumps(name)}{hint}")


def _duplicates(items: list[Any], attr: str, section: str) -> Iterator[SchemaError]:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        name = getattr(item, attr)
        if name in seen:
            first = format_path((section, seen[name]))
            yield SchemaError(
                (section, index, attr), f'duplicate {attr} "{name}" (first in {first})'
            )
        seen.setdefault(name, index)


class _Names:
    """The names other sections refer to, in config order. (A plain class: a dataclass
    costs every command ~0.5 ms of start to build, and this one needs none of it.)"""

    __slots__ = ("logins", "schedules", "services", "vendors")

    def __init__(
        self, logins: list[str], services: list[str], vendors: list[str], schedules: list[str]
    ) -> None:
        self.logins = logins
        self.services = services
        self.vendors = vendors
        self.schedules = schedules

    @classmethod
    def of(cls, config: Config) -> _Names:
        return cls(
            logins=[p.login for p in config.people],
            services=[s.name for s in config.services],
            vendors=[v.name for v in config.vendors],
            schedules=[s.name for s in config.schedules],
        )


def _reference_errors(config: Config, *, plugins: bool = True) -> Iterator[SchemaError]:
    """Every cross-section mistake, section by section (with `plugins`, the sources'
    options checked by their plugins too)."""
    names = _Names.of(config)
    sources = _sources if plugins else _sources_without_plugins
    for section in (
        _store,
        _ui_theme,
        _keys,
        _duplicate_names,
        _roles,
        _priority_matrix,
        _sla_targets,
        _service_vendors,
        sources,
        _schedules,
        _escalation_policies,
        _freeze_windows,
        _sla_calendars,
        _approvals,
        _people_paging,
        _integrations,
        _serve,
        _problems_and_reviews,
        review_errors,
    ):
        yield from section(config, names)


def _store(config: Config, names: _Names) -> Iterator[SchemaError]:
    """A store is a file or a PostgreSQL database, never both, and the URL says which."""
    url = config.store.url
    if url is None:
        return
    if not is_pg_url(url):
        yield SchemaError(("store", "url"), "must be a postgresql:// URL (a file goes in `path`)")
    elif config.store.path:
        yield SchemaError(("store", "url"), "set `path` (SQLite) or `url` (PostgreSQL), not both")


def _ui_theme(config: Config, names: _Names) -> Iterator[SchemaError]:
    """The console refuses to start with a theme Textual does not have."""
    theme = config.ui.theme
    if theme not in BUILTIN_THEME_NAMES:
        hint = suggest(theme, BUILTIN_THEME_NAMES) or (
            f" (Textual's themes: {', '.join(BUILTIN_THEME_NAMES[:4])}, ...)"
        )
        yield SchemaError(("ui", "theme"), f"unknown theme {json.dumps(theme)}{hint}")


def _keys(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Rebound keys. Without any, nothing to check (the defaults' own overlaps are
    allowed by keymap_problems), and the keymap table is not loaded for it."""
    if not config.keys:
        return
    from opsdesk.console.config.keymap import keymap_problems

    for binding_id, problem in keymap_problems(config.keys):
        yield SchemaError(("keys", binding_id), problem)


def _duplicate_names(config: Config, names: _Names) -> Iterator[SchemaError]:
    yield from _duplicates(config.people, "login", "people")
    yield from _duplicates(config.services, "name", "services")
    yield from _duplicates(config.vendors, "name", "vendors")
    yield from _duplicates(config.schedules, "name", "schedules")


def _roles(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Role members must be people (when any are listed)."""
    if not names.logins:
        return
    for role in ("admin", "lead", "cab", "engineer"):
        for index, login in enumerate(getattr(config.roles, role)):
            if login not in names.logins:
                yield _unknown(("roles", role, index), "login", login, names.logins)


def _priority_matrix(config: Config, names: _Names) -> Iterator[SchemaError]:
    matrix = config.priority.matrix
    if len(matrix) != 3 or any(len(row) != 3 for row in matrix):
        yield SchemaError(("priority", "matrix"), "expected 3 rows (impact 1-3) of 3 priorities")


def _sla_targets(config: Config, names: _Names) -> Iterator[SchemaError]:
    missing = [p for p in get_args(Priority) if p not in config.sla.priorities]
    if missing:
        yield SchemaError(
            ("sla", "priorities"),
            f"no target for {', '.join(missing)} (giving any replaces the defaults: give all four)",
        )
    calendars = config.sla.calendars
    for priority, target in config.sla.priorities.items():
        if target.calendar != "24x7" and target.calendar not in calendars:
            path = ("sla", "priorities", priority, "calendar")
            yield _unknown(path, "calendar", target.calendar, ["24x7", *calendars])


def _service_vendors(config: Config, names: _Names) -> Iterator[SchemaError]:
    for s_index, service in enumerate(config.services):
        for v_index, vendor in enumerate(service.vendors):
            if vendor not in names.vendors:
                path = ("services", s_index, "vendors", v_index)
                yield _unknown(path, "vendor", vendor, names.vendors)


def _sources(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Unique names, known vendor and service, a sane interval, then each plugin's options."""
    yield from _sources_without_plugins(config, names)
    if config.sources:
        from opsdesk.console.config.plugin_options import plugin_option_errors  # loads plugins

        yield from plugin_option_errors(config)


def _sources_without_plugins(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Unique names, known vendor and service, a sane interval."""
    yield from _duplicates(config.sources, "name", "sources")
    for s_index, source in enumerate(config.sources):
        where: KeyPath = ("sources", s_index)
        if source.vendor is not None and source.vendor not in names.vendors:
            yield _unknown((*where, "vendor"), "vendor", source.vendor, names.vendors)
        if source.service is not None and names.services and source.service not in names.services:
            yield _unknown((*where, "service"), "service", source.service, names.services)
        if source.interval < timedelta(seconds=5):
            yield SchemaError((*where, "interval"), "poll at most every 5s")


def _schedules(config: Config, names: _Names) -> Iterator[SchemaError]:
    for s_index, schedule in enumerate(config.schedules):
        for l_index, layer in enumerate(schedule.layers):
            yield from _layer(("schedules", s_index, "layers", l_index), layer, names)


def _layer(where: KeyPath, layer: Layer, names: _Names) -> Iterator[SchemaError]:
    if not layer.members:
        yield SchemaError((*where, "members"), "a layer needs at least one member")
    if layer.rotation.total_seconds() <= 0:
        yield SchemaError((*where, "rotation"), "rotation must be longer than zero")
    for m_index, login in enumerate(layer.members):
        if login and names.logins and login not in names.logins:
            yield _unknown((*where, "members", m_index), "login", login, names.logins)
    if layer.members and not any(layer.members):
        yield SchemaError((*where, "members"), "a layer needs at least one member who is someone")
    if layer.restrict is not None and not layer.restrict.days:
        yield SchemaError((*where, "restrict", "days"), "restriction leaves no days")
    for r_index, window in enumerate(layer.restrictions):
        if not window.days:
            yield SchemaError(
                (*where, "restrictions", r_index, "days"), "restriction leaves no days"
            )
    if layer.until is not None and layer.until <= (layer.active_from or layer.start):
        yield SchemaError((*where, "until"), "until must be after start (and active_from)")


def _escalation_policies(config: Config, names: _Names) -> Iterator[SchemaError]:
    for p_index, policy in enumerate(config.escalation_policies):
        if names.services and policy.service not in names.services:
            path = ("escalation_policies", p_index, "service")
            yield _unknown(path, "service", policy.service, names.services)
        for l_index, level in enumerate(policy.levels):
            yield from _level(("escalation_policies", p_index, "levels", l_index), level, names)


def _level(where: KeyPath, level: EscalationLevel, names: _Names) -> Iterator[SchemaError]:
    """Each level pages exactly one of a known schedule or a known person."""
    if (level.schedule is None) == (level.person is None):
        yield SchemaError(where, "each level names exactly one of schedule or person")
    elif level.schedule is not None and level.schedule not in names.schedules:
        yield _unknown((*where, "schedule"), "schedule", level.schedule, names.schedules)
    elif level.person is not None and names.logins and level.person not in names.logins:
        yield _unknown((*where, "person"), "login", level.person, names.logins)


def _people_paging(config: Config, names: _Names) -> Iterator[SchemaError]:
    """A notification rule must name a method the person has an address for, or pages
    by it silently go nowhere."""
    for p_index, person in enumerate(config.people):
        addresses = person.addresses()
        for r_index, rule in enumerate(person.notify):
            if rule.method not in addresses:
                have = ", ".join(addresses) or "none"
                yield SchemaError(
                    ("people", p_index, "notify", r_index, "method"),
                    f"{person.login} has no {rule.method} address (their methods: {have})",
                )
            if rule.after < timedelta(0):
                yield SchemaError(
                    ("people", p_index, "notify", r_index, "after"), "must not be negative"
                )
        if person.working_hours is not None and not person.working_hours.days:
            yield SchemaError(("people", p_index, "working_hours", "days"), "no working days")


def _integrations(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Unique names, a known service, a secret from somewhere, auth that fits the kind."""
    yield from _duplicates(config.integrations, "name", "integrations")
    for i_index, integration in enumerate(config.integrations):
        where: KeyPath = ("integrations", i_index)
        service = integration.service
        if service is not None and names.services and service not in names.services:
            yield _unknown((*where, "service"), "service", service, names.services)
        if not integration.secret_env and not integration.secret_file:
            yield SchemaError(
                where, "give secret_env or secret_file (serve takes no anonymous alerts)"
            )
        if integration.secret_env and integration.secret_file:
            yield SchemaError(where, "give one of secret_env or secret_file, not both")
        kind, auth = integration.kind, integration.auth_kind
        if (kind == "pagerduty") != (auth == "routing_key"):
            yield SchemaError(
                (*where, "auth"), "pagerduty integrations use routing_key; others bearer or basic"
            )
        if auth == "basic" and not integration.username:
            yield SchemaError((*where, "username"), "basic auth needs a username")
        if integration.rate_limit < 1:
            yield SchemaError((*where, "rate_limit"), "must be at least 1")


def _serve(config: Config, names: _Names) -> Iterator[SchemaError]:
    listen = config.serve.listen
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        yield SchemaError(("serve", "listen"), f"expected HOST:PORT, got {listen!r}")
    public = config.serve.public_url
    if public and not public.startswith(("http://", "https://")):
        yield SchemaError(("serve", "public_url"), "expected an http:// or https:// URL")
    if config.serve.max_body < 1024:
        yield SchemaError(("serve", "max_body"), "at least 1024 bytes")
    if config.notify.attempts < 1:
        yield SchemaError(("notify", "attempts"), "at least 1")


def _freeze_windows(config: Config, names: _Names) -> Iterator[SchemaError]:
    for f_index, window in enumerate(config.freeze_windows):
        if window.end <= window.start:
            yield SchemaError(("freeze_windows", f_index, "end"), "end must be after start")
        for s_index, name in enumerate(window.services or []):
            if names.services and name not in names.services:
                path = ("freeze_windows", f_index, "services", s_index)
                yield _unknown(path, "service", name, names.services)


def _sla_calendars(config: Config, names: _Names) -> Iterator[SchemaError]:
    for calendar_name, calendar in config.sla.calendars.items():
        if calendar.to <= calendar.from_:
            yield SchemaError(
                ("sla", "calendars", calendar_name, "to"), "business hours end before they start"
            )


def _approvals(config: Config, names: _Names) -> Iterator[SchemaError]:
    """An approval rule nobody can meet makes its changes impossible to approve: an
    error. (A type left to the default rule is only warned about: see
    `default_approval_warnings`.)"""
    team = _Approvers.of(config, names)
    if team is None:
        return
    covered: dict[str, set[str]] = {}
    for index, rule in enumerate(config.changes.approval_rules):
        risks = set(rule.risk) - covered.setdefault(rule.type, set())
        covered[rule.type] |= set(rule.risk)
        if not risks:
            continue  # an earlier rule always applies first
        problem = team.unmet(rule.lead, rule.cab, rule.review_after)
        if problem:
            what = _changes(rule.type, [r for r in RISKS if r in risks])
            yield SchemaError(
                ("changes", "approval_rules", index), f"{what} can never be approved: {problem}"
            )


def default_approval_warnings(config: Config) -> list[str]:
    """For each change type no rule covers, whose default (1 CAB approval) nobody can
    give: "changes.approval_rules: ..." lines for `config check` to warn with. A warning,
    not an error: a team that grants roles but does not use change management is fine."""
    team = _Approvers.of(config, _Names.of(config))
    if team is None:
        return []
    out = []
    for change_type in get_args(ChangeType):
        covered = {r for rule in config.changes.approval_rules if rule.type == change_type
                   for r in rule.risk}  # fmt: skip
        left = [r for r in RISKS if r not in covered]
        if not left or change_type == "standard":
            continue  # standard changes without a rule need no approval
        problem = team.unmet(0, 1, False)
        if problem:
            out.append(
                f"changes.approval_rules: no rule for {_changes(change_type, left)}, so they "
                f"need the default 1 CAB approval and can never be approved: {problem}"
            )
    return out


RISKS = ("low", "medium", "high")


def _changes(change_type: str, risks: list[str]) -> str:
    return f"{change_type} changes" + ("" if len(risks) == 3 else f" ({'/'.join(risks)} risk)")


class _Approvers:
    """Who can approve changes. Leads approve as lead, CAB members as CAB, admins as
    either (they hold every role); one person fills one seat, and nobody decides on
    their own change. When everyone on the team can approve, the requester is one of
    them and cannot count. (A plain class, as _Names.)"""

    __slots__ = ("cab", "lead", "outsider")

    def __init__(self, lead: set[str], cab: set[str], outsider: bool) -> None:
        self.lead = lead
        self.cab = cab
        self.outsider = outsider

    @classmethod
    def of(cls, config: Config, names: _Names) -> _Approvers | None:
        """None when no file grants a role: the team is set up elsewhere (or not yet)."""
        roles = config.roles
        if not (roles.admin or roles.lead or roles.cab):
            return None
        approvers = set(roles.admin) | set(roles.lead) | set(roles.cab)
        return cls(
            lead=set(roles.admin) | set(roles.lead),
            cab=set(roles.admin) | set(roles.cab),
            # someone who cannot approve may ask, and then every approver is free to decide
            outsider=not names.logins or any(p not in approvers for p in names.logins),
        )

    def unmet(self, leads: int, cabs: int, review: bool) -> str | None:
        """Why no requester can get `leads` lead and `cabs` CAB approvals (and a review
        afterwards) from other people, or None when someone can."""
        if not (leads or cabs or review):
            return None
        short = self._short(leads, cabs, review, self.lead, self.cab)
        if short:
            holders = f"{_people(self.lead)} lead (or admin), {_people(self.cab)} cab (or admin)"
            return f"they need {short}, and {holders}; add people to [roles] or lower cab/lead"
        if self.outsider:
            return None
        approvers = sorted(self.lead | self.cab)
        for requester in approvers:
            short = self._short(
                leads, cabs, review, self.lead - {requester}, self.cab - {requester}
            )
            if not short:
                return None
        short = self._short(
            leads, cabs, review, self.lead - {approvers[0]}, self.cab - {approvers[0]}
        )
        who = (
            f"{approvers[0]} is the only one who can approve"
            if len(approvers) == 1
            else f"everyone who can approve ({', '.join(approvers)}) may be the requester"
        )
        return (
            f"nobody approves their own change, and {who}; they would need {short} from "
            "someone else: add people to [roles] or lower cab/lead"
        )

    @staticmethod
    def _short(leads: int, cabs: int, review: bool, lead: set[str], cab: set[str]) -> str:
        short = []
        if leads > len(lead):
            short.append(f"{leads} lead approval{'s' if leads > 1 else ''}")
        if cabs > len(cab):
            short.append(f"{cabs} CAB approval{'s' if cabs > 1 else ''}")
        if not short and leads + cabs > len(lead | cab):
            short.append(f"{leads + cabs} approvals from {leads + cabs} different people")
        if not short and review and not lead | cab:
            short.append("a review afterwards by a CAB member or lead")
        return " and ".join(short)


def _people(holders: set[str]) -> str:
    if not holders:
        return "nobody holds"
    return f"only {', '.join(sorted(holders))} hold{'s' if len(holders) == 1 else ''}"


def _problems_and_reviews(config: Config, names: _Names) -> Iterator[SchemaError]:
    """Thresholds that could never (or always) propose a problem, and a review calendar
    that is not defined."""
    problems, reviews = config.problems, config.reviews
    if problems.min_incidents < 2:
        yield SchemaError(("problems", "min_incidents"), "a recurrence needs at least 2 incidents")
    if problems.window.total_seconds() <= 0:
        yield SchemaError(("problems", "window"), "the window must be longer than zero")
    if not 0 < problems.title_similarity <= 1:
        yield SchemaError(
            ("problems", "title_similarity"), "expected a share above 0 and at most 1 (every word)"
        )
    if reviews.due_business_days < 0:
        yield SchemaError(("reviews", "due_business_days"), "expected 0 or more business days")
    calendars = config.sla.calendars
    if reviews.calendar and reviews.calendar not in calendars:
        yield _unknown(("reviews", "calendar"), "calendar", reviews.calendar, list(calendars))
