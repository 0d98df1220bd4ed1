"""Slack's status API (`/api/v2.0.0/current`): "ok", or the active incidents, outages and
notices with their latest note."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the poller, not by config checks
    import httpx

from opsdesk.plugins.api import (
    Adapter,
    Incident,
    Level,
    Source,
    StatusReport,
    as_dict,
    as_list,
    get_report,
    parse_time,
    text,
    worst,
)

TYPES: dict[str, Level] = {
    "outage": "major_outage",
    "incident": "partial_outage",
    "notice": "degraded",
}
CURRENT = "/api/v2.0.0/current"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # sorts notes without a date last


class SlackAdapter(Adapter):
    name = "slack"
    description = "Slack status API v2 (/api/v2.0.0/current)"

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        url = source.url.rstrip("/")
        url = url if url.endswith(CURRENT) else url + CURRENT
        return await get_report(client, source, url, lambda data: report_from(data, source.url))


def report_from(data: Any, url: str) -> StatusReport:
    data = as_dict(data)
    incidents, levels = [], []
    for row in map(as_dict, as_list(data.get("active_incidents"))):
        kind, status = text(row.get("type"), 40), text(row.get("status"), 40)
        level: Level = "maintenance" if status == "scheduled" else TYPES.get(kind, "unknown")
        if status in ("resolved", "completed", "cancelled"):
            continue
        notes = sorted(
            (as_dict(n) for n in as_list(row.get("notes"))),
            key=lambda n: parse_time(n.get("date_created")) or EPOCH,
            reverse=True,
        )
        levels.append(level)
        incidents.append(
            Incident(
                title=text(row.get("title"), 300),
                impact=kind,
                status=status,
                started=parse_time(row.get("date_created")),
                last_update=text(notes[0].get("body")) if notes else "",
                link=text(row.get("url"), 500),
            )
        )
    status = data.get("status")
    if status == "ok" and not incidents:
        return StatusReport("operational", "all services operational", link=url)
    if not incidents:
        return StatusReport("unknown", f"status {text(status, 40)!r} with no incidents", link=url)
    level = worst(levels)
    summary = f"{len(incidents)} active: " + "; ".join(i.title for i in incidents)[:200]
    return StatusReport(level, summary, incidents=tuple(incidents), link=url)
