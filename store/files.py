"""Create the store file with the right mode and group before SQLite touches it.

SQLite gives its -wal and -shm files the mode of the database file, so creating the
database 0600 (or 0660 with a group, for a team on one host) is enough for all three.
The folder must be writable, or SQLite cannot create those files at all.
"""

from __future__ import annotations

import grp
import os
from pathlib import Path

from opsdesk.store.errors import StoreOpenError


def prepare_store_path(
    path: Path, *, group: str | None, read_only: bool, create: bool
) -> Path | None:
    """Resolve `path` and create the file when allowed; refuse clearly when it cannot work.

    None when there is no store at `path` and none is to be made (`create=False`: a
    command that only reads): the caller answers from an empty store and writes no file."""
    path = path.expanduser()
    if path.is_dir():
        raise StoreOpenError(
            f"{path}: is a folder, not a store file (name a file in it, e.g. {path / 'opsdesk.db'})"
        )
    if not path.exists():
        if not create:
            return None
        if read_only:
            raise StoreOpenError(
                f"{path}: no store here (a read-only console needs an existing store)"
            )
        create_store_file(path, group)
    return path


def unwritable_reason(path: Path) -> str | None:
    """Why this process cannot write the existing store at `path`, or None if it can.
    Such a store is opened read-only (a wall display, a read-only mount) rather than
    refused, and every write is refused with this reason."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"its folder {path.parent} is not writable"
    if not os.access(path, os.W_OK):
        return "the store file is not writable by you"
    return None


def create_store_file(path: Path, group: str | None, *, like: Path | None = None) -> None:
    """Create an empty file at `path`: 0600, or 0660 owned by `group`, or the mode of `like`."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700 if group is None else 0o2770)
    except OSError as exc:
        raise StoreOpenError(f"{folder}: cannot create the store folder: {exc.strerror}") from None
    check_folder(path)
    gid = -1
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            raise StoreOpenError(f"store.group: no such group {group!r}") from None
    mode = 0o600 if group is None else 0o660
    if like is not None:
        mode = like.stat().st_mode & 0o777
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreOpenError(f"{path}: cannot create the store: {exc.strerror}") from None
    try:
        if gid != -1:
            os.fchown(fd, -1, gid)
        os.fchmod(fd, mode)
    except PermissionError:
        os.close(fd)
        path.unlink()
        raise StoreOpenError(
            f"{path}: cannot give the store to group {group!r} (are you a member of it?)"
        ) from None
    os.close(fd)


def check_folder(path: Path) -> None:
    """Refuse early when SQLite could not create its -wal/-shm files beside the store."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreOpenError(
            f"{path.parent}: folder is not writable; SQLite needs to create "
            f"{path.name}-wal and {path.name}-shm there"
        )
