"""Finding plugins: installed packages (entry-point group `opsdesk.plugins`, which the
built-ins use too) and Python files named in config.

A broken plugin never stops the console: it is listed with its error and its sources go
into an error state. Loading a file plugin runs that file's code with the user's rights,
exactly like installing a package does; config says which files, nothing is searched.
The config loader refuses a plugin file that others could change before anything gets
here (console/config/trust.py); this module refuses a world-writable file once more, and
compiles the source it reads itself, never a cached `__pycache__/*.pyc` (which whoever
may write that folder could plant).
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import Distribution, entry_points
from pathlib import Path
from types import ModuleType

from opsdesk.plugins.api import Adapter

GROUP = "opsdesk.plugins"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    origin: str  # "built-in", "package <dist>", or "file <path>"
    version: str
    adapter: type[Adapter] | None
    error: str = ""


def discover(files: Iterable[str | Path] = ()) -> dict[str, PluginInfo]:
    """Every plugin by name. A later one with a taken name is listed as an error."""
    found: dict[str, PluginInfo] = {}
    described: dict[int, tuple[str, str]] = {}
    for point in entry_points(group=GROUP):
        dist, version = _described(point.dist, described)
        origin = "built-in" if dist == "opsdesk" else f"package {dist}"
        try:
            loaded = point.load()
            adapter = _checked(loaded, point.name)
            info = PluginInfo(point.name, origin, version, adapter)
        except Exception as exc:  # a plugin is someone else's code: report, carry on
            info = PluginInfo(point.name, origin, version, None, _reason(exc))
        _add(found, info)
    for path in files:
        for info in _from_file(Path(path)):
            _add(found, info)
    return found


def _described(dist: Distribution | None, seen: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """A distribution's name and version, its metadata read once: each `.name` and
    `.version` parses the METADATA file again, which for the six built-in plugins was
    most of the cost of checking a config's sources at every command's start."""
    if dist is None:
        return "?", "?"
    if id(dist) not in seen:
        metadata = dist.metadata
        seen[id(dist)] = (metadata["Name"], metadata["Version"])
    return seen[id(dist)]


def _add(found: dict[str, PluginInfo], info: PluginInfo) -> None:
    if info.name in found:
        first = found[info.name]
        info = PluginInfo(
            info.name, info.origin, info.version, None,
            f"the name {info.name!r} is already taken by {first.origin}",
        )  # fmt: skip
        found[f"{info.name} ({info.origin})"] = info
        return
    found[info.name] = info


def _from_file(path: Path) -> list[PluginInfo]:
    origin = f"file {path}"
    try:
        module = _run_file(path)
    except Exception as exc:  # someone else's code, as above
        return [PluginInfo(path.stem, origin, "-", None, _reason(exc))]
    adapters = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, Adapter) and cls is not Adapter and cls.__module__ == module.__name__
    ]
    if not adapters:
        return [PluginInfo(path.stem, origin, "-", None, "defines no Adapter subclass")]
    version = str(getattr(module, "__version__", "-"))
    out = []
    for cls in adapters:
        try:
            out.append(PluginInfo(cls.name, origin, version, _checked(cls, cls.name)))
        except Exception as exc:  # as above
            out.append(
                PluginInfo(getattr(cls, "name", path.stem), origin, version, None, _reason(exc))
            )
    return out


def _run_file(path: Path) -> ModuleType:
    """Run the plugin file as a module, from its source. Refused (PermissionError) when
    anyone may write it: their code would run as you."""
    if path.suffix != ".py":
        raise ImportError("not a Python file")
    with path.open("rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if mode & stat.S_IWOTH:
            raise PermissionError(f"not loaded: writable by others (mode {stat.S_IMODE(mode):04o})")
        source = handle.read()
    spec = importlib.util.spec_from_loader(f"opsdesk_file_plugin_{path.stem}", None)
    if spec is None:
        raise ImportError("cannot make a module for it")
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    exec(compile(source, str(path), "exec", dont_inherit=True), module.__dict__)
    return module


def _checked(loaded: object, name: str) -> type[Adapter]:
    if not (inspect.isclass(loaded) and issubclass(loaded, Adapter)):
        raise TypeError(f"{loaded!r} is not an opsdesk Adapter subclass")
    if getattr(loaded, "name", None) != name:
        raise TypeError(f"its name is {getattr(loaded, 'name', None)!r}, registered as {name!r}")
    if inspect.isabstract(loaded):
        raise TypeError("it does not implement fetch()")
    return loaded


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
