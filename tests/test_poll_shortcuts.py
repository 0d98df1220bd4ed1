"""The poller's shortcuts (bench.poll, README "Performance") give what the slow ways gave:
`report_data` is `dataclasses.asdict` without the deep copy, and `text` collapses space
with str.split instead of a regular expression."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import UTC, datetime
from pathlib import Path

from opsdesk.console.ops.poller import report_data
from opsdesk.plugins.api import Alert, Incident, StatusReport, text
from opsdesk.plugins.statuspage import report_from
from tests.conftest import ROOT

SUMMARY = ROOT / "tests/fixtures/status/statuspage/github_summary_2020-04-02_major_incident.json"


def test_report_data_is_asdict() -> None:
    reports = [
        report_from(json.loads(Path(SUMMARY).read_bytes()), "https://www.githubstatus.com"),
        StatusReport(
            "major_outage", "down",
            incidents=(Incident("API down", started=datetime(2026, 11, 1, tzinfo=UTC)),),
            alerts=(Alert("f1", "HighLatency", "degraded", labels={"service": "api"}),),
        ),
    ]  # fmt: skip
    for report in reports:
        data = report_data(report)
        assert data == dataclasses.asdict(report)
        assert json.dumps(data, default=str) == json.dumps(dataclasses.asdict(report), default=str)
    changed = dataclasses.replace(reports[1], summary="up")
    assert report_data(changed) != report_data(reports[1])  # it does look at the values


def _regex_text(value: object, limit: int) -> str:
    """`text` as it was: two regular expressions."""
    if not isinstance(value, str):
        return ""
    value = re.sub(r"<[^>]{0,200}>", " ", value)
    return re.sub(r"\s+", " ", value).strip()[:limit]


def test_text_collapses_space_as_the_regular_expression_did() -> None:
    alphabet = "ab <>/\t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2003\u200b\u2028\u3000z"
    draw = random.Random(15)
    for _ in range(20_000):
        value = "".join(draw.choice(alphabet) for _ in range(draw.randint(0, 24)))
        for limit in (3, 500):
            assert text(value, limit) == _regex_text(value, limit), repr(value)
    assert text(" <b>Major</b>\u00a0outage\n", 100) == "Major outage"
    assert text(None) == ""
