"""Atlassian Statuspage (API v2 `summary.json`): page indicator, components with their
groups, unresolved incidents with the latest update, scheduled maintenances.

`url` may be the page (https://www.githubstatus.com) or any `.json` address of its API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the poller, not by config checks
    import httpx

from opsdesk.plugins.api import (
    Adapter,
    Component,
    Incident,
    Level,
    Maintenance,
    Source,
    StatusReport,
    as_dict,
    as_list,
    get_report,
    parse_time,
    text,
)

INDICATOR: dict[str, Level] = {
    "none": "operational",
    "minor": "degraded",
    "major": "partial_outage",
    "critical": "major_outage",
    "maintenance": "maintenance",
}
COMPONENT: dict[str, Level] = {
    "operational": "operational",
    "degraded_performance": "degraded",
    "partial_outage": "partial_outage",
    "major_outage": "major_outage",
    "under_maintenance": "maintenance",
}


def summary_url(url: str) -> str:
    url = url.strip()
    if url.endswith(".json"):
        return url
    return url.rstrip("/") + "/api/v2/summary.json"


def page_link(url: str) -> str:
    return url.split("/api/v2/")[0] if "/api/v2/" in url else url.rstrip("/")


class StatuspageAdapter(Adapter):
    name = "statuspage"
    description = "Atlassian Statuspage v2 (summary.json)"

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        url = summary_url(source.url)
        return await get_report(client, source, url, lambda data: report_from(data, source.url))


def report_from(data: Any, url: str) -> StatusReport:
    data = as_dict(data)
    status = as_dict(data.get("status"))
    indicator = status.get("indicator")
    level: Level = INDICATOR.get(indicator, "unknown") if isinstance(indicator, str) else "unknown"
    rows = [as_dict(c) for c in as_list(data.get("components"))]
    groups = {str(c.get("id")): text(c.get("name"), 200) for c in rows if c.get("group") is True}
    components = tuple(
        _component(
            text(row.get("name"), 200),
            COMPONENT.get(str(row.get("status")), "unknown"),
            groups.get(str(row.get("group_id")), "") if row.get("group_id") else "",
        )
        for row in rows
        if row.get("group") is not True
    )
    incidents = tuple(_incident(as_dict(i)) for i in as_list(data.get("incidents")))
    maintenances = tuple(
        Maintenance(
            title=text(m.get("name"), 300),
            start=parse_time(m.get("scheduled_for")),
            end=parse_time(m.get("scheduled_until")),
            status=text(m.get("status"), 40),
        )
        for m in map(as_dict, as_list(data.get("scheduled_maintenances")))
    )
    page = as_dict(data.get("page"))
    link = page.get("url") if isinstance(page.get("url"), str) else page_link(url)
    summary = text(status.get("description"), 200) or level.replace("_", " ")
    return StatusReport(level, summary, components, incidents, maintenances, link=text(link, 500))


_COMPONENTS: dict[tuple[str, Level, str], Component] = {}
_MAX_COMPONENTS = 4096


def _component(name: str, level: Level, group: str) -> Component:
    """The Component with these fields, one shared object for each (a component is
    frozen): the same few hundred come back in every poll of every page, and a lookup
    costs a third of building one; and the poller, comparing a new report with the last
    (`get_report`), finds shared components the same without looking inside them."""
    key = (name, level, group)
    found = _COMPONENTS.get(key)
    if found is None:
        if len(_COMPONENTS) >= _MAX_COMPONENTS:  # bounded, whatever the pages send
            _COMPONENTS.clear()
        found = _COMPONENTS[key] = Component(name=name, level=level, group=group)
    return found


def _incident(row: dict[str, Any]) -> Incident:
    updates = [as_dict(u) for u in as_list(row.get("incident_updates"))]
    return Incident(
        title=text(row.get("name"), 300),
        impact=text(row.get("impact"), 40),
        status=text(row.get("status"), 40),
        started=parse_time(row.get("started_at")) or parse_time(row.get("created_at")),
        last_update=text(updates[0].get("body")) if updates else "",
        link=text(row.get("shortlink"), 500),
    )
