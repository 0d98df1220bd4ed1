"""Trust on a shared host (docs/operations.md, "A shared host"), as ssh and sudo do it.

- Roles (and the approvals `[changes]` asks for) are granted only by files owned by root
  or by the store's owner, on a path only they can change; others' grants are ignored,
  said once. No flag, variable or file the caller controls grants a role.
- A config file, `conf.d/` folder or plugin file that others could change is refused
  (exit 2, one line naming it and its mode).
- Nothing read from a store loads code or grants roles: a demo store's config is built
  into opsdesk.

The first half runs in-process (the system folder is moved with `monkeypatch`; files are
given to a made-up uid with `chown`). The second half runs `opsdesk` as real OS accounts
made for the session (`opsd_alice` owns the team store and is admin, `opsd_bob` is an
engineer, `opsd_mallory` is a group member who writes the store with sqlite3), which
needs root: CI runs the tests as root.
"""

from __future__ import annotations

import asyncio
import fcntl
import grp
import json
import os
import pwd
import shutil
import sqlite3
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.config import loader, trust
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.session import Options, open_session
from opsdesk.store import Store
from tests.conftest import FIXED_NOW
from tests.waits import Messages, settle

Capture = pytest.CaptureFixture[str]
STRANGER = 4242  # a uid and gid with no account or group: "someone else" in-process
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="giving files to other accounts needs root")


