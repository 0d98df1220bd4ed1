"""Folders and files opsdesk creates for one person: folders 0700, files 0600, whatever
the umask. Under `umask 000` a plain `mkdir(parents=True)` leaves `~/.config/opsdesk`
and its `conf.d/` writable by everyone, and a stranger's drop-in would then be read as
the owner's own config."""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_private_folders(folder: Path) -> None:
    """Create `folder` and any missing parents as 0700 (Path.mkdir gives parents the
    umask's default mode); folders that already exist are left as they are."""
    missing: list[Path] = []
    here = folder
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, FOLDER_MODE)
        except FileExistsError:
            continue  # made by someone else meanwhile; never loosen or tighten theirs
        os.chmod(path, FOLDER_MODE)  # the umask may have taken owner bits away


def touch_private_file(path: Path) -> None:
    """Create `path` as 0600 if it does not exist (never following a link into place)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(path, flags, FILE_MODE))
