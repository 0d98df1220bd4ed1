"""Against a real Prometheus Alertmanager (Debian's prometheus-alertmanager, installed by
.ci/run) on 127.0.0.1 with its storage in a temp dir: post alerts, poll them through the
adapter and the poller, see the stored status and the opened incidents, then resolve an
alert and see its incident's timeline say so."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
if BINARY is None and os.environ.get("CI"):
    raise RuntimeError("CI must install prometheus-alertmanager (see .ci/run)")
pytestmark = pytest.mark.skipif(BINARY is None, reason="prometheus-alertmanager not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("am")
    (folder / "am.yml").write_text(
        "route:\n  receiver: default\n  group_by: ['alertname']\n  group_wait: 1s\n"
        "receivers:\n  - name: default\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [BINARY, f"--config.file={folder / 'am.yml'}", f"--storage.path={folder / 'data'}",  # type: ignore[list-item]
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("alertmanager did not become ready") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def post(base: str, alerts: list[dict[str, object]]) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/alerts", data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


async def test_alerts_become_status_and_incidents_then_resolve(
    alertmanager: str, tmp_path: Path
) -> None:
    firing = [
        {"labels": {"alertname": "CardAuthFailing", "severity": "critical", "service": "payments",
                    "env": "prod"},
         "annotations": {"summary": "card auth errors above 5%"}},
        {"labels": {"alertname": "QueueSlow", "severity": "warning", "env": "prod"},
         "annotations": {"summary": "queue latency high"}},
        {"labels": {"alertname": "StagingNoise", "severity": "critical", "env": "staging"}},
    ]  # fmt: skip
    post(alertmanager, firing)
    config = parse_text(
        f"""
[[services]]
name = "payments"
[[services]]
name = "checkout"
[[sources]]
name = "prod"
plugin = "alertmanager"
url = "{alertmanager}"
service = "checkout"
matchers = ['env="prod"']
open_incidents = true
""",
        "team",
    )
    now = [datetime.now(UTC)]
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, Actor("ana"), lambda: now[0])
        try:
            [result] = await poller.poll()
            assert (result.level, result.error) == ("major_outage", None)
            state = await store.statuses.get("prod")
            assert state is not None and state.summary == "2 firing (1 critical, 1 warning)"
            incidents = await store.incidents.from_source("alertmanager:prod")
            by_title = {i.title.split(":")[0]: i for i in incidents}
            assert set(by_title) == {"CardAuthFailing", "QueueSlow"}  # staging filtered out
            assert by_title["CardAuthFailing"].service == "payments"  # from its label
            assert by_title["QueueSlow"].service == "checkout"  # the source's service
            assert by_title["CardAuthFailing"].priority == "P1"

            resolved = dict(
                firing[1], endsAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat()
            )
            post(alertmanager, [resolved])
            now[0] += timedelta(minutes=2)
            [result] = await poller.poll()
            assert result.level == "major_outage"
            state = await store.statuses.get("prod")
            assert state is not None and state.summary == "1 firing (1 critical)"
            queue_slow = await store.incidents.get(by_title["QueueSlow"].key)
            notes = [e.detail for e in await store.incidents.events(queue_slow.key)]
            assert "The alert stopped firing (prod)." in notes
            assert queue_slow.state == "new"  # auto_resolve is off: only noted
            assert len(await store.incidents.from_source("alertmanager:prod")) == 2  # no duplicate
        finally:
            await poller.close()
