"""A throwaway PostgreSQL cluster for the test session: real ``initdb`` + ``pg_ctl``, a Unix
socket in a temp folder, no TCP, peer authentication only.

    cluster = PgCluster(find_binaries())   # or cluster_or_skip(): skips/fails without PostgreSQL
    cluster.start()
    name = cluster.create_database()       # owned by opsdesk_owner, from template0
    url = cluster.url(name)                # postgresql://postgres@/NAME?host=/tmp/opsdesk-pg-.../sock
    cluster.create_role("ana", member_of=["opsdesk_engineer"])
    cluster.psql("select session_user", db=name, user="ana").stdout  # "ana\\n"
    cluster.destroy()                      # also registered with atexit

Why each choice:
- initdb refuses to run as root, and peer authentication is only a real boundary when the
  server's OS account is not the runner's, so under root the server runs as the unprivileged
  account ``opsdesk-pg`` (created with useradd when missing).
- Everything lives in ``/tmp/opsdesk-pg-XXXX`` (mode 0711, not pytest's tmp_path, which sits
  under root's 0700 folders) so that other OS accounts a test creates can reach the socket.
- fsync, synchronous_commit and full_page_writes are off: the cluster dies with the session;
  a crash test kills clients or backends, never the machine.
- A session killed with SIGKILL cannot run its atexit; the next session that starts a cluster
  stops and removes clusters whose owning process is gone (``reap_orphans``).
- Waits are on events with a failure bound (``pg_ctl -w`` then ``pg_isready``; a reload is
  waited on by watching ``pg_conf_load_time()`` change in new connections), never on a sleep.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

if TYPE_CHECKING:  # psycopg costs 70 ms to import: only a run that starts a cluster pays it
    import psycopg

SERVER_ACCOUNT = "opsdesk-pg"
"""The unprivileged OS account the server runs as when the tests run as root."""
SUPERUSER = "postgres"
"""The cluster's bootstrap superuser (initdb -U); the runner connects as it by default."""
OWNER_ROLE = "opsdesk_owner"
"""NOLOGIN role that owns every test database (the plan: it owns every object)."""
TEMP_PREFIX = "opsdesk-pg-"
READY_DEADLINE = 60.0
"""Seconds a start, restart, reload or stop may take before it fails (a failure bound)."""
COMMAND_TIMEOUT = 120.0
"""Seconds any one initdb/pg_ctl/psql/useradd command may take."""
POLL = 0.01
"""Between two looks at something the harness waits for, within a deadline."""

_IDENT_HEADER = """\
# Written by tests/pg_cluster.py. MAPNAME SYSTEM-USERNAME DATABASE-USERNAME
# Every OS account may connect as the role of its own name, and only as that: an account made
# with useradd (a person in a role-bypass test) gets exactly what a person gets on a real host.
harness  /^(.*)$  \\1
# The test runner's own OS account ({runner}) may also connect as the superuser and as each
# role the harness lets it act as: the tests play every person. PostgreSQL 15 (Debian 12) takes
# no regex or "all" in the DATABASE-USERNAME column (that came in 16), so the harness appends
# one line per role (PgCluster.allow_runner_as) and reloads.
harness  {runner}  {superuser}
"""
_HBA = """\
# Written by tests/pg_cluster.py. listen_addresses is '' so only this socket exists, and the
# only way in is peer authentication through the "harness" map in pg_ident.conf: the OS
# account at the other end of the socket decides which roles it may connect as. No password,
# no trust, no TCP.
local  all  all  peer  map=harness
"""


class PgClusterError(RuntimeError):
    """The cluster could not be started, stopped or reached; the message says what and,
    where there is one, carries the tail of the server log."""


@dataclass(frozen=True)
class PgBinaries:
    """Where one PostgreSQL installation's programs are."""

    bin_dir: Path
    version: int

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name)


