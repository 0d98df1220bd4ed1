"""Hypothesis feeds every adapter's parser malformed, mistyped, missing and unknown
values: the answer is always a report or one clean AdapterError, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from opsdesk.plugins import alertmanager, prometheus, rss, slack, statuspage
from opsdesk.plugins.alertmanager import AlertmanagerOptions
from opsdesk.plugins.api import LEVELS, AdapterError, StatusReport

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=40,
)
KEYS = ["status", "indicator", "description", "components", "incidents", "group", "group_id",
        "name", "scheduled_maintenances", "incident_updates", "labels", "annotations",
        "fingerprint", "startsAt", "data", "alerts", "state", "active_incidents", "notes",
        "type", "title", "date_created", "severity", "page", "url"]  # fmt: skip
shaped = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=8)
    ),
    max_leaves=60,
)


def check(call: Any) -> None:
    try:
        report = call()
    except AdapterError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(report, StatusReport) and report.level in LEVELS


@settings(max_examples=300, deadline=None)
@given(json_values | shaped)
@example({"components": [{"name": "a", "group_id": [1]}, {"id": [2], "group": True}]})
@example({"status": {"indicator": ["none"]}, "incidents": [{"incident_updates": [None]}]})
@example([{"labels": {"alertname": 3, "severity": None}, "status": "x", "annotations": []}])
@example({"status": "success", "data": {"alerts": [{"labels": [], "activeAt": 5}]}})
@example({"status": "ok", "active_incidents": [{"notes": [{"date_created": {}}], "type": 1}]})
def test_json_adapters_never_crash(data: Any) -> None:
    options = AlertmanagerOptions()
    check(lambda: statuspage.report_from(data, "https://s.example"))
    check(lambda: alertmanager.report_from(data, options, "http://am.example"))
    check(lambda: prometheus.report_from(data, options, "http://prom.example"))
    check(lambda: slack.report_from(data, "https://slack.example"))


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000)
    | st.text(max_size=500).map(
        lambda t: f"<rss><channel><item>{t}</item></channel></rss>".encode()
    )
)
def test_feeds_never_crash(body: bytes) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    check(lambda: rss.report_from(rss.entries(body), now, timedelta(hours=6), "https://f.example"))
