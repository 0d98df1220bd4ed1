"""What opsdesk creates for a person stays theirs under any umask: folders 0700, files
0600. Run as real processes with `umask 000`, the most permissive a login can have."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import mode_of


def _opsdesk(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsdesk.console", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(0),
        env=os.environ.copy(),
    )


def test_init_and_config_set_under_umask_000_keep_folders_and_files_private(
    isolated_env: Path,
) -> None:
    config_home = isolated_env / ".config"
    assert not config_home.exists()
    done = _opsdesk("init")
    assert done.returncode == 0, done.stderr
    done = _opsdesk("config", "set", "ui.theme", "textual-light")
    assert done.returncode == 0, done.stderr
    folder = config_home / "opsdesk"
    for path in (config_home, folder, folder / "conf.d"):
        assert mode_of(path) == 0o700, f"{path}: {oct(mode_of(path))}"
    for path in (folder / "config.toml", folder / "conf.d" / "90-settings.toml"):
        assert mode_of(path) == 0o600, f"{path}: {oct(mode_of(path))}"


def test_the_log_and_its_folder_are_private_under_umask_000(isolated_env: Path) -> None:
    log = isolated_env / "logs" / "deep" / "opsdesk.log"
    done = _opsdesk("--log-file", str(log), "-v", "info")
    assert done.returncode == 0, done.stderr
    assert log.exists()
    assert mode_of(log) == 0o600
    assert mode_of(log.parent) == 0o700
    assert mode_of(log.parent.parent) == 0o700


def test_existing_folders_are_left_as_their_owner_set_them(isolated_env: Path) -> None:
    shared = isolated_env / "shared"
    shared.mkdir()
    os.chmod(shared, 0o750)
    done = _opsdesk("--log-file", str(shared / "opsdesk.log"), "info")
    assert done.returncode == 0, done.stderr
    assert mode_of(shared) == 0o750
    assert mode_of(shared / "opsdesk.log") == 0o600
