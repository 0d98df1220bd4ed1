"""Saved API answers on disk: `--save-dir` writes them, `--from-dir` reads them back.

Each key is a file `<key>.json` holding the list of pages the API returned (a file
holding one JSON object is read as a single page, so a response saved by hand with curl
works too). `_import.json` says which product and which verify window were saved. The
files hold people's emails and phone numbers: they are written owner-only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opsdesk.console.config.private_files import make_private_folders
from opsdesk.console.domain.imports.common import MemoryBundle
from opsdesk.console.domain.imports.model import BundleError, Json, Window

MANIFEST = "_import.json"
MAX_BYTES = 50 * 1024 * 1024


@dataclass
class FolderBundle:
    """A folder written by `--save-dir` (or by hand), read lazily, key by key."""

    folder: Path

    def path(self, key: str) -> Path:
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise BundleError(f"{key}: not a file name in {self.folder}")
        return self.folder.joinpath(*parts[:-1], parts[-1] + ".json")

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def keys(self) -> list[str]:
        found = [p.relative_to(self.folder).with_suffix("") for p in self.folder.rglob("*.json")]
        return sorted(str(p) for p in found if p.name != MANIFEST.removesuffix(".json"))

    def pages(self, key: str) -> list[Json]:
        path = self.path(key)
        try:
            if path.stat().st_size > MAX_BYTES:
                raise BundleError(f"{path}: over {MAX_BYTES} bytes")
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BundleError(f"{path}: missing (the folder has no {key})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleError(f"{path}: cannot read: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BundleError(
                f"{path}: not valid JSON at line {exc.lineno} column {exc.colno} "
                f"({exc.msg}); was the file cut short?"
            ) from None
        return data if isinstance(data, list) else [data]


def saved_window(folder: Path) -> Window | None:
    """The verify window the folder was saved with, if any."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        window = data["window"]
        start, end = datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{path}: not a manifest opsdesk wrote ({exc})") from None
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise BundleError(f"{path}: the window needs two instants with offsets, in order")
    return Window(start, end)


def saved_product(folder: Path) -> str | None:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    product = data.get("product") if isinstance(data, dict) else None
    return product if isinstance(product, str) else None


def save(bundle: MemoryBundle, folder: Path, product: str, window: Window | None) -> int:
    """Write every key of `bundle` under `folder` (owner-only); returns files written."""
    make_private_folders(folder)
    written = 0
    for key, pages in bundle.saved.items():
        target = FolderBundle(folder).path(key)
        make_private_folders(target.parent)
        _write_private(target, json.dumps(pages, indent=1))
        written += 1
    manifest: dict[str, Json] = {"product": product}
    if window is not None:
        manifest["window"] = {"start": window.start.isoformat(), "end": window.end.isoformat()}
    _write_private(folder / MANIFEST, json.dumps(manifest, indent=1))
    return written


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
