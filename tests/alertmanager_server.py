"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``) on 127.0.0.1 for
tests: it is configured to deliver every alert to a webhook receiver URL (and, optionally,
to a PagerDuty Events v2 URL), so a test can post alerts and see what our HTTP receiver
gets.

    async with running_alertmanager(tmp_path, webhook_url=url, webhook_bearer="s3cret") as am:
        await am.post_alerts([{"labels": {"alertname": "DiskFull", "severity": "critical"}}])
        ...  # the receiver gets a webhook (version "4", status "firing")
        await am.resolve({"alertname": "DiskFull", "severity": "critical"})
        ...  # about group_interval later it gets status "resolved"

``start_alertmanager`` returns a started ``Alertmanager`` (call ``stop()`` yourself).
Without the binary the test is skipped, except when CI is "true": then it fails, since
CI must install the package. Alertmanager's config is written as JSON, which is YAML.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")
READY_DEADLINE = 20.0  # seconds for the process to answer GET /-/ready
STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
START_ATTEMPTS = 3  # a free port picked by us can be taken before Alertmanager binds it


class AlertmanagerStartError(RuntimeError):
    """Alertmanager did not start; the message carries the tail of its log."""


def find_binary() -> str:
    """The Alertmanager binary, or skip the test (fail it on CI, which must install it)."""
    for name in BINARY_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail(
            "prometheus-alertmanager is not installed, and CI must install it "
            "(apt-get install prometheus-alertmanager)",
            pytrace=False,
        )
    pytest.skip("prometheus-alertmanager is not installed")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


@dataclass
class Alertmanager:
    url: str  # http://127.0.0.1:PORT
    process: subprocess.Popen[bytes]
    config_path: Path | None = None
    log_path: Path | None = None
    # Every alert posted, by its label set, so resolve() can repost it unchanged.
    posted: dict[tuple[tuple[str, str], ...], dict[str, Any]] = field(default_factory=dict)

    async def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """POST /api/v2/alerts. Each alert needs "labels"; "annotations", "startsAt",
        "endsAt" and "generatorURL" are optional (startsAt defaults to now)."""
        body = []
        for alert in alerts:
            full = {"annotations": {}, "startsAt": _now(), **alert}
            full["labels"] = dict(alert["labels"])
            self.posted[_key(full["labels"])] = full
            body.append(full)
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(f"{self.url}/api/v2/alerts", json=body)
        if answer.status_code != 200:
            raise AssertionError(
                f"Alertmanager refused the alerts: {answer.status_code} {answer.text}"
            )

    async def resolve(self, labels: dict[str, str]) -> None:
        """Repost the alert with these labels with endsAt = now, so Alertmanager sends a
        "resolved" notification at the group's next group_interval tick."""
        alert = dict(self.posted.get(_key(labels)) or {"labels": dict(labels)})
        alert.pop("endsAt", None)
        await self.post_alerts([{**alert, "endsAt": _now()}])

    def log(self) -> str:
        return _log_tail(self.log_path, 200) if self.log_path else ""

    def stop(self) -> None:
        """SIGTERM, wait up to 5 s, then SIGKILL."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def write_config(
    path: Path,
    *,
    webhook_url: str | None = None,
    webhook_bearer: str | None = None,
    pagerduty_url: str | None = None,
    pagerduty_routing_key: str | None = None,
    group_by: Sequence[str] = ("alertname",),
    group_wait: str = "0s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    resolve_timeout: str = "5m",
) -> Path:
    """Write alertmanager.yml: the root route's receiver drops everything; each child
    route (no matchers, ``continue: true``) sends every alert to one receiver."""
    receivers: list[dict[str, Any]] = [{"name": "blackhole"}]
    routes: list[dict[str, Any]] = []
    if webhook_url is not None:
        webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True, "max_alerts": 0}
        if webhook_bearer is not None:
            webhook["http_config"] = {
                "authorization": {"type": "Bearer", "credentials": webhook_bearer}
            }
        receivers.append({"name": "webhook", "webhook_configs": [webhook]})
        routes.append({"receiver": "webhook", "continue": True})
    if pagerduty_url is not None:
        pagerduty = {
            "url": pagerduty_url,
            "routing_key": pagerduty_routing_key or "opsdesk-test-routing-key",
            "send_resolved": True,
        }
        receivers.append({"name": "pagerduty", "pagerduty_configs": [pagerduty]})
        routes.append({"receiver": "pagerduty", "continue": True})
    config = {
        "global": {"resolve_timeout": resolve_timeout},
        "route": {
            "receiver": "blackhole",
            "group_by": list(group_by),
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
            "routes": routes,
        },
        "receivers": receivers,
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def _spawn(binary: str, config: Path, data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--web.external-url=http://127.0.0.1:{port}",  # not the host name
                "--cluster.listen-address=",  # empty: no gossip, no cluster wait
                "--log.level=debug",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=config.parent,
        )


async def _wait_ready(am: Alertmanager, deadline: float) -> str | None:
    """None once GET /-/ready answers 200, else why not."""
    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            if am.process.poll() is not None:
                return f"it exited with code {am.process.returncode}"
            try:
                answer = await client.get(f"{am.url}/-/ready")
                if answer.status_code == 200:
                    return None
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                return f"it did not answer GET /-/ready with 200 within {READY_DEADLINE:.0f} s"
            await asyncio.sleep(0.1)


async def start_alertmanager(
    tmp_path: Path,
    *,
    webhook_url: str | None = None,
    webhook_bearer: str | None = None,
    pagerduty_url: str | None = None,
    pagerduty_routing_key: str | None = None,
    group_by: Sequence[str] = ("alertname",),
    group_wait: str = "0s",
    group_interval: str = "1s",
    repeat_interval: str = "1h",
    resolve_timeout: str = "5m",
) -> Alertmanager:
    """Write the config into tmp_path/alertmanager, start Alertmanager on a free port of
    127.0.0.1 and return once it is ready. The caller stops it (see running_alertmanager)."""
    binary = find_binary()
    folder = tmp_path / "alertmanager"
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(
        folder / "alertmanager.yml",
        webhook_url=webhook_url,
        webhook_bearer=webhook_bearer,
        pagerduty_url=pagerduty_url,
        pagerduty_routing_key=pagerduty_routing_key,
        group_by=group_by,
        group_wait=group_wait,
        group_interval=group_interval,
        repeat_interval=repeat_interval,
        resolve_timeout=resolve_timeout,
    )
    log = folder / "alertmanager.log"
    failure = ""
    for _attempt in range(START_ATTEMPTS):
        port = _free_port()
        process = _spawn(binary, config, folder / "data", port, log)
        am = Alertmanager(f"http://127.0.0.1:{port}", process, config, log)
        try:
            problem = await _wait_ready(am, time.monotonic() + READY_DEADLINE)
        except BaseException:
            am.stop()
            raise
        if problem is None:
            return am
        am.stop()
        failure = problem
        if "address already in use" not in _log_tail(log, 10):
            break
    raise AlertmanagerStartError(
        f"Alertmanager did not start: {failure}\n--- tail of {log} ---\n{_log_tail(log)}"
    )


@asynccontextmanager
async def running_alertmanager(tmp_path: Path, **options: Any) -> AsyncIterator[Alertmanager]:
    """``start_alertmanager`` as an async context manager that always stops it."""
    am = await start_alertmanager(tmp_path, **options)
    try:
        yield am
    finally:
        with suppress(ProcessLookupError):
            am.stop()