def find_binaries() -> PgBinaries | None:
    """initdb, pg_ctl and postgres from PATH, else the newest /usr/lib/postgresql/N/bin
    (where Debian puts them, off PATH). None when there is no complete installation."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    numbered = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        folder = Path(initdb).parent
        with contextlib.suppress(ValueError):
            numbered.append((int(folder.parent.name), folder))
    candidates += [folder for _, folder in sorted(numbered, reverse=True)]
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return PgBinaries(folder, _major_version(folder))
    return None


def _major_version(bin_dir: Path) -> int:
    out = subprocess.run(
        [str(bin_dir / "pg_ctl"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT,
    ).stdout
    found = re.search(r"(\d+)", out)
    if not found:
        raise PgClusterError(f"cannot read the version from {bin_dir / 'pg_ctl'}: {out!r}")
    return int(found.group(1))


def cluster_or_skip() -> PgCluster:
    """A (not yet started) cluster, or skip the test; when CI is set, fail instead: CI must
    install PostgreSQL, and a silent skip there would hide the whole backend."""
    binaries = find_binaries()
    if binaries is None:
        reason = (
            "PostgreSQL is not installed (no initdb/pg_ctl/postgres on PATH or in "
            "/usr/lib/postgresql/*/bin; apt-get install postgresql)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI must install it", pytrace=False)
        pytest.skip(reason)
    return PgCluster(binaries)


def running_as_root() -> bool:
    return os.geteuid() == 0


def ensure_os_account(name: str) -> pwd.struct_passwd:
    """The OS account `name`, created with useradd (system account, no home, no login shell)
    when missing. Another session creating it at the same moment is fine."""
    with contextlib.suppress(KeyError):
        return pwd.getpwnam(name)
    made = subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise PgClusterError(
            f"useradd {name} failed ({made.returncode}): {made.stderr.strip()}"
        ) from None


def quote_ident(name: str) -> str:
    """An SQL identifier, always quoted, so a login like "ana.m" or "ops-bot" is one name."""
    if "\x00" in name:
        raise ValueError(f"role or database name contains NUL: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without libpq's PG* variables, which would redirect a command to
    another server, user or password file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(extra or {})
    return env


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty server log)"


def _pid_alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
    return True


class PgCluster:
    """One throwaway cluster: ``start()`` runs initdb the first time; ``stop()`` shuts the
    server down (fast) and keeps the data so ``start()`` can bring it back; ``restart()`` is
    ``pg_ctl restart``; ``destroy()`` stops it and removes the folder (also at exit)."""

    def __init__(self, binaries: PgBinaries, *, port: int = 5432) -> None:
        self.binaries = binaries
        self.port = port
        runner = pwd.getpwuid(os.geteuid())
        self.runner = runner.pw_name
        """The test runner's OS account: root in CI."""
        self.server_account = ensure_os_account(SERVER_ACCOUNT) if running_as_root() else runner
        self.base: Path | None = None
        self._running = False
        self._counter = 0
        self._runner_roles: set[str] = {SUPERUSER}
        self._atexit_registered = False

    # -- where things are ------------------------------------------------------------------

    @property
    def _base(self) -> Path:
        if self.base is None:
            raise PgClusterError("the cluster was never started (call start() first)")
        return self.base

    @property
    def data_dir(self) -> Path:
        return self._base / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's Unix socket: libpq's host=."""
        return self._base / "sock"

    @property
    def log_path(self) -> Path:
        return self._base / "log" / "server.log"

    def url(self, dbname: str, user: str | None = None) -> str:
        """A libpq URL for `dbname` as `user` (default: the superuser), through the socket.
        The runner may connect as `user` (allow_runner_as) once the role can log in."""
        role = user or SUPERUSER
        if role not in self._runner_roles and self.base is not None:
            self.allow_runner_as(role)
        return (
            f"postgresql://{quote(role, safe='')}@/{quote(dbname, safe='')}"
            f"?host={quote(str(self.socket_dir), safe='/')}&port={self.port}"
        )

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Initialise (first time) and start the server; returns when it accepts connections.
        A no-op when it is already running."""
        if self._running:
            return
        if self.base is None:
            reap_orphans()
            self._make_folders()
            self._initdb()
        if not self._atexit_registered:
            atexit.register(self.destroy)
            self._atexit_registered = True
        self._pg_ctl("start", "-l", str(self.log_path))
        self._running = True
        self._wait_ready()
        self._ensure_role(OWNER_ROLE, login=False)

    def stop(self) -> None:
        """Fast shutdown (open sessions are ended, transactions rolled back); the data stays,
        so start() brings the same cluster back. A no-op when it is not running."""
        if not self._running:
            return
        self._running = False
        if not (self.data_dir / "postmaster.pid").exists():
            return  # already down: reaped by another session, or the folder is gone
        try:
            self._pg_ctl("stop", "-m", "fast")
        except PgClusterError:
            self._pg_ctl("stop", "-m", "immediate")

    def restart(self) -> None:
        """Fast shutdown then start, as an admin restarting the server under running clients:
        every open connection is dropped; committed data stays."""
        if not self._running:
            raise PgClusterError("restart(): the server is not running")
        self._pg_ctl("restart", "-m", "fast", "-l", str(self.log_path))
        self._wait_ready()

    def destroy(self) -> None:
        """Stop the server and remove its folder. Safe to call twice (atexit calls it too)."""
        if self.base is None:
            return
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None

    # -- what tests use --------------------------------------------------------------------

    def psql(
        self,
        sql: str,
        *,
        db: str = "postgres",
        user: str | None = None,
        as_os_user: str | None = None,
        check: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run `sql` through psql (``-v ON_ERROR_STOP=1 -X -q -At``, statements read from
        stdin as a person would type them) over the socket. `as_os_user` runs it as that OS
        account (runuser, root only); the role then defaults to that account's name, else to
        the superuser. With `check`, a failure raises PgClusterError with psql's stderr."""
        role = user or as_os_user or SUPERUSER
        if as_os_user is None and role not in self._runner_roles:
            self.allow_runner_as(role)
        argv = [
            self.binaries.tool("psql"),
            "-v",
            "ON_ERROR_STOP=1",
            "-X",
            "-q",
            "-At",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            role,
            "-d",
            db,
        ]
        if as_os_user is not None:
            argv = ["runuser", "-u", as_os_user, "--", *argv]
        done = subprocess.run(
            argv,
            input=sql,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd="/",
            env=_clean_env({"PGCONNECT_TIMEOUT": "10"}),
        )
        if check and done.returncode != 0:
            raise PgClusterError(
                f"psql as {role} on {db} failed ({done.returncode}): {done.stderr.strip()}"
            )
        return done

    def create_role(self, name: str, login: bool = True, member_of: Iterable[str] = ()) -> None:
        """Make role `name` exist with LOGIN/NOLOGIN as asked and member of exactly the roles
        in `member_of` (group roles missing there are created NOLOGIN). Roles are cluster-wide
        and outlive a test's database, so a second call resets the role rather than failing.
        A LOGIN role is also one the runner may connect as."""
        groups = list(dict.fromkeys(member_of))
        for group in groups:
            self._ensure_role(group, login=False)
        self._ensure_role(name, login=login)
        with self._admin() as conn:
            held = {
                row[0]
                for row in conn.execute(
                    "SELECT g.rolname FROM pg_auth_members m"
                    " JOIN pg_roles g ON g.oid = m.roleid"
                    " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
                    (name,),
                )
            }
            for group in held - set(groups):
                conn.execute(f"REVOKE {quote_ident(group)} FROM {quote_ident(name)}")
            for group in groups:
                if group not in held:
                    conn.execute(f"GRANT {quote_ident(group)} TO {quote_ident(name)}")
        if login:
            self.allow_runner_as(name)

    def create_database(self, *, template: str = "template0") -> str:
        """A new, uniquely named, empty database owned by opsdesk_owner; its name."""
        self._counter += 1
        name = f"t{self._counter:04d}_{secrets.token_hex(3)}"
        with self._admin() as conn:
            conn.execute(
                f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(OWNER_ROLE)}"
                f" TEMPLATE {quote_ident(template)} ENCODING 'UTF8'"
            )
        return name

    def drop_database(self, name: str) -> None:
        """Drop `name`, ending its sessions first (a test that leaves a connection open)."""
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")

    def terminate_connections(self, dbname: str) -> int:
        """Kill every backend connected to `dbname` (pg_terminate_backend), as an admin or an
        OOM killer would, and wait until each is gone; how many there were."""
        with self._admin() as conn:
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, %s))"
                " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (int(READY_DEADLINE * 1000), dbname),
            ).fetchone()
        return int(row[0]) if row else 0

    def allow_runner_as(self, *roles: str) -> None:
        """Let the runner's OS account connect as each of `roles` (one pg_ident line each,
        then a reload that is waited on). For roles made other than by create_role, e.g. by
        `opsdesk store grant`. Other OS accounts are not affected."""
        new = [r for r in dict.fromkeys(roles) if r not in self._runner_roles]
        if not new:
            return
        for role in new:
            if not re.fullmatch(r"[^\s\"#\\]+", role):
                raise ValueError(f"role name {role!r} cannot be written into pg_ident.conf")
        ident = self.data_dir / "pg_ident.conf"
        with ident.open("a", encoding="utf-8") as out:  # in place: keeps owner and mode
            out.writelines(f"harness  {self.runner}  {role}\n" for role in new)
        self._runner_roles.update(new)
        if self._running:
            self._reload()

    # -- inside ------------------------------------------------------------------------------

    def _make_folders(self) -> None:
        base = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir="/tmp"))
        base.chmod(0o711)  # others may pass through to sock/, not list or read
        (base / "owner.pid").write_text(f"{os.getpid()}\n", encoding="ascii")
        self.base = base
        for sub, mode in (("data", 0o700), ("sock", 0o755), ("log", 0o755)):
            folder = base / sub
            folder.mkdir(mode=mode)
            folder.chmod(mode)
            os.chown(folder, self.server_account.pw_uid, self.server_account.pw_gid)

    def _initdb(self) -> None:
        self._as_server(
            self.binaries.tool("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=peer",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a", encoding="utf-8") as out:
            out.write(
                "\n# tests/pg_cluster.py: a throwaway cluster, Unix socket only\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "unix_socket_permissions = 0777\n"
                f"port = {self.port}\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "wal_level = minimal\n"
                "max_wal_senders = 0\n"
                "shared_buffers = 32MB\n"
                "max_connections = 200\n"
                "timezone = 'UTC'\n"
                "log_timezone = 'UTC'\n"
                "lc_messages = 'C'\n"
            )
        (self.data_dir / "pg_hba.conf").write_text(_HBA, encoding="utf-8")
        (self.data_dir / "pg_ident.conf").write_text(
            _IDENT_HEADER.format(runner=self.runner, superuser=SUPERUSER), encoding="utf-8"
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        self._as_server(
            self.binaries.tool("pg_ctl"),
            action,
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            str(int(READY_DEADLINE)),
            "-s",
            *args,
        )

    def _as_server(self, *argv: str) -> None:
        """Run a server-side program as the server's OS account."""
        account = self.server_account
        owner = (account.pw_uid, account.pw_gid) if running_as_root() else None
        done = _run_as(argv, owner, cwd=self._base)
        if done.returncode != 0:
            raise PgClusterError(
                f"{Path(argv[0]).name} {argv[1]} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}\n--- server log ---\n"
                f"{_log_tail(self.log_path)}"
            )

    def _wait_ready(self) -> None:
        """pg_ctl -w already waited; this confirms over the socket with pg_isready."""
        deadline = time.monotonic() + READY_DEADLINE
        argv = [
            self.binaries.tool("pg_isready"),
            "-q",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
        ]
        while True:
            if subprocess.run(argv, timeout=COMMAND_TIMEOUT, env=_clean_env()).returncode == 0:
                return
            if time.monotonic() > deadline:
                raise PgClusterError(
                    f"the server did not accept connections within {READY_DEADLINE:.0f} s\n"
                    f"--- server log ---\n{_log_tail(self.log_path)}"
                )
            time.sleep(POLL)

    def _admin(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A short-lived autocommit connection as the superuser (CREATE DATABASE cannot run
        in a transaction); one per operation, so a restart() in between does not matter."""
        import psycopg

        return psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10)

    def _ensure_role(self, name: str, *, login: bool) -> None:
        from psycopg.errors import DuplicateObject

        attribute = "LOGIN" if login else "NOLOGIN"
        with self._admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            with contextlib.suppress(DuplicateObject):
                # Another connection (the code under test) may have made it meanwhile.
                conn.execute(f"{verb} ROLE {quote_ident(name)} {attribute}")

    def _reload(self) -> None:
        """SIGHUP the server and wait until new connections see the reloaded files: the
        postmaster reloads in one go before it forks again, so a new backend that reports a
        newer pg_conf_load_time() was forked with the new pg_hba/pg_ident."""
        with self._admin() as conn:
            before = conn.execute("SELECT pg_conf_load_time()").fetchone()
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + READY_DEADLINE
        while True:
            with self._admin() as conn:
                now = conn.execute("SELECT pg_conf_load_time()").fetchone()
            if now != before:
                return
            if time.monotonic() > deadline:
                raise PgClusterError(f"the server did not reload within {READY_DEADLINE:.0f} s")
            time.sleep(POLL)


def reap_orphans(root: Path = Path("/tmp")) -> list[Path]:
    """Stop and remove clusters left by sessions that died without running atexit (SIGKILL,
    a CI timeout): folders of ours whose owner.pid names a process that is gone."""
    reaped = []
    for base in root.glob(f"{TEMP_PREFIX}*"):
        try:
            if base.stat().st_uid != os.geteuid():
                continue
            pid = int((base / "owner.pid").read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if _pid_alive(pid):
            continue
        data = base / "data"
        if (data / "postmaster.pid").exists():
            info = data.stat()
            owner = (info.st_uid, info.st_gid) if running_as_root() and info.st_uid else None
            pg_ctl = _pg_ctl_for(data)
            if pg_ctl:
                _run_as([pg_ctl, "stop", "-D", str(data), "-m", "immediate", "-w", "-s"], owner)
        shutil.rmtree(base, ignore_errors=True)
        reaped.append(base)
    return reaped


def _run_as(
    argv: Sequence[str], owner: tuple[int, int] | None, cwd: Path | str = "/"
) -> subprocess.CompletedProcess[str]:
    """Run a server-side program as the OS account `owner` (uid, gid), without root's
    supplementary groups; None: as ourselves."""
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        cwd=cwd,
        env=_clean_env({"LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}),
        start_new_session=True,  # Ctrl-C in the terminal is for pytest, not the server
        user=owner[0] if owner else None,
        group=owner[1] if owner else None,
        extra_groups=[] if owner else None,
    )


def _pg_ctl_for(data: Path) -> str | None:
    """The pg_ctl matching the PG_VERSION of a data folder, if installed."""
    try:
        version = (data / "PG_VERSION").read_text(encoding="ascii").strip()
    except OSError:
        return None
    found = find_binaries()
    for candidate in (Path(f"/usr/lib/postgresql/{version}/bin"), found and found.bin_dir):
        if candidate and os.access(Path(candidate) / "pg_ctl", os.X_OK):
            return str(Path(candidate) / "pg_ctl")
    return None
