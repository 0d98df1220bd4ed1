"""Generated settings go into `conf.d/` drop-ins written with tomli-w.

Hand-written config files (and their comments) are never rewritten: `opsdesk config set`
and `opsdesk init` only write files opsdesk owns, atomically, after validating the
whole configuration as it would be read with the change applied.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.loader import DROPIN_DIR
from opsdesk.console.config.private_files import make_private_folders
from opsdesk.console.errors import ConfigError, UsageError

SETTINGS_DROPIN = "90-settings.toml"


def write_toml(path: Path, data: dict[str, Any], header: str) -> None:
    """Write `data` to `path` atomically (temp file + rename), keeping no partial file."""
    make_private_folders(path.parent)
    body = f"# {header}\n" + tomli_w.dumps(data)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def parse_value(text: str) -> Any:
    """A TOML value from the command line; anything that is not TOML is taken as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def set_value(config_dir: Path, main: Path | None, dotted: str, raw: str) -> Path:
    """Set `dotted` = `raw` in the settings drop-in, refusing values the config rejects."""
    parts = dotted.split(".")
    if not all(parts):
        raise UsageError(f"config set: {dotted!r} is not a dotted key like ui.theme")
    target = config_dir / DROPIN_DIR / SETTINGS_DROPIN
    data = config_loader.read_toml(target) if target.is_file() else {}
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{target}: {'.'.join(parts[:-1])} is not a table")
        node = child
    node[parts[-1]] = parse_value(raw)
    sources = []
    for path in ([main] if main else []) + config_loader.dropin_files(config_dir):
        if path != target:
            sources.append((str(path), config_loader.read_toml(path)))
    sources.append((str(target), data))
    sources.sort(key=lambda pair: (pair[0] != str(main), pair[0]))
    config_loader.parse_sources(sources)
    write_toml(target, data, "Written by `opsdesk config set`; edit freely or delete.")
    return target
