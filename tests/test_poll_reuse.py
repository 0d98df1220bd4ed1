"""What a poll round reuses rather than makes again (bench.poll, issue 15) must never
change what is stored: a new answer whose report comes out the same hands back the last
report object, but only when it is the same down to what the store writes (types, date
offsets, order); large answers are remembered by digest, small ones whole, and neither can
pass for the other; shared Statuspage components stay bounded; and the store makes a
report's JSON once per report object, writing every new report as it is. Against a real
HTTP server on 127.0.0.1 and a real store on both backends."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from opsdesk.plugins import statuspage
from opsdesk.plugins.api import (
    MEMO_BYTES,
    AdapterError,
    Alert,
    Component,
    Source,
    StatusReport,
    _identical,
    get_report,
)
from opsdesk.plugins.statuspage import report_from
from opsdesk.store import Store
from opsdesk.store.records import Outcome
from tests.status_server import FIXTURES, StatusServer

OUTAGE = (FIXTURES / "statuspage/github_summary_2020-04-02_major_incident.json").read_bytes()
UPDATED = b'"updated_at": "2020-04-02T20:37:08.838Z"'
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def test_a_new_answer_with_the_same_report_hands_back_the_last_report(
    server: StatusServer,
) -> None:
    url = server.serve("/api/v2/summary.json", body=OUTAGE)
    built: list[StatusReport] = []

    def build(data: Any) -> StatusReport:
        built.append(report_from(data, url))
        return built[-1]

    source = Source(name="github", url=url, timeout=2.0)
    async with httpx.AsyncClient() as client:
        first = await get_report(client, source, url, build)
        # Only the page's updated_at moved on: parsed and built again, the same report.
        later = OUTAGE.replace(UPDATED, b'"updated_at": "2020-04-02T20:40:00.000Z"', 1)
        server.serve("/api/v2/summary.json", body=later)
        again = await get_report(client, source, url, build)
        assert len(built) == 2 and again is first
        # A real change is a new report.
        renamed = later.replace(b'"name": "Git Operations"', b'"name": "Git Ops"', 1)
        server.serve("/api/v2/summary.json", body=renamed)
        changed = await get_report(client, source, url, build)
        assert len(built) == 3 and changed is built[-1] and changed is not first
        assert changed.components[0].name == "Git Ops"


@dataclass(frozen=True)
class Thing:
    value: Any


def test_identical_means_the_same_json_not_just_equal() -> None:
    at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    paris = at.astimezone(timezone(timedelta(hours=1)))
    same = [
        (StatusReport("operational", "ok"), StatusReport("operational", "ok")),
        (Thing(at), Thing(datetime(2026, 12, 1, 12, tzinfo=UTC))),
        (Thing({"a": 1, "b": [1.5, None]}), Thing({"a": 1, "b": [1.5, None]})),
        (Alert("f", "n", "degraded", labels={"x": "1"}), Alert("f", "n", "degraded", labels={"x": "1"})),
    ]  # fmt: skip
    for a, b in same:
        assert a is not b and _identical(a, b)
    # Equal in Python, written differently: each is a new report.
    different = [
        (Thing(1), Thing(1.0)),
        (Thing(1), Thing(True)),
        (Thing(at), Thing(paris)),  # the same instant at another offset
        (Thing({"a": 1, "b": 2}), Thing({"b": 2, "a": 1})),  # keys in another order
        (Thing((1, 2)), Thing([1, 2])),
        (Thing("x"), Thing(["x"])),
        (Component("api", "degraded"), Component("api", "major_outage")),
        (StatusReport("operational", "ok"), StatusReport("operational", "ok", link="l")),
        (Thing(object()), Thing(object())),  # what it cannot look into is not the same
    ]
    for a, b in different:
        assert not _identical(a, b), (a, b)
    assert Thing(1) == Thing(1.0) and Thing(at) == Thing(paris)  # equal, yet not identical


async def test_large_answers_are_remembered_by_digest_and_cannot_be_mistaken(
    server: StatusServer,
) -> None:
    padding = b" " * (MEMO_BYTES + 1)
    large = OUTAGE.rstrip()[:-1] + padding + b"}"  # the same page, past MEMO_BYTES
    url = server.serve("/api/v2/summary.json", body=large)
    builds: list[Any] = []

    def build(data: Any) -> StatusReport:
        builds.append(data)
        return report_from(data, url)

    source = Source(name="github", url=url, timeout=2.0)
    async with httpx.AsyncClient() as client:
        first = await get_report(client, source, url, build)
        assert await get_report(client, source, url, build) is first and len(builds) == 1
        remembered = source.memo["answer"][2]
        assert remembered == ("blake2b", hashlib.blake2b(large, digest_size=20).digest())
        # An answer whose bytes are that digest is not the answer it is the digest of:
        # it is read (and refused), not taken for the page as it was.
        server.serve("/api/v2/summary.json", body=remembered[1])
        with pytest.raises(AdapterError, match="the answer is not"):
            await get_report(client, source, url, build)
        # A changed large answer is parsed again.
        server.serve("/api/v2/summary.json", body=large.replace(b"Git Operations", b"Git Ops", 1))
        changed = await get_report(client, source, url, build)
        assert len(builds) == 2 and changed.components[0].name == "Git Ops"


def test_shared_components_are_the_same_object_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(statuspage, "_COMPONENTS", {})
    monkeypatch.setattr(statuspage, "_MAX_COMPONENTS", 10)
    data = json.loads(OUTAGE)
    one, two = report_from(data, "u"), report_from(json.loads(OUTAGE), "u")
    assert one.components == two.components
    assert all(a is b for a, b in zip(one.components, two.components, strict=True))
    for n in range(50):  # pages sending ever new names: the cache never grows past its bound
        rows = [{"name": f"c{n}-{i}", "status": "operational"} for i in range(3)]
        [*_] = report_from({"components": rows}, "u").components
        assert len(statuspage._COMPONENTS) <= 10
    again = report_from({"components": [{"name": "c49-0", "status": "operational"}]}, "u")
    assert again.components == (Component("c49-0", "operational", ""),)


async def test_the_store_writes_each_report_as_it_is_made_once_per_object(
    store_location: str,
) -> None:
    first = {"level": "operational", "components": [{"name": "api"}], "at": NOW}
    second = {"level": "degraded", "components": [{"name": "api"}], "at": NOW}

    def outcome(report: dict[str, Any], hours: int) -> Outcome:
        at = NOW + timedelta(hours=hours)
        return Outcome("github", at, at + timedelta(hours=1), level=str(report["level"]),
                       summary="s", report=report, validators={"etag": "e"})  # fmt: skip

    async with await Store.open(store_location) as store:
        stored = []
        for hours, report in enumerate((first, first, second, first)):
            await store.statuses.record([outcome(report, hours)])
            state = await store.statuses.get("github")
            assert state is not None
            stored.append((state.level, state.report, state.validators))
        history = await store.statuses.history("github", NOW - timedelta(days=1))
    as_stored = json.loads(json.dumps(first, default=str))
    assert stored == [
        ("operational", as_stored, {"etag": "e"}),
        ("operational", as_stored, {"etag": "e"}),
        ("degraded", json.loads(json.dumps(second, default=str)), {"etag": "e"}),
        ("operational", as_stored, {"etag": "e"}),
    ]
    assert [change.level for change in history] == ["operational", "degraded", "operational"]
