"""The HTTP face of `opsdesk serve`, on Starlette (ASGI) served by uvicorn.

Why Starlette + uvicorn: small, typed, well kept, and ASGI, so the receiver, the pager and
the store share one asyncio loop (aiosqlite, httpx) with no thread hand-offs; uvicorn is
the reference ASGI server and runs behind any reverse proxy. aiohttp would do as well but
brings its own HTTP client beside the httpx we already use.

Routes:
    POST /integrations/{name}   Alertmanager, Grafana and generic webhooks
    POST /v2/enqueue            PagerDuty Events API v2 (the routing key picks the integration)
    GET  /ack/{token}           the confirm page of an acknowledgement link
    POST /ack/{token}           acknowledge (the form's button, or ntfy's action button)
    GET  /healthz, GET /metrics
An accepted alert is in the store (one transaction) before the 2xx goes back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from opsdesk.console.config.model import Config, Integration
from opsdesk.console.domain.inbound import InboundError, parse_alerts
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.alert_intake import AlertIntake, NoService
from opsdesk.console.ops.pager import SYSTEM
from opsdesk.console.ops.paging import LinkRefused, PagingOps
from opsdesk.console.serve import pages
from opsdesk.console.serve.guard import (
    RateLimit,
    Refusal,
    authorized,
    parse_json,
    read_secret,
    same,
)
from opsdesk.console.serve.metrics import PagerMetrics
from opsdesk.console.serve.pager import Pager
from opsdesk.store import Store, StoreError

LOG_LIMIT = 200


@dataclass
class ServeState:
    store: Store
    config: Config
    key: bytes
    clock: Callable[[], datetime]
    secrets: dict[str, str]
    pager: Pager
    metrics: PagerMetrics
    limits: dict[str, RateLimit] = field(default_factory=dict)


def load_secrets(config: Config, base: Path | None) -> dict[str, str]:
    """Every integration's secret, read once at start-up (a missing one stops serve with
    a line naming the integration)."""
    return {i.name: read_secret(i, base) for i in config.integrations}


def _refused(state: ServeState, name: str, refusal: Refusal) -> JSONResponse:
    state.metrics.rejected.labels(name, str(refusal.status)).inc()
    return JSONResponse(
        {"status": "refused", "message": str(refusal)}, refusal.status, headers=refusal.headers
    )


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes `limit`: a huge body is never
    held in memory whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refusal(413, f"body larger than {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refusal(400, "the client went away mid-body") from None
    return b"".join(chunks)


def _limit(state: ServeState, integration: Integration) -> RateLimit:
    if integration.name not in state.limits:
        state.limits[integration.name] = RateLimit(integration.rate_limit, time.monotonic)
    return state.limits[integration.name]


async def _take(state: ServeState, integration: Integration, payload: Any) -> dict[str, Any]:
    try:
        alerts = parse_alerts(integration, payload)
    except InboundError as exc:
        raise Refusal(400, str(exc)) from None
    state.metrics.alerts.labels(integration.name).inc(len(alerts))
    try:
        done = await AlertIntake(state.store, state.config).take(integration, alerts, state.clock())
    except NoService as exc:
        raise Refusal(400, str(exc)) from None
    except StoreError as exc:
        raise Refusal(503, f"not stored: {exc}", {"Retry-After": "5"}) from None
    except OpsdeskError as exc:
        raise Refusal(422, str(exc)) from None
    opened = len(done.opened) + len(done.reopened)
    if opened:
        state.metrics.opened.labels(integration.name).inc(opened)
    state.pager.wake()
    return done.summary()


async def integration_endpoint(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    name = request.path_params["name"]
    integration = state.config.integration(name)
    secret = state.secrets.get(name, "")
    try:
        if (
            integration is None
            or integration.kind == "pagerduty"
            or not authorized(integration, secret, request.headers.get("authorization"))
        ):
            raise Refusal(401, "unknown integration or wrong credentials",
                          {"WWW-Authenticate": 'Bearer realm="opsdesk"'})  # fmt: skip
        _limit(state, integration).take()
        payload = parse_json(await _body(request, state.config.serve.max_body))
        summary = await _take(state, integration, payload)
    except Refusal as refusal:
        return _refused(state, name if integration else "unknown", refusal)
    return JSONResponse({"status": "ok", **summary})


async def pagerduty_endpoint(request: Request) -> Response:
    """PagerDuty Events API v2: same answer shapes (202 success, 400 invalid event), so an
    Alertmanager or Grafana PagerDuty notifier needs only its URL changed."""
    state: ServeState = request.app.state.serve
    try:
        payload = parse_json(await _body(request, state.config.serve.max_body))
        key = payload.get("routing_key") if isinstance(payload, dict) else None
        integration = None
        for candidate in state.config.integrations:
            secret = state.secrets.get(candidate.name, "")
            if candidate.kind == "pagerduty" and isinstance(key, str) and same(key, secret):
                integration = candidate
        if integration is None:
            raise Refusal(404, "unknown routing key")
        _limit(state, integration).take()
        summary = await _take(state, integration, payload)
    except Refusal as refusal:
        if refusal.status != 400:
            return _refused(state, "pagerduty", refusal)
        state.metrics.rejected.labels("pagerduty", "400").inc()
        invalid = {"status": "invalid event", "message": "Event object is invalid",
                   "errors": [str(refusal)]}  # fmt: skip
        return JSONResponse(invalid, 400)
    dedup = (summary["keys"] or [None])[0]
    keys = summary["opened"] or summary["reopened"]
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": dedup, "incidents": keys},
        202,
    )


async def ack_page(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    token = request.path_params["token"]
    ops = PagingOps(state.store, state.config, SYSTEM)
    try:
        n = await ops.check_link(state.key, token, state.clock())
        assert n.incident_key is not None
        incident = await state.store.incidents.get(n.incident_key)
    except LinkRefused as exc:
        return HTMLResponse(
            pages.answer("Cannot acknowledge", str(exc)), 403, headers=pages.HEADERS
        )
    html = pages.confirm(incident.key, incident.title, incident.priority, incident.state, n.login)
    return HTMLResponse(html, headers=pages.HEADERS)


async def ack_post(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    token = request.path_params["token"]
    ops = PagingOps(state.store, state.config, SYSTEM)
    try:
        done = await ops.acknowledge_by_link(state.key, token, state.clock())
    except LinkRefused as exc:
        return HTMLResponse(
            pages.answer("Cannot acknowledge", str(exc)), 403, headers=pages.HEADERS
        )
    except StoreError as exc:
        return HTMLResponse(pages.answer("Try again", str(exc)), 503, headers=pages.HEADERS)
    text = f"{done.incident_key} is acknowledged by {done.login}; escalation has stopped."
    return HTMLResponse(pages.answer("Acknowledged", text), headers=pages.HEADERS)


async def healthz(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    try:
        await state.store.notifications.next_due()
    except StoreError as exc:
        return JSONResponse({"status": "error", "message": str(exc)}, 503)
    return JSONResponse({"status": "ok", "pager": state.pager.health()})


async def metrics(request: Request) -> Response:
    state: ServeState = request.app.state.serve
    return Response(state.metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")


def build_app(state: ServeState, *, run_pager: bool = True) -> Starlette:
    """The ASGI app; with `run_pager`, the pager loop runs for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(state.pager.run()) if run_pager else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            await state.pager.close()

    app = Starlette(
        routes=[
            Route("/integrations/{name}", integration_endpoint, methods=["POST"]),
            Route("/v2/enqueue", pagerduty_endpoint, methods=["POST"]),
            Route("/ack/{token}", ack_page, methods=["GET"]),
            Route("/ack/{token}", ack_post, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.serve = state
    return app
