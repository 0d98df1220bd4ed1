"""`opsdesk poll`, `opsdesk vendors list|status` and `opsdesk plugins list`: the status
poller headless (for cron or a service unit) and what it has learned, for scripts."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import cast

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.cli.plugin_scaffold import scaffold
from opsdesk.console.config import loader as config_loader
from opsdesk.console.config.plugin_options import plugins_for, vendor_levels
from opsdesk.console.config.schema import suggest
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.poller import Poller
from opsdesk.console.ops.session import open_session


async def poll_command(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=True)
    poller = Poller(session.store, session.config, session.actor, now)
    failed = 0
    try:
        while True:
            results = await poller.poll(only=args.source, force=args.force)
            for result in results:
                failed += result.error is not None
                if not args.json:
                    outcome = result.error or (result.level or "").replace("_", " ")
                    outcome = outcome or "not modified"
                    emit_line(f"{result.source}: {outcome}")
            if args.json:
                emit_json([r.__dict__ for r in results])
            if args.once or args.force:
                break
            await asyncio.sleep(args.tick)
    finally:
        await poller.close()
        await session.close()
    return 1 if failed else 0


async def vendors_list(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        states = {s.source: s for s in await session.store.statuses.all()}
    finally:
        await session.close()
    config, out = session.config, []
    levels = vendor_levels(config, {name: state.level for name, state in states.items()})
    for vendor in config.vendors:
        sources = [s for s in config.sources if s.vendor == vendor.name]
        contract = vendor.contract
        out.append(
            {
                "vendor": vendor.name,
                "services": [s.name for s in config.services if vendor.name in s.vendors],
                "sources": [s.name for s in sources],
                "level": levels.get(vendor.name, "unknown"),
                "renewal": contract.renewal if contract else None,
                "notice_days": contract.notice.days if contract else None,
                "cost": contract.cost if contract else None,
                "currency": contract.currency if contract else None,
                "support": vendor.support.__dict__,
            }
        )
    if args.json:
        emit_json(out)
        return 0
    rows = []
    for v in out:
        services = ", ".join(cast(list[str], v["services"])) or "—"
        level = str(v["level"]).replace("_", " ")  # in words, as the console says it
        rows.append([str(v["vendor"]), level, services, str(v["renewal"] or "—")])
    emit_table(["vendor", "status", "services", "renewal"], rows)
    return 0


async def vendors_status(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        states = {s.source: s for s in await session.store.statuses.all()}
    finally:
        await session.close()
    sources = session.config.sources
    if args.vendor is not None:
        names = [v.name for v in session.config.vendors]
        if args.vendor not in names:
            raise OpsdeskError(f"unknown vendor {args.vendor!r}{suggest(args.vendor, names)}")
        sources = [s for s in sources if s.vendor == args.vendor]
    out = []
    for source in sources:
        state = states.get(source.name)
        report = (state.report if state else None) or {}
        out.append(
            {
                "vendor": source.vendor, "source": source.name, "plugin": source.plugin,
                "level": state.level if state else "unknown",
                "summary": state.summary if state else "never polled",
                "error": state.error if state else None,
                "checked_at": state.checked_at if state else None,
                "last_ok_at": state.last_ok_at if state else None,
                "since": state.level_since if state else None,
                "components": report.get("components", []),
                "incidents": report.get("incidents", []),
                "maintenances": report.get("maintenances", []),
            }
        )  # fmt: skip
    if args.json:
        emit_json(out)
        return 0
    rows = [
        [o["vendor"] or "(monitoring)", o["source"], o["level"].replace("_", " "),
         o["error"] or o["summary"],
         f"{o['checked_at']:%m-%d %H:%M}" if o["checked_at"] else "never"]
        for o in out
    ]  # fmt: skip
    emit_table(["vendor", "source", "level", "summary / error", "checked (UTC)"], rows)
    return 0


async def plugins_list(args: argparse.Namespace) -> int:
    """Needs only the config (for [plugins] files), not a store."""
    from opsdesk.plugins.notify.registry import notifiers

    found = plugins_for(config_loader.load(options_from(args).config).config)
    out = [
        {
            "name": info.name, "kind": "status", "origin": info.origin, "version": info.version,
            "description": info.adapter.description if info.adapter else "",
            "error": info.error or None,
        }
        for info in found.values()
    ]  # fmt: skip
    out += [
        {
            "name": name, "kind": "notifier", "origin": info.origin, "version": "",
            "description": _first_line(info.notifier), "error": info.error or None,
        }
        for name, info in sorted(notifiers().items())
    ]  # fmt: skip
    if args.json:
        emit_json(out)
        return 0
    rows = [
        [str(o["name"]), str(o["kind"]), str(o["origin"]), str(o["version"]),
         str(o["error"] or o["description"])]
        for o in out
    ]  # fmt: skip
    emit_table(["plugin", "kind", "from", "version", "description / error"], rows)
    return 0


def _first_line(notifier: object) -> str:
    """A notifier's description: the first line of its class docstring."""
    doc = type(notifier).__doc__ if notifier is not None else None
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""


async def plugins_new(args: argparse.Namespace) -> int:
    target = scaffold(args.name, Path(args.dir))
    emit_line(f"{target}: plugin package written; cd there, pip install -e ., python -m pytest")
    return 0


def add_parsers(
    command: Callable[..., argparse.ArgumentParser],
    action: Callable[..., argparse.ArgumentParser],
) -> None:
    p = command("poll", poll_command, "poll status sources (every source that is due)")
    p.add_argument("--once", action="store_true", help="one round, then exit (for cron)")
    p.add_argument("--source", metavar="NAME", help="only this source")
    p.add_argument("--force", action="store_true", help="poll now even if not due (one round)")
    p.add_argument("--tick", type=float, default=5.0, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true")

    vendors = command("vendors", vendors_list, "vendors, their status and contracts")
    sub = vendors.add_subparsers(title="vendors commands", metavar="ACTION", required=True)
    p = action(sub, "list", vendors_list, "each vendor: status, services, renewal, contacts")
    p.add_argument("--json", action="store_true")
    p = action(sub, "status", vendors_status, "each status source: level, summary, error, age")
    p.add_argument("--vendor", metavar="NAME")
    p.add_argument("--json", action="store_true")
    from opsdesk.console.cli import figures
    from opsdesk.console.cli.listing import add_period_flags

    p = action(
        sub, "availability", figures.vendors_availability,
        "each vendor's availability over a period against its contract (default: 30 days)",
    )  # fmt: skip
    add_period_flags(p, service=False)
    p.add_argument("--json", action="store_true")

    plugins = command("plugins", plugins_list, "status adapter plugins")
    sub = plugins.add_subparsers(title="plugins commands", metavar="ACTION", required=True)
    p = action(sub, "list", plugins_list, "each plugin, where it came from, version, any error")
    p.add_argument("--json", action="store_true")
    p = action(sub, "new", plugins_new, "write a ready-to-install plugin package with its test")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--dir", default=".", metavar="PATH", help="where to write it (default .)")
