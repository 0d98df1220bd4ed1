"""Whose files opsdesk believes: the checks ssh and sudo make before they read their config.

Two questions, answered from `os.stat` alone (nothing here reads a file's contents):

- **Could anyone but the file's owner and root change what is read there?** Then the file
  is refused: it is writable by group or others, or a folder on the way to it (up to `/`)
  is, or such a folder belongs to somebody else. A sticky folder owned by root (`/tmp`) or
  by the file's owner is fine: others can add files there but not replace ours. So is
  group write for a group whose only member is the owner (a "user private group", which
  a umask of 002 leaves on everything a person makes; Debian's ssh allows it too).
  `fault(path)`.
- **Is the file owned by an account trusted to grant roles (root, the store's owner) on a
  path only such accounts can change?** Otherwise its role grants are ignored.
  `fault(path, owners={...}, folder_owners={...})`.

A `Fault` is one line: what is wrong with which file or folder, and the fix.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from opsdesk.store.value import FrozenValue

ROOT = 0


def login_of(uid: int) -> str:
    """The login name of `uid` (the number itself if it has no passwd entry)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def names(uids: Collection[int]) -> str:
    """`root`, `root or alice`: the accounts in a sentence, root first."""
    ordered = sorted(set(uids), key=lambda uid: (uid != ROOT, uid))
    return " or ".join(login_of(uid) for uid in ordered)


@cache
def group_members(gid: int) -> frozenset[int] | None:
    """Every account in group `gid`, as its primary group or listed in it; None if the
    group or a listed member is unknown. (Accounts a directory service will not list are
    not seen, as in Debian's ssh.)"""
    try:
        listed = grp.getgrgid(gid).gr_mem
        members = {pwd.getpwnam(name).pw_uid for name in listed}
    except KeyError:
        return None
    members.update(p.pw_uid for p in pwd.getpwall() if p.pw_gid == gid)
    return frozenset(members)


def writable_by(st: os.stat_result) -> str | None:
    """`group`, `others`, `group and others`: who besides the owner may write; None when
    nobody. A group whose only member is the owner counts as nobody."""
    who = []
    if st.st_mode & stat.S_IWGRP and group_members(st.st_gid) != frozenset({st.st_uid}):
        who.append("group")
    if st.st_mode & stat.S_IWOTH:
        who.append("others")
    return " and ".join(who) or None


@dataclass(frozen=True, eq=False, repr=False)
class Fault(FrozenValue):
    """Why `path` (the file asked about) cannot be trusted; `at` is the file or folder at
    fault (the file itself, or a folder on the way to it)."""

    path: Path
    at: Path
    problem: str
    fix: str

    @property
    def reason(self) -> str:
        """The problem as a clause about `path`: `writable by group (mode 0664)`,
        `its folder /srv is owned by carol`."""
        if self.at == self.path:
            return self.problem
        return f"its folder {self.at} is {self.problem}"

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}; {self.fix}"


def _mode(st: os.stat_result) -> str:
    return f"mode {stat.S_IMODE(st.st_mode):04o}"


def _owned(path: Path, at: Path, uid: int, allowed: Collection[int]) -> Fault:
    return Fault(
        path, at, f"owned by {login_of(uid)}, not by {names(allowed)}",
        f"only {names(allowed)} may own it: move it or have them own it",
    )  # fmt: skip


def folders_of(path: Path) -> Iterator[Path]:
    """Every folder leading to `path`, nearest first, both as named and with links
    resolved (a link can be swapped by whoever may write the folder it sits in)."""
    absolute = Path(os.path.abspath(path))
    real = Path(os.path.realpath(path))
    seen: set[Path] = set()
    for start in (absolute, real):
        for folder in start.parents:
            if folder not in seen:
                seen.add(folder)
                yield folder


def fault(
    path: Path,
    *,
    owners: Collection[int] | None = None,
    folder_owners: Collection[int] | None = None,
) -> Fault | None:
    """What lets someone outside the trusted accounts change `path`, or None.

    `owners`: accounts that may own the file itself (None: anyone). `folder_owners`:
    accounts that may own the folders leading to it (None: root or the file's owner).
    Folders must not be writable by group or others unless sticky (and, like every
    folder on the way, owned by one of those accounts)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return Fault(path, path, f"not checkable ({exc.strerror})", "make it readable")
    if owners is not None and st.st_uid not in owners:
        return _owned(path, path, st.st_uid, owners)
    who = writable_by(st)
    if who:
        return Fault(path, path, f"writable by {who} ({_mode(st)})", "fix with chmod g-w,o-w")
    allowed = set(folder_owners) if folder_owners is not None else {ROOT, st.st_uid}
    for folder in folders_of(path):
        problem = _folder_fault(path, folder, allowed)
        if problem is not None:
            return problem
    return None


def _folder_fault(path: Path, folder: Path, allowed: set[int]) -> Fault | None:
    try:
        st = os.stat(folder)
    except OSError as exc:
        return Fault(path, folder, f"not checkable ({exc.strerror})", "make it searchable")
    if st.st_uid not in allowed:
        return _owned(path, folder, st.st_uid, allowed)
    who = writable_by(st)
    if who and not (st.st_mode & stat.S_ISVTX):
        fix = f"fix with chmod g-w,o-w {folder}"
        return Fault(path, folder, f"writable by {who} ({_mode(st)})", fix)
    return None


def replaceable(path: Path, owners: Collection[int]) -> Fault | None:
    """Could anyone but root and `owners` replace `path` (rename it away, put another file
    there)? Only through a folder leading to it that belongs to someone else, or that
    others may write and is not sticky. Folders not made yet are skipped: who
    makes them owns them. The file's own mode does not matter here."""
    allowed = {ROOT, *owners}
    for folder in folders_of(path):
        if folder.exists():
            found = _folder_fault(path, folder, allowed)
            if found is not None:
                return found
    return None


def creatable(path: Path, owners: Collection[int]) -> Fault | None:
    """For a file that does not exist: could anyone but root and `owners` create it?
    The nearest folder that exists must not be writable by others at all (a sticky
    folder lets anyone add a name), and the folders above it follow the usual rule."""
    allowed = {ROOT, *owners}
    nearest = True
    for folder in folders_of(path):
        if not folder.exists():
            continue
        found = _folder_fault(path, folder, allowed)
        if nearest and found is None:
            st = os.stat(folder)
            who = writable_by(st)
            if who:
                fix = f"fix with chmod g-w,o-w {folder}"
                found = Fault(path, folder, f"writable by {who} ({_mode(st)})", fix)
        nearest = False
        if found is not None:
            return found
    return None


def owner_of(path: Path) -> int:
    return os.stat(path).st_uid
