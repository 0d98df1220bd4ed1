"""An unchanged answer is not parsed twice: `get_report` hands back the report it built
from the same bytes last time, and builds anew when the bytes or the address change,
against a real HTTP server on 127.0.0.1; the poller stores what each answer says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.ops.poller import Poller
from opsdesk.plugins.api import AdapterError, Source, StatusReport, get_report
from opsdesk.plugins.statuspage import report_from
from opsdesk.store import Actor, Store
from tests.status_server import FIXTURES, StatusServer
from tests.test_poller import Clock

OPERATIONAL = (FIXTURES / "statuspage/github_summary_2019-12-30_operational.json").read_bytes()
OUTAGE = (FIXTURES / "statuspage/github_summary_2020-04-02_major_incident.json").read_bytes()


async def test_the_same_answer_reuses_its_report_and_a_new_one_is_parsed(
    server: StatusServer,
) -> None:
    url = server.serve("/api/v2/summary.json", body=OPERATIONAL)
    other = server.serve("/other/summary.json", body=OUTAGE)
    built: list[Any] = []

    def build(data: Any) -> StatusReport:
        built.append(data)
        return report_from(data, url)

    source = Source(name="github", url=url, timeout=2.0)
    async with httpx.AsyncClient() as client:
        first = await get_report(client, source, url, build)
        again = await get_report(client, source, url, build)
        assert again is first and len(built) == 1 and first.level == "operational"
        server.serve("/api/v2/summary.json", body=OUTAGE)
        changed = await get_report(client, source, url, build)
        assert len(built) == 2 and changed.level == "partial_outage"
        # The same bytes from another address are another answer.
        elsewhere = await get_report(client, source, other, build)
        assert len(built) == 3 and elsewhere.level == "partial_outage"
        # A fresh memo (another source, or the poller restarted) parses again.
        fresh = Source(name="github", url=url, timeout=2.0)
        assert (await get_report(client, fresh, url, build)).level == "partial_outage"
        assert len(built) == 4


async def test_a_bad_answer_is_refused_every_time_not_remembered(server: StatusServer) -> None:
    url = server.serve("/api/v2/summary.json", body=b"{not json")
    source = Source(name="github", url=url, timeout=2.0)
    async with httpx.AsyncClient() as client:
        for _ in range(2):
            with pytest.raises(AdapterError, match="not JSON"):
                await get_report(client, source, url, lambda data: report_from(data, url))
        assert source.memo == {}


async def test_the_poller_stores_each_answer_changed_or_not(
    server: StatusServer, tmp_path: Path
) -> None:
    server.serve("/api/v2/summary.json", body=OPERATIONAL)
    config = parse_text(
        f'[[sources]]\nname = "github"\nplugin = "statuspage"\nurl = "{server.base}"\n'
        'interval = "1m"\ntimeout = "2s"\n',
        "team",
    )
    clock = Clock()
    async with await Store.open(tmp_path / "s.db") as store:
        poller = Poller(store, config, Actor("ana", frozenset({"lead"})), clock)
        try:
            seen = []
            for body in (OPERATIONAL, OPERATIONAL, OUTAGE, OUTAGE, OPERATIONAL):
                server.serve("/api/v2/summary.json", body=body)
                [result] = await poller.poll()
                state = await store.statuses.get("github")
                assert state is not None and state.report is not None
                assert state.checked_at == clock.now and result.error is None
                seen.append((result.level, state.level, len(state.report["incidents"])))
                clock.now += config.sources[0].interval
        finally:
            await poller.close()
    assert seen == [
        ("operational", "operational", 0),
        ("operational", "operational", 0),
        ("partial_outage", "partial_outage", 1),
        ("partial_outage", "partial_outage", 1),
        ("operational", "operational", 0),
    ]
    assert len(server.requests) == 5
