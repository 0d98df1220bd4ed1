"""`opsdesk serve`, `opsdesk page`, `opsdesk notify test` and `opsdesk notifications list`:
the pager's faces on the command line."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import platformdirs

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.listing import COUNT_AT_MOST, cut, say_cut
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.cli.parsing import count
from opsdesk.console.config.model import Config
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import UsageError
from opsdesk.console.ops.session import open_session
from opsdesk.store.location import PgLocation, StoreLocation
from opsdesk.store.records import Notification

Command = Callable[[str, Callable[..., Any], str], argparse.ArgumentParser]


def add_parsers(command: Command) -> None:
    serve = command(
        "serve", run_serve, "receive pushed alerts, page people, take acknowledgements back"
    )
    serve.add_argument("--listen", metavar="HOST:PORT", help="default: [serve] listen")
    page = command("page", page_person, "page a person, or whoever a schedule has on call")
    target = page.add_mutually_exclusive_group(required=True)
    target.add_argument("--person", metavar="LOGIN")
    target.add_argument("--schedule", metavar="NAME")
    page.add_argument("--message", required=True, metavar="TEXT", help="what they are paged for")
    page.add_argument("--incident", metavar="KEY", help="the incident it is about (its ack link)")
    page.add_argument("--json", action="store_true")
    notify = command("notify", notify_test, "send a test through every method a person has")
    notify.add_argument("action", choices=["test"])
    notify.add_argument("--person", required=True, metavar="LOGIN")
    notify.add_argument("--json", action="store_true")
    listing = command("notifications", list_notifications, "list pages and how they went")
    listing.add_argument("action", nargs="?", choices=["list"], default="list")
    listing.add_argument("--incident", metavar="KEY", help="only this incident's, oldest first")
    listing.add_argument(
        "--state", choices=["pending", "sending", "delivered", "failed", "cancelled"]
    )
    listing.add_argument(
        "--limit", type=count, default=50, metavar="N",
        help="at most N (default 50; 0: all); a cut list says so on stderr",
    )  # fmt: skip
    listing.add_argument("--json", action="store_true")


def notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "incident": n.incident_key,
        "login": n.login,
        "method": n.method,
        "urgency": n.urgency,
        "reason": n.reason,
        "state": n.state,
        "attempts": n.attempts,
        "created_at": n.created_at,
        "not_before": n.not_before,
        "sent_at": n.sent_at,
        "receipt": n.receipt,
        "error": n.error,
        "acknowledged_at": n.acknowledged_at,
        "acknowledged_via": n.acknowledged_via,
    }


def notification_row(n: Notification) -> list[str]:
    when = n.sent_at or n.not_before
    outcome = {
        "delivered": n.receipt or "",
        "failed": n.error or "",
        "pending": n.error or "waiting",
    }.get(n.state, n.error or "")
    if n.acknowledged_via:
        outcome = f"acknowledged via {n.acknowledged_via}"
    return [
        str(n.id),
        n.incident_key or "-",
        n.login,
        n.method,
        n.state,
        f"{when:%Y-%m-%d %H:%M}",
        one_line(outcome, limit=60),
    ]


HEADERS = ["id", "incident", "who", "how", "state", "when (UTC)", "outcome"]  # as every table


async def list_notifications(args: argparse.Namespace) -> int:
    session = await open_session(options_from(args), create=False)
    try:
        notifications = session.store.notifications
        found = await notifications.list(args.incident, limit=args.limit or -1, state=args.state)
        total = len(found)
        if cut(total, args.limit):
            total = await notifications.count(
                args.incident, state=args.state, at_most=COUNT_AT_MOST + 1
            )
    finally:
        await session.close()
    if args.json:
        emit_json([notification_json(n) for n in found])
    elif found:
        emit_table(HEADERS, [notification_row(n) for n in found])
    else:
        emit_line("no notifications" + (f" for {args.incident}" if args.incident else ""))
    say_cut(len(found), total)
    return 0


async def page_person(args: argparse.Namespace) -> int:
    from opsdesk.console.ops.paging import PagingOps  # the pager loads httpx: only here

    session = await open_session(options_from(args))
    try:
        ops = PagingOps(session.store, session.config, session.actor)
        if args.schedule:
            login, queued = await ops.page_schedule(
                args.schedule, args.message, now(), args.incident
            )
        else:
            login, queued = await ops.page(
                args.message, now(), person=args.person, incident_key=args.incident
            )
    finally:
        await session.close()
    return _queued(args, login, queued)


async def notify_test(args: argparse.Namespace) -> int:
    from opsdesk.console.ops.paging import PagingOps

    session = await open_session(options_from(args))
    try:
        queued = await PagingOps(session.store, session.config, session.actor).test(
            args.person, now()
        )
    finally:
        await session.close()
    return _queued(args, args.person, queued)


def _queued(args: argparse.Namespace, login: str, queued: list[Notification]) -> int:
    if args.json:
        emit_json([notification_json(n) for n in queued])
    else:
        methods = ", ".join(n.method for n in queued)
        emit_line(
            f"queued for {login} by {methods}; `opsdesk serve` sends them "
            f"(`opsdesk notifications list` shows how they went)"
        )
    return 0


def listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen: expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def key_path(config: Config, store: StoreLocation, config_dir: Path | None) -> Path:
    """`[serve] key_file` (relative to the config file's folder, like `secret_file`), or
    `serve.key` beside the store; for a PostgreSQL store (no file to sit beside) in the
    config's folder. Several `serve` processes of one team share one key_file."""
    if config.serve.key_file:
        path = Path(config.serve.key_file).expanduser()
        return path if path.is_absolute() or config_dir is None else config_dir / path
    if isinstance(store, PgLocation):
        return (config_dir or platformdirs.user_config_path("opsdesk")) / "serve.key"
    return store.parent / "serve.key"


async def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from opsdesk.console.ops.paging import load_key
    from opsdesk.console.serve.app import ServeState, build_app, load_secrets
    from opsdesk.console.serve.metrics import PagerMetrics
    from opsdesk.console.serve.pager import Pager

    session = await open_session(options_from(args))
    try:
        config = session.config
        host, port = listen_address(args.listen or config.serve.listen)
        secrets = load_secrets(config, session.loaded.config_dir)
        key = load_key(key_path(config, session.store.location, session.loaded.config_dir))
        base_url = config.serve.public_url or f"http://{host}:{port}"
        metrics = PagerMetrics()
        clock = now
        owner = f"serve@{os.uname().nodename}:{os.getpid()}"
        pager = Pager(
            session.store,
            config,
            key=key,
            base_url=base_url,
            owner=owner,
            clock=clock,
            metrics=metrics,
        )
        state = ServeState(session.store, config, key, clock, secrets, pager, metrics)
        app = build_app(state)
        said = logging.StreamHandler()  # to the journal under systemd, beside the log file
        said.setFormatter(logging.Formatter("opsdesk serve: %(levelname)s %(message)s"))
        serve_log = logging.getLogger("opsdesk.serve")
        serve_log.addHandler(said)
        serve_log.setLevel(logging.INFO)
        serve_log.info("listening on %s:%s; links start %s", host, port, base_url)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level="info",
                access_log=False,
                proxy_headers=True,
                server_header=False,
                lifespan="on",
            )
        )
        await server.serve()
    finally:
        await session.close()
    return 0
