"""Prometheus (`/api/v1/alerts`): firing and pending alerts from alerting rules, mapped to
levels by a severity label like the Alertmanager adapter. Pending alerts are listed but
do not set the level (they have not fired yet)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the poller, not by config checks
    import httpx

from opsdesk.plugins.alertmanager import (
    AlertmanagerOptions,
    alert_from,
    alerts_url,
    base_url,
    summarize,
)
from opsdesk.plugins.api import (
    Adapter,
    AdapterError,
    Source,
    StatusReport,
    as_dict,
    as_list,
    get_json,
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
    rows = map(as_dict, as_list(as_dict(envelope.get("data")).get("alerts")))
    # A pending alert has not fired: keep it visible, out of the level.
    alerts = [alert_from(row, options, "activeAt", row.get("state") != "firing") for row in rows]
    return summarize(alerts, base_url(url, "/api/v1/alerts"))
