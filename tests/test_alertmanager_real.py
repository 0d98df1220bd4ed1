"""Against a real Prometheus Alertmanager (Debian's prometheus-alertmanager, installed by
.ci/run) on 127.0.0.1 with its storage in a temp dir: post alerts, poll them through the
adapter and the poller, see the stored status and the opened incidents, then resolve an
alert and see its incident's timeline say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.store import Actor, Store
from tests.alertmanager_server import running_alertmanager


async def test_alerts_become_status_and_incidents_then_resolve(tmp_path: Path) -> None:
    async with running_alertmanager(tmp_path) as am:
        firing = [
            {"labels": {"alertname": "CardAuthFailing", "severity": "critical", "service": "payments",
                        "env": "prod"},
             "annotations": {"summary": "card auth errors above 5%"}},
            {"labels": {"alertname": "QueueSlow", "severity": "warning", "env": "prod"},
             "annotations": {"summary": "queue latency high"}},
            {"labels": {"alertname": "StagingNoise", "severity": "critical", "env": "staging"}},
        ]  # fmt: skip
        await am.post_alerts(firing)
        config = parse_text(
            f"""
    [[services]]
    name = "payments"
    [[services]]
    name = "checkout"
    [[sources]]
    name = "prod"
    plugin = "alertmanager"
    url = "{am.url}"
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

                await am.resolve(firing[1]["labels"])  # endsAt = now
                now[0] += timedelta(minutes=2)
                [result] = await poller.poll()
                assert result.level == "major_outage"
                state = await store.statuses.get("prod")
                assert state is not None and state.summary == "1 firing (1 critical)"
                queue_slow = await store.incidents.get(by_title["QueueSlow"].key)
                notes = [e.detail for e in await store.incidents.events(queue_slow.key)]
                assert "The alert stopped firing (prod)." in notes
                assert queue_slow.state == "new"  # auto_resolve is off: only noted
                assert (
                    len(await store.incidents.from_source("alertmanager:prod")) == 2
                )  # no duplicate
            finally:
                await poller.close()
