"""Prometheus (`/api/v1/alerts`): firing and pending alerts from alerting rules, mapped to
levels by a severity label like the Alertmanager adapter. Pending alerts are listed but
do not set the level (they have not fired yet)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from opsdesk.plugins.alertmanager import (
    AlertmanagerOptions,
    alerts_url,
    base_url,
    fingerprint_of,
    level_of,
    summarize,
)
from opsdesk.plugins.api import (
    Adapter,
    AdapterError,
    Alert,
    Source,
    StatusReport,
    as_dict,
    as_list,
    get_json,
    parse_time,
    text,
)


class PrometheusAdapter(Adapter):
    name = "prometheus"
    description = "Prometheus alerting rules (/api/v1/alerts)"
    Options = AlertmanagerOptions

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        data = await get_json(client, source, alerts_url(source.url, "/api/v1/alerts"))
        return report_from(data, source.options, source.url)


def report_from(data: Any, options: Any, url: str) -> StatusReport:
    envelope = as_dict(data)
    if envelope.get("status") != "success":
        reason = text(envelope.get("error"), 200) or "no success status"
        raise AdapterError(f"Prometheus answered an error: {reason}")
    alerts = []
    for row in map(as_dict, as_list(as_dict(envelope.get("data")).get("alerts"))):
        labels = {str(k)[:200]: text(v, 500) for k, v in as_dict(row.get("labels")).items()}
        annotations = as_dict(row.get("annotations"))
        severity = labels.get(options.severity_label, "")
        alert = Alert(
            fingerprint=fingerprint_of(labels),
            name=labels.get("alertname", "") or "alert",
            level=level_of(severity, options),
            severity=severity,
            summary=text(annotations.get("summary"))
            or text(annotations.get("description"))
            or text(annotations.get("message")),
            started=parse_time(row.get("activeAt")),
            labels=labels,
        )
        # A pending alert has not fired: keep it visible, out of the level.
        alerts.append(replace(alert, suppressed=row.get("state") != "firing"))
    return summarize(alerts, base_url(url, "/api/v1/alerts"))
