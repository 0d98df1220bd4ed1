"""Prometheus Alertmanager (API v2 `/api/v2/alerts`): firing alerts, filtered by label
matchers and receiver; active vs silenced/inhibited; level from a severity label.

With `open_incidents = true` the poller opens (or dedupes into, by fingerprint) a queue
incident for each firing alert, on the service its `service_label` names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the poller, not by config checks
    import httpx

from opsdesk.plugins.api import (
    LEVELS,
    Adapter,
    Alert,
    Component,
    Level,
    Source,
    StatusReport,
    as_dict,
    as_list,
    get_json,
    parse_time,
    text,
    worst,
)

DEFAULT_SEVERITIES: dict[str, str] = {
    "critical": "major_outage",
    "page": "major_outage",
    "error": "partial_outage",
    "major": "partial_outage",
    "warning": "degraded",
    "minor": "degraded",
    "info": "operational",
    "none": "operational",
}


@dataclass
class AlertmanagerOptions:
    matchers: list[str] = field(default_factory=list)
    """Label matchers as Alertmanager writes them, e.g. 'team="payments"'."""
    receiver: str = ""
    """Only alerts routed to receivers matching this regular expression."""
    include_silenced: bool = False
    severity_label: str = "severity"
    severities: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    unknown_severity: str = "degraded"
    service_label: str = "service"
    open_incidents: bool = False
    auto_resolve: bool = False


def alerts_url(url: str, path: str) -> str:
    """The API address whether config names the server or the endpoint itself."""
    url = url.strip().rstrip("/")
    return url if url.endswith(path) else url + path


def base_url(url: str, path: str) -> str:
    url = url.strip().rstrip("/")
    return url.removesuffix(path)


def level_of(severity: str, options: Any) -> Level:
    mapped = options.severities.get(severity.lower(), options.unknown_severity)
    return mapped if mapped in LEVELS else "unknown"


class AlertmanagerAdapter(Adapter):
    name = "alertmanager"
    description = "Prometheus Alertmanager API v2 (/api/v2/alerts)"
    Options = AlertmanagerOptions

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        options = source.options
        params: list[tuple[str, str]] = [
            ("active", "true"),
            ("silenced", str(options.include_silenced).lower()),
            ("inhibited", str(options.include_silenced).lower()),
        ]
        params += [("filter", matcher) for matcher in options.matchers]
        if options.receiver:
            params.append(("receiver", options.receiver))
        data = await get_json(client, source, alerts_url(source.url, "/api/v2/alerts"), params)
        return report_from(data, options, source.url)


def report_from(data: Any, options: Any, url: str) -> StatusReport:
    alerts = []
    for row in map(as_dict, as_list(data)):
        status = as_dict(row.get("status"))
        suppressed = status.get("state") == "suppressed" or bool(
            as_list(status.get("silencedBy")) or as_list(status.get("inhibitedBy"))
        )
        alerts.append(alert_from(row, options, "startsAt", suppressed))
    return summarize(alerts, base_url(url, "/api/v2/alerts"))


def alert_from(row: dict[str, Any], options: Any, started_key: str, suppressed: bool) -> Alert:
    """One alert from Alertmanager's or Prometheus's JSON (they share labels and
    annotations); Prometheus has no fingerprint, so one is made from the labels."""
    labels = {str(k)[:200]: text(v, 500) for k, v in as_dict(row.get("labels")).items()}
    annotations = as_dict(row.get("annotations"))
    severity = labels.get(options.severity_label, "")
    return Alert(
        fingerprint=text(row.get("fingerprint"), 64) or fingerprint_of(labels),
        name=labels.get("alertname", "") or "alert",
        level=level_of(severity, options),
        severity=severity,
        summary=text(annotations.get("summary"))
        or text(annotations.get("description"))
        or text(annotations.get("message")),
        started=parse_time(row.get(started_key)),
        labels=labels,
        suppressed=suppressed,
    )


def summarize(alerts: list[Alert], link: str) -> StatusReport:
    firing = [a for a in alerts if not a.suppressed]
    level = worst(a.level for a in firing) if firing else "operational"
    by_severity: dict[str, int] = {}
    for alert in firing:
        key = alert.severity or "no severity"
        by_severity[key] = by_severity.get(key, 0) + 1
    detail = ", ".join(f"{n} {sev}" for sev, n in sorted(by_severity.items()))
    summary = f"{len(firing)} firing" + (f" ({detail})" if detail else "")
    if len(alerts) > len(firing):
        summary += f", {len(alerts) - len(firing)} silenced or inhibited"
    components = tuple(
        Component(
            name=a.name + (f" ({a.labels['instance']})" if a.labels.get("instance") else ""),
            level=a.level,
            group=a.labels.get("service", ""),
        )
        for a in firing
    )
    return StatusReport(level, summary, components=components, alerts=tuple(alerts), link=link)


def fingerprint_of(labels: dict[str, str]) -> str:
    """A stable 16-hex id from the label set (as Alertmanager's own fingerprint is)."""
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
