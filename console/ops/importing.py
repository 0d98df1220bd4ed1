"""`opsdesk import <product>`: read a product's team (its API or a saved folder), map it,
check it like any config, compare rotas if asked, then write the drop-in
`conf.d/50-import-<product>.toml` and put future overrides in the store.

Nothing is written when anything was skipped (unless `allow_partial`), when `--verify`
found a difference, or on a dry run: a partial or wrong import never lands quietly.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w

from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.dropins import write_toml
from opsdesk.console.config.loader import DROPIN_DIR
from opsdesk.console.config.model import Config
from opsdesk.console.domain.imports.mapping import ImportPlan, plan_import
from opsdesk.console.domain.imports.model import Bundle, BundleError, Window
from opsdesk.console.domain.imports.registry import IMPORTERS
from opsdesk.console.domain.imports.verify import Verification, verify
from opsdesk.console.domain.roster_checks import Move, roster_diff
from opsdesk.console.errors import ConfigError, InputError, OpsdeskError, UsageError
from opsdesk.console.ops import import_fetch, import_folder
from opsdesk.console.ops.session import Options, open_session

MAX_WEEKS = 26


@dataclass
class ImportRequest:
    product: str
    url: str | None = None
    token_env: str | None = None
    from_dir: Path | None = None
    save_dir: Path | None = None
    map_file: Path | None = None
    dry_run: bool = False
    diff: bool = False
    allow_partial: bool = False
    verify: bool = False
    weeks: int = 4
    timeout: float = import_fetch.TIMEOUT


@dataclass
class ImportResult:
    plan: ImportPlan
    target: Path
    written: bool = False
    refused: str = ""
    """Why nothing was written (empty when written or a dry run)."""
    saved: int = 0
    overrides_added: int = 0
    overrides_already: int = 0
    overrides_past: int = 0
    verification: Verification | None = None
    diff_lines: list[str] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)


def check_request(request: ImportRequest) -> None:
    """Usage mistakes, before anything is read (exit 2)."""
    if request.product not in IMPORTERS:
        raise UsageError(f"unknown product {request.product!r}; one of {', '.join(IMPORTERS)}")
    if request.url and request.from_dir:
        raise UsageError("give --url or --from-dir, not both")
    if not request.url and not request.from_dir:
        raise UsageError("give --url BASE --token-env NAME, or --from-dir DIR")
    if request.url and not request.token_env:
        raise UsageError(
            "--url needs --token-env NAME (the environment variable holding the token)"
        )
    if request.url and not request.url.startswith(("http://", "https://")):
        raise UsageError(f"--url: expected an http:// or https:// URL, got {request.url!r}")
    if request.from_dir and request.save_dir:
        raise UsageError("--save-dir saves what --url fetches; with --from-dir it is already saved")
    if not 1 <= request.weeks <= MAX_WEEKS:
        raise UsageError(f"--weeks must be between 1 and {MAX_WEEKS}")


async def run_import(request: ImportRequest, options: Options, now: datetime) -> ImportResult:
    check_request(request)
    importer = IMPORTERS[request.product]
    window = None
    if request.verify:
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        window = Window(day, day + timedelta(weeks=request.weeks))
    bundle: Bundle
    saved = 0
    if request.from_dir is not None:
        folder = request.from_dir
        if not folder.is_dir():
            raise InputError(f"--from-dir {folder}: no such folder")
        product = import_folder.saved_product(folder)
        if product is not None and product != request.product:
            raise InputError(f"{folder}: saved from {product}, not {request.product}")
        bundle = import_folder.FolderBundle(folder)
        if window is not None:
            window = _folder_window(folder, window)
    else:
        token = os.environ.get(request.token_env or "", "")
        if not token:
            raise UsageError(
                f"--token-env {request.token_env}: that environment variable is empty or not set"
            )
        fetched = await import_fetch.fetch_bundle(
            importer, request.url or "", token, request.token_env or "", window, now,
            request_timeout=request.timeout,
        )  # fmt: skip
        if request.save_dir is not None:
            saved = import_folder.save(fetched, request.save_dir, request.product, window)
        bundle = fetched
    try:
        team = importer.parse(bundle, window)
    except BundleError as exc:
        raise InputError(str(exc)) from None
    login_map = read_map(request.map_file) if request.map_file else None
    files, config_dir = config_loader.read_files(options.config)  # checked as sessions do
    target = config_dir / DROPIN_DIR / f"50-import-{request.product}.toml"
    others = [(str(f.path), f.data) for f in files if f.path != target]
    existing = config_loader.parse_sources(others) if others else Config()
    history = now if window is None else min(now, window.start)
    plan = plan_import(team, login_map, existing, ended_before=history)
    data = plan.toml()
    config_loader.parse_sources([*others, (str(target), data)])  # checked like any config
    result = ImportResult(plan, target, saved=saved)
    if request.diff:
        result.diff_lines = _text_diff(target, data)
        result.moves = _moves(plan, now, request.weeks, target)
    if window is not None:
        result.verification = verify(plan, team, window)
    result.refused = _refusal(request, plan, result.verification)
    if request.dry_run or request.diff or result.refused:  # --diff looks, as `oncall diff`
        return result
    if options.read_only:  # checked before the drop-in is written, not by the store after
        raise OpsdeskError(
            f"this console is read-only (--read-only): nothing written (the import would write "
            f"{target}); run it without --read-only, or add --dry-run to look"
        )
    future = [o for o in plan.overrides if o.end > now]
    result.overrides_past = len(plan.overrides) - len(future)
    session = await open_session(options, create=True) if future else None
    try:
        if session is not None and not session.actor.has("lead"):
            raise OpsdeskError(
                f"importing {len(future)} overrides puts others on call, which needs the lead "
                f"role; {session.actor.login} does not have it (nothing written)"
            )
        header = f"Written by `opsdesk import {request.product}`; re-run it to refresh."
        write_toml(target, data, header)
        result.written = True
        if session is not None:
            title = IMPORTERS[request.product].title
            items = [
                (o.schedule, o.login, o.start, o.end, f"imported from {title} ({o.source_id})")
                for o in future
            ]
            added, already = await session.store.overrides.add_imported(session.actor, items, now)
            result.overrides_added, result.overrides_already = len(added), already
    finally:
        if session is not None:
            await session.close()
    return result


def _folder_window(folder: Path, asked: Window) -> Window:
    try:
        saved = import_folder.saved_window(folder)
    except BundleError as exc:
        raise InputError(str(exc)) from None
    if saved is None:
        raise InputError(
            f"{folder}: saved without a final rota (no window in {import_folder.MANIFEST}); "
            "save it again with --verify"
        )
    return (
        saved
        if saved.end - saved.start <= asked.end - asked.start
        else Window(saved.start, saved.start + (asked.end - asked.start))
    )


def _refusal(request: ImportRequest, plan: ImportPlan, checked: Verification | None) -> str:
    if checked is not None and checked.differences:
        count = len(checked.differences)
        return f"{count} difference{'s' if count > 1 else ''} from the source's own rota"
    if plan.skipped and not request.allow_partial:
        count = len(plan.skipped)
        return (
            f"{count} item{'s' if count > 1 else ''} skipped (--allow-partial to import the rest)"
        )
    return ""


MAP_LOGIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,255}\$?")
"""A login a --map may name: what useradd and directory logins (sssd's user@domain) allow,
so a typo with a space or a stray character is caught before it is written to config
and pages nobody."""


def read_map(path: Path) -> dict[str, str]:
    """`--map FILE`: a TOML file with a `[logins]` table, email or username = login."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"--map {path}: no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"--map {path}: not readable TOML ({exc})") from None
    logins = data.get("logins")
    if not isinstance(logins, dict):
        raise InputError(f'--map {path}: expected a [logins] table ("alice@example.com" = "alice")')
    for key, value in logins.items():
        if not isinstance(value, str) or not value or value != value.strip():
            raise InputError(f"--map {path}: logins.{key}: expected a login, got {value!r}")
        if not MAP_LOGIN.fullmatch(value):
            raise InputError(
                f"--map {path}: logins.{key}: {value!r} is not a login name"
                " (letters, digits, '.', '_', '-', '@'; as `id -un` prints it)"
            )
    return dict(logins)


def _text_diff(target: Path, data: dict[str, object]) -> list[str]:
    old = target.read_text(encoding="utf-8").splitlines() if target.is_file() else []
    old = [line for line in old if not line.startswith("# Written by")]
    new = tomli_w.dumps(data).splitlines()
    return list(difflib.unified_diff(old, new, str(target), "imported", lineterm=""))


def _moves(plan: ImportPlan, now: datetime, weeks: int, target: Path) -> list[Move]:
    """Shift moves against the schedules of the same name in the current import drop-in."""
    if not target.is_file():
        return []
    try:
        current = config_loader.parse_sources([(str(target), config_loader.read_toml(target))])
    except ConfigError:
        return []
    named = {s.name for s in plan.schedules}
    before = [s for s in current.schedules if s.name in named]
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return roster_diff(before, plan.schedules, [], start, start + timedelta(weeks=weeks))
