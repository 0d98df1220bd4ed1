"""Alert payloads pushed to the receiver, parsed into InboundAlert records: the real
Alertmanager, Grafana and PagerDuty samples of tests/fixtures/inbound/ (see its README),
the generic webhook's dotted paths, hostile text and shapes, and a fuzz test per kind."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsdesk.console.config.model import Integration, WebhookFields
from opsdesk.console.domain.inbound import (
    InboundAlert,
    InboundError,
    fingerprint_of,
    json_depth_ok,
    parse_alerts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "inbound"
AM = Integration(name="am", kind="alertmanager", service="payments")
GRAFANA = Integration(name="grafana", kind="grafana", service="payments")
PD = Integration(name="pd", kind="pagerduty", service="payments")


def sample(name: str) -> Any:
    with (FIXTURES / f"{name}.json").open(encoding="utf-8") as f:
        return json.load(f)["payload"]


def am_alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "severity": "error"},
        "annotations": {},
        "fingerprint": "0123456789abcdef",
    }
    alert.update(fields)
    return alert


def one(integration: Integration, payload: Any) -> InboundAlert:
    alerts = parse_alerts(integration, payload)
    assert len(alerts) == 1
    return alerts[0]


# -- Alertmanager ------------------------------------------------------------------------


def test_alertmanager_sample_firing_and_resolved() -> None:
    firing, resolved = parse_alerts(AM, sample("alertmanager-webhook-v4"))
    assert firing == InboundAlert(
        dedup_key="f404ecabc8dd5cd7",
        action="trigger",
        title="Instance localhost:8081 down",
        description=(
            "Instance localhost:8081 down\n"
            "localhost:8081 of job node has been down for more than 1 minute.\n\n"
            "alertname=InstanceDown\ninstance=localhost:8081\njob=node\nseverity=critical"
        ),
        severity="critical",
        priority="P1",
        service=None,
        labels={
            "alertname": "InstanceDown",
            "instance": "localhost:8081",
            "job": "node",
            "severity": "critical",
        },
        started=datetime(2023, 6, 12, 8, 24, 38, 326000, tzinfo=UTC),
        url="http://prometheus:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
    )
    assert resolved.dedup_key == "f8f08d4e32c61a9d"
    assert resolved.action == "resolve"
    assert resolved.title == "Instance localhost:8082 down"
    assert (resolved.severity, resolved.priority) == ("critical", "P1")
    assert resolved.started == datetime(2023, 6, 12, 8, 20, 38, 326000, tzinfo=UTC)


def test_alertmanager_title_falls_back_to_alertname_then_key() -> None:
    assert one(AM, {"alerts": [am_alert()]}).title == "DiskFull"
    blank = am_alert(annotations={"summary": "  "})
    assert one(AM, {"alerts": [blank]}).title == "DiskFull"
    nameless = am_alert(labels={}, annotations={})
    assert one(AM, {"alerts": [nameless]}).title == "alert 0123456789abcdef"


def test_alertmanager_without_fingerprint_hashes_sorted_labels() -> None:
    labels = {"job": "node", "alertname": "InstanceDown", "instance": "a:1"}
    alert, reordered = am_alert(labels=labels), am_alert(labels=dict(reversed(labels.items())))
    del alert["fingerprint"], reordered["fingerprint"]
    parsed = one(AM, {"alerts": [alert]})
    # The same id as the Alertmanager status plugin makes, so polled and pushed alerts meet.
    assert parsed.dedup_key == fingerprint_of(labels) == "a54d909acf5bd90a"
    assert one(AM, {"alerts": [reordered]}).dedup_key == "a54d909acf5bd90a"
    assert one(AM, {"alerts": [am_alert(fingerprint="")]}).dedup_key == fingerprint_of(
        {"alertname": "DiskFull", "severity": "error"}
    )
    assert one(AM, {"alerts": [am_alert(labels=labels)]}).dedup_key == "0123456789abcdef"


def test_alertmanager_severity_priority_and_service_labels() -> None:
    custom = Integration(
        name="am",
        kind="alertmanager",
        severity_label="level",
        service_label="app",
        severities={"sev1": "P1", "minor": "P4"},
        default_severity="minor",
    )
    alert = am_alert(labels={"alertname": "X", "level": "SEV1", "app": "checkout"})
    parsed = one(custom, {"alerts": [alert]})
    assert (parsed.severity, parsed.priority, parsed.service) == ("sev1", "P1", "checkout")
    unknown = one(custom, {"alerts": [am_alert(labels={"level": "Weird"})]})
    assert (unknown.severity, unknown.priority, unknown.service) == ("weird", "P4", None)
    missing = one(AM, {"alerts": [am_alert(labels={"alertname": "X"})]})
    assert (missing.severity, missing.priority) == ("warning", "P3")
    no_map = Integration(name="am", kind="alertmanager", severities={})
    assert one(no_map, {"alerts": [am_alert()]}).priority == "P3"
    assert one(AM, {"alerts": [am_alert(labels={"service": "db"})]}).service == "db"


def test_alertmanager_versions_and_empty() -> None:
    assert parse_alerts(AM, {"alerts": []}) == []
    assert parse_alerts(AM, {"version": "4", "alerts": []}) == []
    assert parse_alerts(AM, {"version": "4.1", "alerts": []}) == []
    with pytest.raises(InboundError, match=r"^version: expected 4, got '5'$"):
        parse_alerts(AM, {"version": "5", "alerts": []})
    with pytest.raises(InboundError, match=r"^version: expected 4, got '1'$"):
        parse_alerts(AM, sample("grafana-alerting-webhook"))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "body: expected an object"),
        ("alerts", "body: expected an object"),
        ({}, "alerts: expected a list"),
        ({"alerts": {"0": {}}}, "alerts: expected a list"),
        ({"alerts": [am_alert(), "x", am_alert()]}, "alerts[1]: expected an object"),
        (
            {"alerts": [am_alert(), am_alert(status="pending")]},
            "alerts[1].status: expected firing or resolved",
        ),
        ({"alerts": [am_alert(status=None)]}, "alerts[0].status: expected firing or resolved"),
        (
            {"alerts": [am_alert(), am_alert(), am_alert(labels=[])]},
            "alerts[2].labels: expected an object",
        ),
        ({"alerts": [am_alert(labels={"a": 1})]}, "alerts[0].labels.a: expected a string"),
        (
            {"alerts": [am_alert(annotations={"x": None})]},
            "alerts[0].annotations.x: expected a string",
        ),
        ({"alerts": [am_alert(annotations="x")]}, "alerts[0].annotations: expected an object"),
        ({"alerts": [am_alert(fingerprint=12)]}, "alerts[0].fingerprint: expected a string"),
        (
            {"alerts": [am_alert(fingerprint="f" * 256)]},
            "alerts[0].fingerprint: longer than 255 characters",
        ),
        ({"version": True, "alerts": []}, "version: expected text"),
        ({"alerts": [am_alert()] * 1001}, "alerts: more than 1000 alerts"),
    ],
)
def test_alertmanager_refuses_bad_shapes(payload: Any, message: str) -> None:
    with pytest.raises(InboundError) as caught:
        parse_alerts(AM, payload)
    assert str(caught.value) == message


def test_alertmanager_odd_optional_fields_are_ignored() -> None:
    alert = am_alert(
        startsAt="0001-01-01T00:00:00Z",
        generatorURL="javascript:alert(1)",
        labels=None,
        extra={"anything": [1, 2]},
    )
    parsed = one(AM, {"alerts": [alert]})
    assert (parsed.started, parsed.url, parsed.labels) == (None, None, {})
    for bad_time in ("yesterday", "2023-06-12T08:24:38", 17, None, "9999-12-31T23:59:59-05:00"):
        assert one(AM, {"alerts": [am_alert(startsAt=bad_time)]}).started is None
    nanos = one(AM, {"alerts": [am_alert(startsAt="2023-06-12T10:24:38.123456789+02:00")]})
    assert nanos.started == datetime(2023, 6, 12, 8, 24, 38, 123456, tzinfo=UTC)
    for bad_url in ("ftp://x", "http://a b", "http://x/\x1b[31m", "https://" + "a" * 3000):
        assert one(AM, {"alerts": [am_alert(generatorURL=bad_url)]}).url is None


def test_alertmanager_hostile_text_is_cleaned_and_capped() -> None:
    labels = {f"k{i:03}": "v" * 500 for i in range(100)}
    labels["alertname"] = "Evil\x1b]0;owned\x07\u202eName\nnext"
    labels["severity"] = "CRITICAL\x1b[2J"
    annotations = {
        "summary": "S" * 1000,
        "description": "line one\nline\x07 two\x1b[31m red\u200b",
        "many": "x" * 10_000,
    }
    parsed = one(AM, {"alerts": [am_alert(labels=labels, annotations=annotations)]})
    assert parsed.title == "S" * 299 + "…"
    assert (parsed.severity, parsed.priority) == ("critical", "P1")
    assert len(parsed.labels) == 64
    assert parsed.labels["alertname"] == "EvilName next"
    assert all(len(k) <= 200 and len(v) <= 200 for k, v in parsed.labels.items())
    assert len(parsed.description) <= 4000
    assert "line one\nline two red\n" in parsed.description
    text = parsed.title + parsed.description + "".join(parsed.labels.values())
    assert not any(c in text for c in "\x1b\x07\u202e\u200b")


# -- Grafana -----------------------------------------------------------------------------


def test_grafana_sample() -> None:
    parsed = one(GRAFANA, sample("grafana-alerting-webhook"))
    assert parsed.dedup_key == "c6eadffa33fcdf37"
    assert parsed.action == "trigger"
    assert parsed.title == "This alert was triggered for zone us-1"
    assert (parsed.severity, parsed.priority, parsed.service) == ("warning", "P3", None)
    assert parsed.started == datetime(
        2021, 10, 12, 9, 51, 3, 157076, tzinfo=timezone(timedelta(hours=2))
    )
    assert parsed.url == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert parsed.labels == {
        "alertname": "High memory usage",
        "grafana_folder": "Infra",
        "team": "blue",
        "zone": "us-1",
    }
    assert parsed.description == (
        "This alert was triggered for zone us-1\n"
        "The system has high memory usage\n"
        "runbook_url: https://myrunbook.com/runbook/1234\n"
        "values: [ var='B' labels={} value=44.23943737541908 ], [ var='C' labels={} value=1 ]\n\n"
        "alertname=High memory usage\ngrafana_folder=Infra\nteam=blue\nzone=us-1"
    )


def test_grafana_resolved_urls_and_versions() -> None:
    payload = copy.deepcopy(sample("grafana-alerting-webhook"))
    alert = payload["alerts"][0]
    alert.update(status="resolved", generatorURL="", panelURL="https://g/d/1?viewPanel=2")
    alert["labels"]["severity"] = "Critical"
    parsed = one(GRAFANA, payload)
    assert (parsed.action, parsed.url, parsed.priority) == (
        "resolve",
        "https://g/d/1?viewPanel=2",
        "P1",
    )
    alert["dashboardURL"] = "https://g/d/1"
    assert one(GRAFANA, payload).url == "https://g/d/1"
    del payload["version"]
    assert len(parse_alerts(GRAFANA, payload)) == 1
    with pytest.raises(InboundError, match="^version: expected 1, got '4'$"):
        parse_alerts(GRAFANA, sample("alertmanager-webhook-v4"))


# -- PagerDuty Events API v2 -------------------------------------------------------------


def test_pagerduty_trigger_sample() -> None:
    assert one(PD, sample("pagerduty-events-v2-enqueue-trigger")) == InboundAlert(
        dedup_key="srv01/mysql",
        action="trigger",
        title="DISK at 99% on machine prod-datapipe03.example.com",
        description=(
            "DISK at 99% on machine prod-datapipe03.example.com\n\n"
            "free space: 1%\nping time: 1500ms\nload avg: 0.75"
        ),
        severity="critical",
        priority="P1",
        service=None,
        labels={
            "class": "disk",
            "component": "mysql",
            "free space": "1%",
            "group": "prod-datapipe",
            "load avg": "0.75",
            "ping time": "1500ms",
            "source": "prod-datapipe03.example.com",
        },
        started=datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC),
        url="http://pagerduty.example.com",
    )
    by_component = Integration(name="pd", kind="pagerduty", service_label="component")
    assert one(by_component, sample("pagerduty-events-v2-enqueue-trigger")).service == "mysql"


def test_pagerduty_resolve_and_acknowledge() -> None:
    resolve = one(PD, sample("pagerduty-events-v2-enqueue-resolve"))
    assert (resolve.dedup_key, resolve.action) == ("srv01/mysql", "resolve")
    assert (resolve.title, resolve.severity, resolve.priority) == (
        "resolve srv01/mysql",
        "warning",
        "P3",
    )
    assert (resolve.labels, resolve.started, resolve.url) == ({}, None, None)
    ack = {"routing_key": "k", "event_action": "acknowledge", "dedup_key": "d1", "payload": 5}
    assert one(PD, ack).action == "acknowledge"


def test_pagerduty_change_event_is_refused() -> None:
    with pytest.raises(InboundError) as caught:
        parse_alerts(PD, sample("pagerduty-events-v2-change"))
    assert str(caught.value) == "event_action: expected trigger, acknowledge or resolve"


def test_pagerduty_trigger_without_dedup_key_and_details() -> None:
    event = copy.deepcopy(sample("pagerduty-events-v2-enqueue-trigger"))
    del event["dedup_key"], event["links"]
    event["payload"]["severity"] = "Warning"
    event["payload"]["summary"] = "x" * 2000
    event["payload"]["custom_details"] = {
        "service": "checkout",
        "nested": {"b": [1, 2], "a": True},
        "flag": False,
    }
    parsed = one(PD, event)
    assert parsed.dedup_key == ""  # the caller generates one
    assert (parsed.severity, parsed.priority, parsed.service) == ("warning", "P3", "checkout")
    assert parsed.title == "x" * 299 + "…"
    assert parsed.description.startswith("x" * 1023 + "…\n\n")
    assert parsed.description.endswith(
        'service: checkout\nnested: {"a":true,"b":[1,2]}\nflag: false'
    )
    assert "nested" not in parsed.labels and "flag" not in parsed.labels
    assert parsed.url == "https://monitoring.service.com"  # client_url, for want of links
    event["payload"]["custom_details"] = "free text\ndetails"
    assert one(PD, event).description.endswith("\n\nfree text\ndetails")


def pd_trigger(**payload: Any) -> dict[str, Any]:
    details = {"summary": "s", "source": "host", "severity": "info", **payload}
    return {"routing_key": "k", "event_action": "trigger", "payload": details}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"event_action": "change"}, "event_action: expected trigger, acknowledge or resolve"),
        ({"event_action": ["trigger"]}, "event_action: expected trigger, acknowledge or resolve"),
        ({"event_action": "resolve"}, "dedup_key: required for acknowledge and resolve"),
        (
            {"event_action": "acknowledge", "dedup_key": " "},
            "dedup_key: required for acknowledge and resolve",
        ),
        ({"event_action": "resolve", "dedup_key": 7}, "dedup_key: expected a string"),
        (
            {"event_action": "resolve", "dedup_key": "k" * 256},
            "dedup_key: longer than 255 characters",
        ),
        ({"event_action": "trigger"}, "payload: expected an object"),
        (pd_trigger(summary=None), "payload.summary: required"),
        (pd_trigger(summary=""), "payload.summary: required"),
        (pd_trigger(summary=["s"]), "payload.summary: expected a string"),
        (pd_trigger(source=None), "payload.source: required"),
        (pd_trigger(severity=None), "payload.severity: required"),
        (
            pd_trigger(severity="high"),
            "payload.severity: expected critical, error, warning or info",
        ),
        (pd_trigger(component=3), "payload.component: expected a string"),
        ([pd_trigger()], "body: expected an object"),
    ],
)
def test_pagerduty_refuses_bad_events(event: Any, message: str) -> None:
    with pytest.raises(InboundError) as caught:
        parse_alerts(PD, event)
    assert str(caught.value) == message


# -- Generic webhook ---------------------------------------------------------------------


HOOK = Integration(
    name="hook",
    kind="webhook",
    fields=WebhookFields(
        title="alert.name",
        dedup_key="alert.ids.0",
        description="alert.text",
        service="meta.app",
        severity="alert.level",
        resolved="state",
    ),
)


def hook_event(**top: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "alert": {"name": "Queue stuck", "ids": [4711, 1], "text": "Depth 900", "level": "ERROR"},
        "meta": {"app": "billing"},
        "state": "open",
        "host": "q1",
    }
    event.update(top)
    return event


def test_webhook_reads_dotted_paths() -> None:
    parsed = one(HOOK, hook_event())
    assert parsed == InboundAlert(
        dedup_key="4711",
        action="trigger",
        title="Queue stuck",
        description="Depth 900",
        severity="error",
        priority="P2",
        service="billing",
        labels={"host": "q1", "state": "open"},
        started=None,
        url=None,
    )


@pytest.mark.parametrize(
    ("state", "action"),
    [("RESOLVED", "resolve"), ("ok", "resolve"), (True, "resolve"), ("true", "resolve"),
     (False, "trigger"), ("firing", "trigger"), (None, "trigger"), (1, "trigger")],
)  # fmt: skip
def test_webhook_resolved_values(state: Any, action: str) -> None:
    assert one(HOOK, hook_event(state=state)).action == action
    custom = Integration(
        name="h",
        kind="webhook",
        fields=WebhookFields(resolved="done", resolved_values=["1", "Yes"]),
    )
    assert one(custom, {"title": "t", "id": "a", "done": 1}).action == "resolve"
    assert one(custom, {"title": "t", "id": "a", "done": "YES"}).action == "resolve"
    assert one(custom, {"title": "t", "id": "a", "done": True}).action == "trigger"


def test_webhook_defaults_array_and_structured_description() -> None:
    plain = Integration(name="h", kind="webhook", service_label="svc", default_severity="info")
    payload = [{"title": "a", "id": 1, "svc": "web"}, {"title": "b", "id": "x-2"}]
    first, second = parse_alerts(plain, payload)
    assert (first.dedup_key, first.title, first.service) == ("1", "a", "web")
    assert (first.severity, first.priority, first.action) == ("info", "P4", "trigger")
    assert (second.dedup_key, second.service, second.description) == ("x-2", None, "")
    assert parse_alerts(plain, []) == []
    structured = Integration(name="h", kind="webhook", fields=WebhookFields(description="d"))
    parsed = one(structured, {"title": "t", "id": "i", "d": {"z": 1, "a": ["x"]}})
    assert parsed.description == '{"a":["x"],"z":1}'
    missing = hook_event()
    del missing["meta"], missing["alert"]["level"], missing["alert"]["text"]
    parsed = one(HOOK, missing)
    assert (parsed.service, parsed.severity, parsed.description) == (None, "warning", "")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"alert": {"ids": [1]}}, "title: no value at path 'alert.name'"),
        (hook_event(alert={"name": "  ", "ids": [1]}), "title: no value at path 'alert.name'"),
        (hook_event(alert={"name": "n"}), "dedup_key: no value at path 'alert.ids.0'"),
        (hook_event(alert={"name": "n", "ids": []}), "dedup_key: no value at path 'alert.ids.0'"),
        (
            hook_event(alert={"name": "n", "ids": "0123"}),
            "dedup_key: no value at path 'alert.ids.0'",
        ),
        (
            hook_event(alert={"name": "n", "ids": ["\x1b[0m"]}),
            "dedup_key: no value at path 'alert.ids.0'",
        ),
        (
            hook_event(alert={"name": ["n"], "ids": [1]}),
            "title: expected text, a number or true/false at path 'alert.name'",
        ),
        (
            hook_event(state={"x": 1}),
            "resolved: expected text, a number or true/false at path 'state'",
        ),
        ([hook_event(), 5], "[1]: expected an object"),
        ([hook_event(), {}], "[1].title: no value at path 'alert.name'"),
        ("text", "body: expected a JSON object or array"),
        (None, "body: expected a JSON object or array"),
    ],
)
def test_webhook_refuses(payload: Any, message: str) -> None:
    with pytest.raises(InboundError) as caught:
        parse_alerts(HOOK, payload)
    assert str(caught.value) == message


def test_webhook_hostile_values() -> None:
    event = hook_event(alert={"name": "A\x1b]52;c;ZXZpbA==\x07B\nC", "ids": ["k\u202e1"]})
    event["meta"]["app"] = "bill\x00ing"
    event.update({f"f{i}": i for i in range(200)})
    parsed = one(HOOK, event)
    assert (parsed.title, parsed.dedup_key, parsed.service) == ("AB C", "k1", "billing")
    assert len(parsed.labels) == 64
    # JSON may carry lone surrogates, which UTF-8 (and so the store) cannot hold.
    lone = json.loads('{"title": "a\\ud800b", "id": "\\udc00", "x\\udfff": "y"}')
    parsed = one(Integration(name="h", kind="webhook"), lone)
    assert (parsed.title, parsed.dedup_key) == ("a\ufffdb", "\ufffd")
    assert parsed.labels["x\ufffd"] == "y"
    "".join([parsed.title, parsed.dedup_key, *parsed.labels]).encode("utf-8")


# -- Depth, and fuzzing every kind -------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_json_depth_ok_is_iterative() -> None:
    assert json_depth_ok(nested(10_000)) is False
    assert json_depth_ok(nested(32)) is True
    assert json_depth_ok(nested(33)) is False
    assert json_depth_ok({"a": {"b": [1, {"c": []}]}}, limit=5) is True
    assert json_depth_ok({"a": {"b": [1, {"c": []}]}}, limit=4) is False
    assert json_depth_ok("scalar", limit=0) is True
    wide = {"alerts": [[[]] for _ in range(10_000)]}
    assert json_depth_ok(wide, limit=4) is True
    assert json_depth_ok(wide, limit=3) is False


@pytest.mark.parametrize("integration", [AM, GRAFANA, PD, HOOK])
def test_deep_payloads_are_refused_not_recursed(integration: Integration) -> None:
    payload = {"alerts": [nested(10_000)], "payload": nested(10_000), "title": "t", "id": 1}
    with pytest.raises(InboundError, match="^body: nested deeper than 32 levels$"):
        parse_alerts(integration, payload)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["firing", "resolved", "trigger", "resolve", "acknowledge", "critical",
                       "4", "1", "http://x", "0001-01-01T00:00:00Z", "2023-06-12T08:24:38Z"])
)  # fmt: skip
KEYS = st.sampled_from(
    ["alerts", "status", "labels", "annotations", "fingerprint", "startsAt", "generatorURL",
     "version", "summary", "alertname", "severity", "service", "event_action", "dedup_key",
     "payload", "source", "component", "custom_details", "timestamp", "links", "href",
     "client_url", "title", "id", "alert", "name", "ids", "0", "text", "level", "state",
     "meta", "app", "dashboardURL", "valueString"]
) | st.text(max_size=8)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=8),
    max_leaves=50,
)


def mutated_samples() -> st.SearchStrategy[Any]:
    """A real sample with one value somewhere replaced by an arbitrary JSON value."""
    names = [p.stem for p in FIXTURES.glob("*.json")]

    def replace(base: Any, path: list[int], value: Any) -> Any:
        base = copy.deepcopy(base)
        node = base
        for step in path:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = keys[step % len(keys)]
            child = node[key]
            if not isinstance(child, dict | list) or not child:
                node[key] = value
                return base
            node = child
        return base

    return st.builds(
        replace,
        st.sampled_from(names).map(sample),
        st.lists(st.integers(min_value=0, max_value=50), max_size=5),
        json_values,
    )


@pytest.mark.parametrize("integration", [AM, GRAFANA, PD, HOOK], ids=lambda i: i.kind)
@settings(max_examples=300, deadline=None)
@given(payload=json_values | mutated_samples())
def test_fuzz_only_inbound_error(integration: Integration, payload: Any) -> None:
    try:
        alerts = parse_alerts(integration, payload)
    except InboundError as error:
        assert "\n" not in str(error) and ": " in str(error)
        return
    assert isinstance(alerts, list)
    for alert in alerts:
        assert isinstance(alert, InboundAlert)
        assert alert.action in ("trigger", "acknowledge", "resolve")
        assert len(alert.title) <= 300 and "\n" not in alert.title
        assert len(alert.description) <= 4000 and len(alert.labels) <= 64
        assert len(alert.dedup_key) <= 255
        assert alert.priority in ("P1", "P2", "P3", "P4")
        assert alert.started is None or alert.started.tzinfo is not None
        assert alert.url is None or alert.url.startswith(("http://", "https://"))
