"""Config meets plugins: each [[sources]] entry names a plugin, and its extra keys must
fit that plugin's Options. Checked when config loads, with the same one-line errors as
the rest of the config; plugins are looked up once per process.

Every command loads config, so the check loads only the plugins the sources name (the
one its entry point finds first, as `discover` would) and reads no package metadata;
all plugins are discovered only when a name is unknown (for the did-you-mean) or config
names plugin files (README "Performance")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from opsdesk.console.config.model import Config, StatusSource
from opsdesk.console.config.schema import SchemaError, build, suggest
from opsdesk.plugins.api import Adapter, worst
from opsdesk.plugins.registry import GROUP, PluginInfo, _checked, discover


@cache
def plugins(files: tuple[str, ...] = ()) -> dict[str, PluginInfo]:
    return discover(files)


def plugins_for(config: Config) -> dict[str, PluginInfo]:
    return plugins(tuple(config.plugins.files))


def source_options(info: PluginInfo, source: StatusSource, index: int) -> Any:
    """The plugin's Options built from the source's extra keys (SchemaError if they do
    not fit, with the path sources[n].key)."""
    assert info.adapter is not None
    return build(info.adapter.Options, source.options, ("sources", index))


@cache
def _named(names: frozenset[str]) -> dict[str, type[Adapter] | None]:
    """The adapter of each of `names` that an installed entry point provides, the first
    one found winning as in `discover` (None: it fails to load, a broken plugin)."""
    from importlib.metadata import entry_points

    found: dict[str, type[Adapter] | None] = {}
    for point in entry_points(group=GROUP):
        if point.name in names and point.name not in found:
            try:
                found[point.name] = _checked(point.load(), point.name)
            except Exception:  # someone else's code: `opsdesk plugins` says why
                found[point.name] = None
    return found


def _adapters(config: Config) -> dict[str, type[Adapter] | None]:
    """The adapter for each plugin the sources name; all plugins when files are named
    (a file's plugins are known only by running it) or a name is not installed."""
    if not config.plugins.files:
        found = _named(frozenset(source.plugin for source in config.sources))
        if all(source.plugin in found for source in config.sources):
            return found
    return {name: info.adapter for name, info in plugins_for(config).items()}


def plugin_option_errors(config: Config) -> Iterator[SchemaError]:
    found = _adapters(config)
    for index, source in enumerate(config.sources):
        if source.plugin not in found:
            usable = [name for name, adapter in found.items() if adapter is not None]
            reason = f"unknown plugin {json.dumps(source.plugin)}{suggest(source.plugin, usable)}"
            yield SchemaError(("sources", index, "plugin"), reason)
            continue
        adapter = found[source.plugin]
        if adapter is None:
            continue  # a broken plugin: its sources go into an error state, config stays valid
        try:
            build(adapter.Options, source.options, ("sources", index))
        except SchemaError as exc:
            yield exc


def vendor_levels(config: Config, source_levels: dict[str, str]) -> dict[str, str]:
    """Each vendor's level: the worst of its sources' last known levels (vendors with no
    known source are left out; callers say what that means to them)."""
    levels: dict[str, list[str]] = {}
    for source in config.sources:
        if source.vendor is not None and source.name in source_levels:
            levels.setdefault(source.vendor, []).append(source_levels[source.name])
    return {vendor: worst(found) for vendor, found in levels.items()}  # type: ignore[arg-type]
