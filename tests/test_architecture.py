"""The layers of docs/architecture.md, enforced: import-linter contracts (and proof that
each one can fail), no Textual behind a command that does not draw, and mypy clean.

The source folders are installed as `opsdesk.*` through setuptools' package-dir mapping,
which static tools cannot follow; the tests lay out an `opsdesk/` tree of links (or
copies, where they add a module) and put it first on PYTHONPATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("console", "screens", "store", "plugins")
CONTRACTS = 9


def _tree(where: Path, *, copy: bool) -> Path:
    """`where/opsdesk/<package>` for each source folder: links, or copies to edit."""
    top = where / "opsdesk"
    top.mkdir(parents=True)
    for name in PACKAGES:
        if copy:
            shutil.copytree(ROOT / name, top / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (top / name).symlink_to(ROOT / name, target_is_directory=True)
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    lint = shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extra"
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [lint, "--no-cache"], cwd=where, env=env, capture_output=True, text=True, timeout=300
    )


def test_import_contracts_hold(tmp_path: Path) -> None:
    done = _lint(_tree(tmp_path, copy=False))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{CONTRACTS} kept, 0 broken" in done.stdout


def test_each_layer_contract_fails_when_broken(tmp_path: Path) -> None:
    """A pure rule that imports Textual, config that reaches up into the operations, an
    operation that imports a screen, a CLI command importing Textual itself, and the HTTP
    receiver importing a screen: each
    breaks the contract that names it."""
    where = _tree(tmp_path, copy=True)
    console = where / "opsdesk" / "console"
    (console / "domain" / "probe_textual.py").write_text("import textual\n")
    (console / "config" / "probe_upward.py").write_text("import opsdesk.console.ops.session\n")
    (console / "ops" / "probe_screen.py").write_text("import opsdesk.screens.queue\n")
    (console / "cli" / "probe_textual.py").write_text("import textual.app\n")
    (console / "serve" / "probe_screen.py").write_text("import opsdesk.screens.queue\n")
    (console / "ops" / "probe_http.py").write_text("import httpx\n")
    done = _lint(where)
    assert done.returncode != 0, done.stdout
    out = done.stdout
    broken = [line for line in out.splitlines() if line.rstrip().endswith("BROKEN")]
    assert any(line.startswith("Layers:") for line in broken), out
    assert any(line.startswith("Domain rules are pure") for line in broken), out
    assert any(line.startswith("Nothing below the TUI") for line in broken), out
    assert any(line.startswith("The CLI reaches Textual only") for line in broken), out
    assert any(line.startswith("serve (the HTTP receiver") for line in broken), out
    assert "HTTP in ops only where named: poller, delivery, import_fetch BROKEN" in out, out
    for probe in ("domain.probe_textual", "config.probe_upward", "ops.probe_screen"):
        assert f"opsdesk.console.{probe}" in out, probe


def _modules_loaded_by(code: str) -> set[str]:
    script = textwrap.dedent(code) + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_config_check_does_not_load_textual(write_config) -> None:  # type: ignore[no-untyped-def]
    """`config check` validates `[keys]` from the key table, not from the screens."""
    path = write_config('[keys]\n"queue.mark" = "M"\n')
    loaded = _modules_loaded_by(
        f"""
        from opsdesk.console.cli import run
        assert run(["--config", {str(path)!r}, "config", "check"]) == 0
        """
    )
    assert "opsdesk.console.config.keymap" in loaded
    assert not {m for m in loaded if m.split(".")[0] == "textual"}
    assert not {m for m in loaded if m.startswith(("opsdesk.screens", "opsdesk.console.tui"))}


def test_config_check_names_a_mistyped_binding_id(write_config, capsys) -> None:  # type: ignore[no-untyped-def]
    from opsdesk.console.cli import run

    path = write_config('[keys]\n"queue.mrak" = "m"\n')
    assert run(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "keys.queue.mrak: unknown binding id" in err
    assert 'did you mean "queue.mark"' in err


def test_domain_rules_load_no_ui_http_or_sql_driver() -> None:
    import pkgutil

    import opsdesk.console.domain

    names = [m.name for m in pkgutil.iter_modules(opsdesk.console.domain.__path__)]
    assert len(names) >= 8
    imports = "\n".join(f"import opsdesk.console.domain.{name}" for name in names)
    loaded = _modules_loaded_by(imports)
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "rich", "httpx")}


def test_mypy_is_clean(tmp_path: Path) -> None:
    where = _tree(tmp_path, copy=False)
    mypy = shutil.which("mypy")
    assert mypy, "mypy is part of the test extra"
    packages = [arg for name in PACKAGES for arg in ("-p", f"opsdesk.{name}")]
    done = subprocess.run(
        [mypy, "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "c"),
         *packages],
        cwd=where, env={**os.environ, "MYPYPATH": str(where)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
