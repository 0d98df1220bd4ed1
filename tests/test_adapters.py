"""Built-in status adapters on real recorded payloads, served over real HTTP on
127.0.0.1, and the transport failures every adapter must turn into one clear error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from opsdesk.plugins.alertmanager import AlertmanagerAdapter, AlertmanagerOptions
from opsdesk.plugins.api import AdapterError, NotModified, Source, StatusReport
from opsdesk.plugins.http import HttpAdapter, HttpOptions
from opsdesk.plugins.prometheus import PrometheusAdapter
from opsdesk.plugins.registry import discover
from opsdesk.plugins.rss import RssAdapter, RssOptions
from opsdesk.plugins.slack import SlackAdapter
from opsdesk.plugins.statuspage import StatuspageAdapter
from tests.status_server import StatusServer


async def fetch(adapter: Any, url: str, options: Any = None, **source: Any) -> StatusReport:
    options = options if options is not None else adapter.Options()
    async with httpx.AsyncClient(max_redirects=3) as client:
        return await adapter.fetch(client, Source("test", url, options, **source))


def test_the_built_ins_register_through_entry_points() -> None:
    plugins = discover()
    for name in ("statuspage", "alertmanager", "prometheus", "http", "rss", "slack"):
        assert plugins[name].origin == "built-in" and plugins[name].adapter is not None


async def test_statuspage_major_incident_from_the_page_address(server: StatusServer) -> None:
    server.serve("/api/v2/summary.json", "statuspage/github_summary_2020-04-02_major_incident.json")
    report = await fetch(StatuspageAdapter(), server.base)  # the page, not the API path
    assert (report.level, report.summary) == ("partial_outage", "Partial System Outage")
    [incident] = report.incidents
    assert (incident.impact, incident.status) == ("major", "investigating")
    assert incident.last_update and incident.link.startswith("http")
    assert len(report.components) == 9 and report.link == "https://www.githubstatus.com"


async def test_statuspage_groups_maintenances_and_a_missing_group(server: StatusServer) -> None:
    url = server.serve("/a.json", "statuspage/instructure_summary_2021-12_groups_incident.json")
    report = await fetch(StatuspageAdapter(), url)
    assert report.level == "degraded"
    assert len({c.group for c in report.components}) == 3  # children carry their group's name
    assert all(c.name for c in report.components) and len(report.components) == 21
    url = server.serve("/b.json", "statuspage/htx_summary_2020-02_incident_and_maintenance.json")
    [maintenance] = (await fetch(StatuspageAdapter(), url)).maintenances
    assert maintenance.start == datetime(2020, 2, 15, tzinfo=UTC)
    url = server.serve("/c.json", "statuspage/discord_summary_2022-02_trimmed_localtz.json")
    assert (await fetch(StatuspageAdapter(), url)).level in ("operational", "degraded")


async def test_alertmanager_active_alert_and_query_filters(server: StatusServer) -> None:
    url = server.serve("/api/v2/alerts", "alertmanager/aws_amp_api_v2_alerts_single_active.json")
    options = AlertmanagerOptions(matchers=['team="payments"'], receiver="ops")
    report = await fetch(AlertmanagerAdapter(), server.base, options)
    [alert] = report.alerts
    assert (alert.fingerprint, alert.name, alert.suppressed) == (
        "114212a24ca97549", "metric:alerting_rule", False,
    )  # fmt: skip
    assert report.level == "degraded"  # no severity label: the unknown_severity option
    assert "filter=team%3D%22payments%22" in server.requests[-1]
    assert "receiver=ops" in server.requests[-1] and url.endswith("/api/v2/alerts")


async def test_alertmanager_unicode_annotations(server: StatusServer) -> None:
    server.serve(
        "/api/v2/alerts", "alertmanager/k8s_api_v2_alerts_unicode_annotations_linewrapped.json"
    )
    report = await fetch(AlertmanagerAdapter(), server.base)
    assert report.alerts and all(a.summary for a in report.alerts)


async def test_prometheus_firing_and_pending(server: StatusServer) -> None:
    server.serve("/api/v1/alerts", "prometheus/openshift_api_v1_alerts_firing_pending_2019-11.json")
    report = await fetch(PrometheusAdapter(), server.base)
    pending = [a for a in report.alerts if a.suppressed]
    firing = [a for a in report.alerts if not a.suppressed]
    assert [a.name for a in pending] == ["ClusterSchedulableMemoryLow"]
    assert {a.name for a in firing} == {"ESNotReady", "DeadMansSwitch"}
    assert report.level == "degraded"  # warning; "none" severity is operational
    assert report.summary.startswith("2 firing")
    assert len({a.fingerprint for a in report.alerts}) == 3


async def test_prometheus_error_envelope(server: StatusServer) -> None:
    server.serve("/api/v1/alerts", body=b'{"status":"error","error":"bad query"}')
    with pytest.raises(AdapterError, match="bad query"):
        await fetch(PrometheusAdapter(), server.base)


async def test_rss_aws_feed_on_the_day_and_an_empty_feed(server: StatusServer) -> None:
    url = server.serve("/all.rss", "rss/aws_status_all_rss_2021-12-27.xml", content_type="text/xml")
    day = datetime(2021, 12, 24, 20, 0, tzinfo=UTC)
    report = await fetch(RssAdapter(), url, RssOptions(recent_hours=24), now=day)
    assert report.level == "operational"  # the only recent entry says [RESOLVED]
    empty = server.serve(
        "/empty.rss", "rss/aws_status_all_rss_2023-02-16_empty_channel_no_xml_decl.xml"
    )
    assert (await fetch(RssAdapter(), empty)).level == "operational"
    atom = server.serve(
        "/history.atom",
        body=b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Elevated errors on API'
        b"</title><updated>2021-12-24T19:00:00Z</updated><summary>Investigating</summary>"
        b'<link href="https://status.example/i/1"/></entry></feed>',
    )
    report = await fetch(RssAdapter(), atom, now=day)
    assert report.level == "degraded" and report.incidents[0].link == "https://status.example/i/1"


async def test_slack_active_incident_and_ok(server: StatusServer) -> None:
    url = server.serve(
        "/api/v2.0.0/current", "slack/slack_current_2023-09-26_active_escaped_slashes.json"
    )
    report = await fetch(SlackAdapter(), server.base)
    [incident] = report.incidents
    assert report.level == "partial_outage" and incident.last_update == "sample note 2"
    assert incident.link == "https://status.slack.com/2023-09/badc5543a21e1fa7"
    server.serve("/api/v2.0.0/current", "slack/slack_current_docs_ok.json")
    assert (await fetch(SlackAdapter(), url)).level == "operational"
    server.serve("/api/v2.0.0/current", "slack/slack_current_docs_active_example_INVALID_JSON.txt")
    with pytest.raises(AdapterError, match="not JSON"):
        await fetch(SlackAdapter(), url)


async def test_http_check_status_body_json_and_latency(server: StatusServer) -> None:
    url = server.serve("/health", body=b'{"status": {"db": "ok"}}')
    assert (await fetch(HttpAdapter(), url)).level == "operational"
    options = HttpOptions(json_field="status.db", json_value="ok", body_contains="db")
    assert (await fetch(HttpAdapter(), url, options)).level == "operational"
    options = HttpOptions(json_field="status.db", json_value="up")
    report = await fetch(HttpAdapter(), url, options)
    assert report.level == "major_outage" and "'ok'" in report.summary
    down = server.serve("/down", body=b"oops", status=503)
    assert (await fetch(HttpAdapter(), down)).summary.startswith("HTTP 503")
    assert (await fetch(HttpAdapter(), down, HttpOptions(expect_status=[503]))).level == (
        "operational"
    )
    slow = server.serve("/slow", body=b"ok", delay=0.3)
    report = await fetch(HttpAdapter(), slow, HttpOptions(degraded_after_ms=100))
    assert report.level == "degraded" and "slow" in report.summary


async def test_conditional_requests_say_not_modified(server: StatusServer) -> None:
    url = server.serve("/s.json", "statuspage/github_summary_2019-12-30_operational.json",
                       etag='W/"abc"')  # fmt: skip
    source = Source("gh", url)
    async with httpx.AsyncClient() as client:
        first = await StatuspageAdapter().fetch(client, source)
        assert first.level == "operational" and source.validators["etag"] == 'W/"abc"'
        with pytest.raises(NotModified):
            await StatuspageAdapter().fetch(client, source)


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"status": 500, "body": b"boom"}, "HTTP 500"),
        ({"body": b"x" * 5000}, "larger than 1,000 bytes"),
        ({"delay": 1.5, "body": b"{}"}, "no answer within 0.5 s"),
        ({"status": 302, "location": "/loop"}, "too many redirects"),
        ({"body": b"<html>not json</html>"}, "not JSON"),
    ],
)
async def test_transport_failures_are_one_line_errors(
    server: StatusServer, route: dict[str, Any], expected: str
) -> None:
    url = server.serve("/loop", **route)
    with pytest.raises(AdapterError, match=expected) as caught:
        await fetch(StatuspageAdapter(), url + "?x=.json", timeout=0.5, max_body=1000)
    assert "\n" not in str(caught.value)


async def test_nothing_listening_is_a_clear_error() -> None:
    with pytest.raises(AdapterError, match="cannot reach it"):
        await fetch(StatuspageAdapter(), "http://127.0.0.1:9/api/v2/summary.json")


def test_file_plugins_load_and_broken_ones_are_listed_not_raised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "teapot.py"
    good.write_text(
        "from opsdesk.plugins.api import Adapter, StatusReport\n"
        "__version__ = '1.2'\n"
        "class Teapot(Adapter):\n"
        "    name = 'teapot'\n"
        "    async def fetch(self, client, source):\n"
        "        return StatusReport('operational', 'short and stout')\n"
    )
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('half-written plugin')\n")
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    clash = tmp_path / "clash.py"
    clash.write_text(good.read_text().replace("Teapot", "Other").replace("'teapot'", "'http'"))
    plugins = discover([good, broken, empty, clash, tmp_path / "missing.py"])
    assert plugins["teapot"].adapter is not None and plugins["teapot"].version == "1.2"
    assert plugins["teapot"].origin == f"file {good}"
    assert plugins["broken"].error == "RuntimeError: half-written plugin"
    assert plugins["empty"].error == "defines no Adapter subclass"
    assert "already taken by built-in" in plugins[f"http (file {clash})"].error
    assert plugins["http"].origin == "built-in"
    assert "missing" in plugins and plugins["missing"].adapter is None


def test_plugins_new_writes_a_package_whose_own_test_passes(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    from opsdesk.console.cli import run

    assert run(["plugins", "new", "billing_health", "--dir", str(tmp_path)]) == 0
    package = tmp_path / "opsdesk-billing-health"
    pyproject = (package / "pyproject.toml").read_text()
    assert 'billing_health = "opsdesk_billing_health.adapter:BillingHealthAdapter"' in pyproject
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=package, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    capsys.readouterr()
    assert run(["plugins", "new", "billing_health", "--dir", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert run(["plugins", "new", "Bad-Name", "--dir", str(tmp_path)]) == 2


def test_plugins_list_needs_no_store_and_shows_broken_file_plugins(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from opsdesk.console.cli import run

    broken = tmp_path / "broken.py"
    broken.write_text("import nonexistent_module_for_opsdesk\n")
    config = tmp_path / "team.toml"
    config.write_text(f'[plugins]\nfiles = ["{broken}"]\n')
    assert run(["--config", str(config), "plugins", "list", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["statuspage"]["origin"] == "built-in" and listed["statuspage"]["error"] is None
    assert listed["broken"]["error"].startswith("ModuleNotFoundError")
    assert (listed["email"]["kind"], listed["email"]["error"]) == ("notifier", None)
    assert listed["statuspage"]["kind"] == "status"