@pytest.fixture(autouse=True)
def no_system_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In-process, the system folder is a fresh one under tmp_path (absent until a test
    makes it), so a real /etc/opsdesk on the machine never leaks in."""
    folder = tmp_path / "etc-opsdesk"
    monkeypatch.setattr(loader, "SYSTEM_CONFIG_DIR", folder)
    return folder


def write(
    path: Path, text: str, mode: int = 0o644, owner: int | None = None, group: int | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    if owner is not None or group is not None:
        os.chown(path, -1 if owner is None else owner, -1 if group is None else group)
    return path


def shared_with_strangers(path: Path, mode: int) -> None:
    """Give `path` to a group with other members (a made-up one: group write to a group
    whose only member is the owner is allowed) and set its mode."""
    os.chown(path, -1, STRANGER)
    os.chmod(path, mode)


def plugin_source(marker: Path) -> str:
    """A plugin file that leaves `marker` behind if it ever runs."""
    return (
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "from opsdesk.plugins.api import Adapter, StatusReport\n"
        "class Planted(Adapter):\n"
        "    name = 'planted'\n"
        "    async def fetch(self, client, source):\n"
        "        return StatusReport('operational', 'ok')\n"
    )


# In-process: lookup order and refusals ------------------------------------------------


def test_system_config_is_the_base_and_the_person_s_config_merges_over_it(
    no_system_config: Path, me: str, capsys: Capture
) -> None:
    system = write(
        no_system_config / "config.toml",
        f'[ui]\ntheme = "textual-light"\nbell = false\n[[people]]\nlogin = "{me}"\n'
        f'[roles]\nlead = ["{me}"]\n',
    )
    dropin = write(no_system_config / "conf.d" / "10-services.toml", '[[services]]\nname = "a"\n')
    mine = write(
        loader.default_config_path(), '[ui]\ntheme = "nord"\n[[services]]\nname = "b"\n', 0o600
    )
    loaded = loader.load(None)
    assert loaded.files == [system, dropin, mine]
    assert loaded.config.ui.theme == "nord" and loaded.config.ui.bell is False
    assert [s.name for s in loaded.config.services] == ["a", "b"]
    assert loaded.role_sources == {"lead": str(system)}
    assert run(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["config_files"] == [str(system), str(dropin), str(mine)]
    assert info["role_sources"] == {"engineer": "everyone", "lead": str(system)}
    assert info["roles"] == ["engineer", "lead"]
    assert run(["info"]) == 0
    assert f"engineer (everyone), lead (from {system})\n" in capsys.readouterr().out


def test_info_names_the_file_each_role_comes_from(
    write_config, tmp_path: Path, me: str, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    config = write_config(f'[roles]\nadmin = ["{me}"]\ncab = ["{me}"]\n')
    store = str(tmp_path / "s.db")
    assert run(["--config", str(config), "--store", store, "banner", "set", "hi"]) == 0
    capsys.readouterr()
    assert run(["--config", str(config), "--store", store, "info"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("roles:"))
    assert line.split(None, 1)[1] == (
        f"admin (from {config}), cab (from {config}), engineer (everyone)"
    )


@needs_root
def test_a_group_writable_dropin_is_refused_naming_file_and_mode(
    no_system_config: Path, capsys: Capture
) -> None:
    write(no_system_config / "config.toml", "[ui]\nbell = true\n")
    dropin = write(no_system_config / "conf.d" / "50-x.toml", "[ui]\nbell = false\n")
    shared_with_strangers(dropin, 0o664)
    assert run(["info"]) == 2
    assert capsys.readouterr().err == (
        f"opsdesk: {dropin}: writable by group (mode 0664); fix with chmod g-w,o-w\n"
    )
    os.chmod(dropin, 0o646)
    assert run(["config", "check"]) == 2
    assert "writable by others (mode 0646)" in capsys.readouterr().err


@needs_root
def test_a_writable_dropin_folder_or_config_folder_is_refused(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    main = write_config("[ui]\nbell = true\n", dropins={"10-a.toml": "[ui]\nbell = false\n"})
    dropins = main.parent / "conf.d"
    shared_with_strangers(dropins, 0o777)
    assert run(["--config", str(main), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"opsdesk: {dropins}: writable by group and others (mode 0777); fix with chmod g-w,o-w\n"
    )
    os.chmod(dropins, 0o755)
    shared_with_strangers(main.parent, 0o775)
    assert run(["--config", str(main), "config", "check"]) == 2
    assert capsys.readouterr().err == (
        f"opsdesk: {main}: its folder {main.parent} is writable by group (mode 0775); "
        f"fix with chmod g-w,o-w {main.parent}\n"
    )
    os.chmod(main.parent, 0o755)
    assert run(["--config", str(main), "config", "check"]) == 0


@needs_root
def test_a_sticky_folder_like_tmp_is_fine_and_a_plain_open_one_is_not() -> None:
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        os.chmod(folder, 0o755)
        config = write(folder / "config.toml", "")
        assert trust.fault(config) is None  # /tmp itself is 1777, root's
        os.chmod(folder, 0o1777)
        assert trust.fault(config) is None  # others may add files here, not replace mine
        shared_with_strangers(folder, 0o777)
        found = trust.fault(config)
        assert found is not None and found.at == folder
        assert found.reason == f"its folder {folder} is writable by group and others (mode 0777)"
    finally:
        shutil.rmtree(folder)


@needs_root
def test_a_dropin_someone_else_put_beside_my_config_is_refused(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    main = write_config("", dropins={"10-a.toml": ""})
    dropin = main.parent / "conf.d" / "10-a.toml"
    os.chown(dropin, STRANGER, -1)
    assert run(["--config", str(main), "config", "check"]) == 2
    assert capsys.readouterr().err.startswith(
        f"opsdesk: {dropin}: owned by {STRANGER}, not by root"
    )


@needs_root
def test_a_writable_plugin_file_is_refused_and_never_runs(
    tmp_path: Path, write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    plugin = write(tmp_path / "plugins" / "planted.py", plugin_source(marker), group=STRANGER)
    os.chmod(plugin, 0o666)
    config = write_config(f'[plugins]\nfiles = ["{plugin}"]\n')
    for argv in (["config", "check"], ["plugins", "list"], ["incident", "list"]):
        assert run(["--config", str(config), "--store", str(tmp_path / "s.db"), *argv]) == 2
        assert capsys.readouterr().err == (
            f"opsdesk: {plugin}: writable by group and others (mode 0666); fix with chmod g-w,o-w\n"
        )
    assert not marker.exists()
    os.chmod(plugin, 0o644)  # the same file, safe: it loads (so the marker does work)
    assert run(["--config", str(config), "plugins", "list"]) == 0
    assert marker.exists()


@needs_root
def test_a_plugin_file_of_someone_else_is_refused(
    tmp_path: Path, write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "ran"
    plugin = write(tmp_path / "planted.py", plugin_source(marker), 0o644, owner=STRANGER)
    config = write_config(f'[plugins]\nfiles = ["{plugin}"]\n')
    assert run(["--config", str(config), "plugins", "list"]) == 2
    assert capsys.readouterr().err.startswith(f"opsdesk: {plugin}: owned by {STRANGER}, not by")
    assert not marker.exists()


def test_a_missing_plugin_file_others_could_create_is_refused(
    write_config, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        plugin = folder / "later.py"
        config = write_config(f'[plugins]\nfiles = ["{plugin}"]\n')
        os.chmod(folder, 0o755)
        assert run(["--config", str(config), "plugins", "list"]) == 0  # listed as missing
        os.chmod(folder, 0o1777)  # like /tmp: anyone may add a file of that name
        capsys.readouterr()
        assert run(["--config", str(config), "plugins", "list"]) == 2
        assert capsys.readouterr().err.startswith(
            f"opsdesk: {plugin}: no such plugin file, and its folder {folder} is writable by "
        )
    finally:
        shutil.rmtree(folder)


def test_the_registry_itself_will_not_run_a_writable_file(tmp_path: Path) -> None:
    from opsdesk.plugins.registry import discover

    marker = tmp_path / "ran"
    plugin = write(tmp_path / "planted.py", plugin_source(marker), 0o646)
    found = discover([plugin])
    assert found["planted"].adapter is None
    assert "writable by others (mode 0646)" in found["planted"].error
    assert not marker.exists()


# In-process: who may grant roles --------------------------------------------------------


@needs_root
def test_grants_from_a_file_not_owned_by_root_or_the_store_owner_are_ignored_once(
    tmp_path: Path, write_config, me: str, capsys: Capture
) -> None:  # type: ignore[no-untyped-def]
    store = str(make_store(tmp_path / "s.db"))
    config = write_config(f'[roles]\nadmin = ["{me}"]\n[[changes.approval_rules]]\n'
                          'type = "normal"\ncab = 0\n')  # fmt: skip
    os.chown(config, STRANGER, -1)
    capsys.readouterr()
    assert run(["--config", str(config), "--store", store, "banner", "set", "hi"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"opsdesk: roles and change approval rules from {config} ignored: it is not owned by "
        "root (the store's owner)",
        f"opsdesk: setting the banner needs the lead role; {me} does not have it",
    ]
    assert run(["--config", str(config), "--store", store, "info", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("ignored") == 1  # config, then the store: said once
    assert json.loads(captured.out)["roles"] == ["engineer"]


@needs_root
def test_the_store_owner_s_own_file_grants_unless_others_can_replace_the_store(
    tmp_path: Path, me: str, capsys: Capture
) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    store = make_store(folder / "s.db")
    os.chown(store, STRANGER, -1)
    config = write(tmp_path / "theirs.toml", f'[roles]\nlead = ["{me}"]\n', owner=STRANGER)
    argv = ["--config", str(config), "--store", str(store), "banner", "set", "hi"]
    assert run(argv) == 0  # the store's owner granted it
    shared_with_strangers(folder, 0o777)  # now anyone could swap the store for their own
    capsys.readouterr()
    assert run(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"opsdesk: roles from {config} ignored: it is not owned by root, and the store's "
        f"owner ({STRANGER}) grants no roles while others could replace {store} (its folder "
        f"{folder} is writable by group and others (mode 0777)"
    )
    os.chmod(folder, 0o1777)  # sticky: others may add files, not replace the store
    assert run(argv) == 0
    os.chown(folder, STRANGER, -1)
    assert run(argv) == 0  # the store owner's own sticky folder


@needs_root
async def test_the_console_shows_grants_ignored_as_a_warning(
    tmp_path: Path, write_config, me: str
) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.console.tui.app import OpsdeskApp

    store = await make_store_async(tmp_path / "s.db")
    config = write_config(f'[roles]\nlead = ["{me}"]\n')
    os.chown(config, STRANGER, -1)
    app = OpsdeskApp(
        Options(config=str(config), store=str(store)),
        poll_interval=0, handle_hangup=False, feed_interval=3600.0,
    )  # fmt: skip
    messages = Messages()
    async with app.run_test(size=(120, 40), message_hook=messages) as pilot:
        await settle(app, pilot)
        said = messages.said()
        assert said == [f"roles from {config} ignored: it is not owned by root (the store's owner)"]
        assert app.actor.roles == {"engineer"}


def test_init_on_a_host_with_a_team_config_writes_only_personal_settings(
    no_system_config: Path, me: str, capsys: Capture
) -> None:
    team = write(no_system_config / "config.toml", f'[[people]]\nlogin = "{me}"\n')
    assert run(["init"]) == 0
    mine = loader.default_config_path()
    text = mine.read_text()
    assert f"the team's config is {team}" in text
    assert "[roles]" not in text and "[[people]]" not in text and "[store]" not in text
    assert run(["config", "check"]) == 0  # the team's people once: no duplicate login


# In-process: nothing from the store -----------------------------------------------------


def plant_code(store: Path, plugin: Path, login: str) -> str:
    """Python that does what anyone who may write the store file can do with sqlite3:
    flag it a demo and embed a config naming a plugin file and granting `login` admin."""
    embedded = (
        f'[plugins]\nfiles = ["{plugin}"]\n'
        f'[[sources]]\nname = "x"\nplugin = "{plugin}"\nurl = "https://example.com"\n'
        f'[[people]]\nlogin = "{login}"\n[roles]\nadmin = ["{login}"]\n'
    )
    return (
        "import sqlite3\n"
        f"conn = sqlite3.connect({str(store)!r})\n"
        "with conn:\n"
        "    conn.execute(\"INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', '1')\")\n"
        '    conn.execute("INSERT OR REPLACE INTO meta (key, value)'
        f" VALUES ('embedded_config', ?)\", ({embedded!r},))\n"
        "conn.close()\n"
    )


def make_store(path: Path) -> Path:
    return asyncio.run(make_store_async(path))


async def make_store_async(path: Path) -> Path:
    async with await Store.open(path):
        pass
    return path


def test_config_in_the_store_loads_no_code_and_grants_no_role(tmp_path: Path, me: str) -> None:
    store = make_store(tmp_path / "ops.db")
    marker = tmp_path / "ran"
    plugin = write(tmp_path / "planted.py", plugin_source(marker))
    exec(plant_code(store, plugin, "mallory"), {})
    asyncio.run(_open_as_mallory(store, me))
    assert not marker.exists()


async def _open_as_mallory(store: Path, me: str) -> None:
    session = await open_session(Options(store=str(store)), login="mallory")
    try:
        assert session.actor.roles == {"engineer"}
        assert session.config.plugins.files == []
        assert "planted" not in {s.plugin for s in session.config.sources}
        label = f"{store} (demo store: the built-in demo team, made by {me})"
        assert session.loaded.source_label == label
    finally:
        await session.close()


async def test_a_demo_flag_planted_in_the_team_store_does_not_swap_the_team(
    no_system_config: Path, tmp_path: Path, me: str
) -> None:
    """The team store is named by the team config; a group member flags it a demo with
    sqlite3. Everyone keeps the team's schedules, escalation and roles: the demo team
    (with its made-up on-call people) would page nobody real."""
    store = await make_store_async(tmp_path / "team.db")
    write(
        no_system_config / "config.toml",
        f'[store]\npath = "{store}"\n[[people]]\nlogin = "{me}"\n[[people]]\nlogin = "ana"\n'
        f'[roles]\nlead = ["ana"]\n[[services]]\nname = "payments"\n',
    )
    exec(plant_code(store, tmp_path / "absent.py", "mallory"), {})
    session = await open_session(Options(), login="ana")
    try:
        assert session.loaded.source_label == str(no_system_config / "config.toml")
        assert [s.name for s in session.config.services] == ["payments"]
        assert session.actor.roles == {"engineer", "lead"}
    finally:
        await session.close()
    # Named on the command line, the same flag still opens the demo team (opsdesk demo).
    session = await open_session(Options(store=str(store)))
    try:
        assert "(demo store: the built-in demo team" in session.loaded.source_label
    finally:
        await session.close()


async def test_a_demo_store_carries_no_config(tmp_path: Path, me: str) -> None:
    store = tmp_path / "demo.db"
    await build_demo(store, incidents=50, seed=1, now=FIXED_NOW, creator=me)
    conn = sqlite3.connect(store)
    keys = {row[0] for row in conn.execute("SELECT key FROM meta")}
    conn.close()
    assert "demo" in keys and "embedded_config" not in keys
    session = await open_session(Options(store=str(store)))
    try:
        assert session.actor.roles >= {"admin", "lead", "cab"}  # the store's owner made it
        assert session.roles["admin"] == session.loaded.source_label
    finally:
        await session.close()


# Real accounts ---------------------------------------------------------------------------

GROUP = "opsd_ops"
ALICE, BOB, MALLORY = "opsd_alice", "opsd_bob", "opsd_mallory"
MARK = "opsdesk test account"
LOCK = Path("/tmp/opsdesk-trust-tests.lock")
SYSTEM = Path("/etc/opsdesk")
LAUNCH = (
    "import site, sys; site.addsitedir({site!r}); sys.argv[0] = 'opsdesk'; "
    "from opsdesk.console.cli import main; main()"
)


@dataclass
class Accounts:
    python: list[str]

    def home(self, login: str) -> Path:
        return Path(pwd.getpwnam(login).pw_dir)

    def uid(self, login: str) -> int:
        return pwd.getpwnam(login).pw_uid

    def gid(self) -> int:
        return grp.getgrnam(GROUP).gr_gid

    def run(
        self, login: str, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`opsdesk ARGV` as `login`, with a login's minimal environment."""
        return self.raw(login, [*self.python, *argv], env=env)

    def raw(
        self, login: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        home = self.home(login)
        base = {
            "HOME": str(home), "USER": login, "LOGNAME": login, "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8", "TZ": "UTC", "PYTHONDONTWRITEBYTECODE": "1",
        }  # fmt: skip
        return subprocess.run(
            argv, user=login, group=login, extra_groups=[GROUP], env={**base, **(env or {})},
            cwd=home, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def own(self, path: Path, login: str, mode: int) -> Path:
        """Give `path` to `login` and their own group, with `mode`."""
        os.chown(path, self.uid(login), pwd.getpwnam(login).pw_gid)
        os.chmod(path, mode)
        return path


def _sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


def _ours(login: str) -> bool | None:
    """True: an account these tests made; False: someone else's; None: no such account."""
    try:
        return pwd.getpwnam(login).pw_gecos == MARK
    except KeyError:
        return None


def _python_they_can_run(accounts: Accounts) -> list[str] | None:
    """This venv's python if other accounts can run it; else a system python of the same
    version with the venv's packages added (a venv inside root's home, 0700, is out of
    their reach; /work/main itself is world-readable)."""
    site = sysconfig.get_paths()["purelib"]
    code = LAUNCH.format(site=site)
    version = f"python{sysconfig.get_python_version()}"
    candidates = [os.path.join(sysconfig.get_paths()["scripts"], "python")]
    candidates += [p for p in (shutil.which(version), f"/usr/bin/{version}") if p]
    for exe in candidates:
        try:
            done = accounts.raw(BOB, [exe, "-P", "-c", code, "--version"])
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.startswith("opsdesk "):
            return [exe, "-P", "-c", code]
    return None


@pytest.fixture(scope="session")
def accounts() -> Iterator[Accounts]:
    if not IS_ROOT:
        pytest.skip("needs root to make OS accounts (CI runs the tests as root)")
    for tool in ("useradd", "userdel", "groupadd", "groupdel", "usermod"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed, so no test accounts can be made")
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run of these tests on this host waits
        for login in (ALICE, BOB, MALLORY):
            if _ours(login) is False:
                pytest.skip(f"an account {login} exists that these tests did not make")
        try:
            grp.getgrnam(GROUP)
        except KeyError:
            _sh("groupadd", GROUP)
        for login in (ALICE, BOB, MALLORY):
            if _ours(login) is None:
                _sh("useradd", "--create-home", "--user-group", "--groups", GROUP,
                    "--comment", MARK, "--shell", "/bin/sh", login)  # fmt: skip
            else:
                _sh("usermod", "-aG", GROUP, login)
        made = Accounts(python=[])
        try:
            python = _python_they_can_run(made)
            if python is None:
                pytest.skip("no python the test accounts may run has opsdesk's packages")
            made.python = python
            yield made
        finally:
            for login in (ALICE, BOB, MALLORY):
                if _ours(login):
                    subprocess.run(["userdel", "--remove", login], capture_output=True)
            subprocess.run(["groupdel", GROUP], capture_output=True)


@dataclass
class Team:
    accounts: Accounts
    shared: Path
    store: Path
    markers: Path
    alice_config: Path
    bob_config: Path

    def audit_count(self) -> int:
        done = self.accounts.run(ALICE, "audit", "--json")
        assert done.returncode == 0, done.stderr
        return len(json.loads(done.stdout))


def _config(store: Path, extra: str = "") -> str:
    return (
        f'[store]\npath = "{store}"\ngroup = "{GROUP}"\n'
        f'[[people]]\nlogin = "{ALICE}"\n[[people]]\nlogin = "{BOB}"\n'
        f'[[people]]\nlogin = "{MALLORY}"\n[[services]]\nname = "payments"\n{extra}'
    )


def _private_file(accounts: Accounts, path: Path, login: str, text: str) -> Path:
    """A file of `login`'s in their home, with folders of theirs, 0700/0600."""
    home = accounts.home(login)
    here = home
    for part in path.relative_to(home).parts[:-1]:
        here = here / part
        here.mkdir(exist_ok=True)
        accounts.own(here, login, 0o700)
    path.write_text(text, encoding="utf-8")
    return accounts.own(path, login, 0o600)


@pytest.fixture(scope="module")
def team(accounts: Accounts) -> Iterator[Team]:
    """The team store in a folder under /tmp (0755, reachable by everyone): the store's
    folder is root's, group `opsd_ops`, setgid and sticky (3770), so members can share the
    store but not swap it; alice creates it and is admin in her own config; bob grants
    himself admin in his."""
    shared = Path(tempfile.mkdtemp(dir="/tmp", prefix="opsdesk-trust-"))
    try:
        os.chmod(shared, 0o755)
        folder = shared / "store"
        folder.mkdir()
        os.chown(folder, 0, accounts.gid())
        os.chmod(folder, 0o3770)
        markers = shared / "markers"
        markers.mkdir()
        os.chmod(markers, 0o1777)
        store = folder / "ops.db"
        alice_config = _private_file(
            accounts, accounts.home(ALICE) / ".config" / "opsdesk" / "config.toml", ALICE,
            _config(store, f'[roles]\nadmin = ["{ALICE}"]\n'),
        )  # fmt: skip
        bob_config = _private_file(
            accounts, accounts.home(BOB) / "mine.toml", BOB,
            _config(store, f'[roles]\nadmin = ["{BOB}"]\n'),
        )  # fmt: skip
        for login in (BOB, MALLORY):  # their everyday config: the team store, no roles
            xdg = accounts.home(login) / ".config" / "opsdesk" / "config.toml"
            _private_file(accounts, xdg, login, _config(store))
        done = accounts.run(ALICE, "banner", "set", "team store made by alice")
        assert done.returncode == 0, done.stderr
        st = os.stat(store)
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (
            accounts.uid(ALICE),
            accounts.gid(),
            0o660,
        )
        yield Team(accounts, shared, store, markers, alice_config, bob_config)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _new_change(team: Team, login: str, title: str) -> str:
    done = team.accounts.run(
        login, "change", "new", "--title", title, "--type", "normal", "--service", "payments",
        "--start", "2030-01-10T10:00Z", "--end", "2030-01-10T11:00Z", "--risk", "low",
        "--justification", "routine", "--test-plan", "staging", "--backout", "redeploy", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = str(json.loads(done.stdout)["key"])
    done = team.accounts.run(login, "change", "submit", key, "--ack-conflicts")
    assert done.returncode == 0, done.stderr
    return key


def test_bob_cannot_grant_himself_a_role_with_his_own_config(team: Team) -> None:
    key = _new_change(team, ALICE, "Rotate certificates")
    before = team.audit_count()
    ignored = (
        f"opsdesk: roles from {team.bob_config} ignored: it is not owned by root or the "
        f"store's owner ({ALICE})"
    )
    by_env = team.accounts.run(
        BOB, "change", "approve", key, env={"OPSDESK_CONFIG": str(team.bob_config)}
    )
    assert by_env.returncode == 1
    assert by_env.stderr.splitlines() == [
        ignored,
        f"opsdesk: approving changes needs the cab or lead role; {BOB} has neither",
    ]
    by_flag = team.accounts.run(BOB, "--config", str(team.bob_config), "banner", "set", "mine")
    assert by_flag.returncode == 1
    assert by_flag.stderr.splitlines() == [
        ignored,
        f"opsdesk: setting the banner needs the lead role; {BOB} does not have it",
    ]
    assert team.audit_count() == before
    info = team.accounts.run(BOB, "--config", str(team.bob_config), "info", "--json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["role_sources"] == {"engineer": "everyone"}
    assert info.stderr.splitlines() == [ignored]


def test_alice_s_grant_as_the_store_owner_works(team: Team) -> None:
    os.chmod(team.alice_config, 0o664)  # group write for her own group, only her in it: fine
    key = _new_change(team, BOB, "Scale workers")
    done = team.accounts.run(ALICE, "change", "approve", key, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    done = team.accounts.run(ALICE, "banner", "set", "bridge at 14:00")
    assert done.returncode == 0, done.stderr
    info = json.loads(team.accounts.run(ALICE, "info", "--json").stdout)
    assert info["role_sources"] == {"admin": str(team.alice_config), "engineer": "everyone"}


def test_a_system_config_grants_and_a_writable_dropin_in_it_is_refused(team: Team) -> None:
    """/etc/opsdesk for real, for as short a time as possible (other test runs on this
    host would read it too), and never over a real one."""
    if SYSTEM.exists():
        pytest.skip(f"{SYSTEM} exists on this host; these tests never touch a real one")
    try:
        SYSTEM.mkdir(mode=0o755)
        write(SYSTEM / "config.toml", f'[roles]\nlead = ["{BOB}"]\n')
        bob = team.accounts.run(BOB, "banner", "set", "hi")
        assert (bob.returncode, bob.stderr) == (0, "")
        info = team.accounts.run(BOB, "info", "--json")
        details = json.loads(info.stdout)
        assert details["config_files"][0] == str(SYSTEM / "config.toml")
        assert details["role_sources"] == {
            "engineer": "everyone", "lead": str(SYSTEM / "config.toml")
        }  # fmt: skip
        dropin = write(SYSTEM / "conf.d" / "50-x.toml", "[ui]\nbell = false\n", 0o664)
        os.chown(dropin, 0, team.accounts.gid())  # root's, but the whole team may write it
        for login in (ALICE, BOB):
            done = team.accounts.run(login, "incident", "list")
            assert done.returncode == 2
            assert done.stderr == (
                f"opsdesk: {dropin}: writable by group (mode 0664); fix with chmod g-w,o-w\n"
            )
    finally:
        shutil.rmtree(SYSTEM, ignore_errors=True)


def test_a_plugin_file_bob_can_write_is_refused_and_never_runs(team: Team) -> None:
    marker = team.markers / "plugin-ran"
    plugins = team.shared / "plugins"
    plugins.mkdir(exist_ok=True)
    plugin = write(plugins / "intranet.py", plugin_source(marker))
    team.accounts.own(plugin, ALICE, 0o664)
    os.chown(plugin, -1, team.accounts.gid())  # group opsd_ops: bob can write it
    config = _private_file(
        team.accounts, team.accounts.home(ALICE) / "with-plugin.toml", ALICE,
        _config(team.store, f'[plugins]\nfiles = ["{plugin}"]\n'),
    )  # fmt: skip
    done = team.accounts.run(ALICE, "--config", str(config), "incident", "list")
    assert done.returncode == 2
    assert done.stderr == (
        f"opsdesk: {plugin}: writable by group (mode 0664); fix with chmod g-w,o-w\n"
    )
    team.accounts.own(plugin, BOB, 0o644)  # bob's own file, named in alice's config
    done = team.accounts.run(ALICE, "--config", str(config), "incident", "list")
    assert done.returncode == 2
    assert done.stderr.startswith(f"opsdesk: {plugin}: owned by {BOB}, not by root or {ALICE}")
    assert not marker.exists()
    team.accounts.own(plugin, ALICE, 0o644)  # alice's, safe: it loads (the marker works)
    done = team.accounts.run(ALICE, "--config", str(config), "plugins", "list")
    assert done.returncode == 0, done.stderr
    assert marker.exists()


def test_config_mallory_writes_into_the_store_loads_no_code_and_grants_no_role(
    team: Team,
) -> None:
    accounts = team.accounts
    store = team.store.with_name("meta.db")
    done = accounts.run(ALICE, "--store", str(store), "banner", "set", "second store")
    assert done.returncode == 0, done.stderr
    marker = team.markers / "meta-plugin-ran"
    plugin = write(team.markers / "mallory.py", plugin_source(marker))
    accounts.own(plugin, MALLORY, 0o644)
    code = plant_code(store, plugin, MALLORY)
    planted = accounts.raw(MALLORY, [accounts.python[0], "-c", code])
    assert planted.returncode == 0, planted.stderr
    for login in (ALICE, BOB):  # a lead's `incident list` ran mallory's file before
        done = accounts.run(login, "--store", str(store), "incident", "list")
        assert done.returncode == 0, done.stderr
    assert not marker.exists()
    done = accounts.run(MALLORY, "--store", str(store), "banner", "set", "owned")
    assert done.returncode == 1
    assert f"needs the lead role; {MALLORY} does not have it" in done.stderr
    info = json.loads(accounts.run(ALICE, "--store", str(store), "info", "--json").stdout)
    assert info["demo"] is True
    assert info["config_source"] == (
        f"{store} (demo store: the built-in demo team, made by {ALICE})"
    )
    assert info["roles"] == ["admin", "cab", "engineer", "lead"]
    assert not marker.exists()


def test_a_store_folder_others_can_write_makes_only_root_s_grants_count(team: Team) -> None:
    """The folder opsdesk makes for a group store is 2770: any member could swap the
    store for a copy of their own, so its owner's files grant nothing until it is sticky."""
    accounts = team.accounts
    folder = team.shared / "open-store"
    folder.mkdir()
    os.chown(folder, 0, accounts.gid())
    os.chmod(folder, 0o2770)
    store = folder / "ops.db"
    config = _private_file(
        accounts, accounts.home(ALICE) / "open.toml", ALICE,
        _config(store, f'[roles]\nlead = ["{ALICE}"]\n'),
    )  # fmt: skip
    done = accounts.run(ALICE, "--config", str(config), "banner", "set", "x")
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(
        f"opsdesk: roles from {config} ignored: it is not owned by root, and the store's "
        f"owner ({ALICE}) grants no roles while others could replace {store} (its folder "
        f"{folder} is writable by group (mode 2770)"
    )
    os.chmod(folder, 0o3770)
    done = accounts.run(ALICE, "--config", str(config), "banner", "set", "x")
    assert done.returncode == 0, done.stderr
