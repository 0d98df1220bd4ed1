"""Config meets plugins: each [[sources]] entry names a plugin, and its extra keys must
fit that plugin's Options. Checked when config loads, with the same one-line errors as
the rest of the config; plugins are looked up once per process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from opsdesk.console.config.model import Config, StatusSource
from opsdesk.console.config.schema import SchemaError, build, suggest
from opsdesk.plugins.api import worst
from opsdesk.plugins.registry import PluginInfo, discover


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


def plugin_option_errors(config: Config) -> Iterator[SchemaError]:
    found = plugins_for(config)
    for index, source in enumerate(config.sources):
        info = found.get(source.plugin)
        if info is None:
            usable = [name for name, i in found.items() if i.adapter is not None]
            reason = f"unknown plugin {json.dumps(source.plugin)}{suggest(source.plugin, usable)}"
            yield SchemaError(("sources", index, "plugin"), reason)
            continue
        if info.adapter is None:
            continue  # a broken plugin: its sources go into an error state, config stays valid
        try:
            source_options(info, source, index)
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
