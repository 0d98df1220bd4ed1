"""RSS 2.0 and Atom status feeds (AWS Health Dashboard, Statuspage `history.atom`, Slack
`/feed/atom`): recent entries that are not marked resolved are the active incidents.

AWS prefixes titles with a state ("Service disruption: …", "Informational message:
[RESOLVED] …"); other feeds say "Resolved" in the title or not at all, so an entry counts
as active for `recent` (default 6h) unless it says it is resolved or operating normally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # httpx is loaded by the poller, not by config checks
    import httpx

from opsdesk.plugins.api import (
    Adapter,
    AdapterError,
    Incident,
    Level,
    Source,
    StatusReport,
    get_body,
    parse_time,
    text,
    worst,
)

ATOM = "{http://www.w3.org/2005/Atom}"
PREFIXES: tuple[tuple[str, Level], ...] = (
    ("service disruption", "partial_outage"),
    ("service is operating normally", "operational"),
    ("performance issues", "degraded"),
    ("informational message", "degraded"),
)
RESOLVED = ("[resolved]", "resolved:", "resolved -", "completed")
MAX_ENTRIES = 200


@dataclass
class RssOptions:
    recent_hours: float = 6.0
    """Entries older than this are history, not current trouble."""


@dataclass(frozen=True)
class Entry:
    title: str
    published: datetime | None
    description: str
    link: str


class RssAdapter(Adapter):
    name = "rss"
    description = "RSS 2.0 or Atom status feed (AWS, Statuspage history.atom, Slack)"
    Options = RssOptions

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        fetched = await get_body(client, source, source.url)
        recent = timedelta(hours=source.options.recent_hours)
        return report_from(entries(fetched.body), source.now, recent, source.url)


def entries(body: bytes) -> list[Entry]:
    import xml.etree.ElementTree as ET  # when a feed is read, not when config is checked

    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise AdapterError(f"not an RSS or Atom feed ({exc})"[:200]) from None
    if root.tag == f"{ATOM}feed":
        return [_atom(e) for e in root.findall(f"{ATOM}entry")[:MAX_ENTRIES]]
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise AdapterError(f"not an RSS or Atom feed (root element {root.tag[:40]!r})")
    return [_rss(item) for item in channel.findall("item")[:MAX_ENTRIES]]


def _rss(item: Any) -> Entry:
    return Entry(
        title=text(item.findtext("title"), 300),
        published=parse_time(item.findtext("pubDate")),
        description=text(item.findtext("description")),
        link=text(item.findtext("link"), 500),
    )


def _atom(entry: Any) -> Entry:
    link = entry.find(f"{ATOM}link")
    return Entry(
        title=text(entry.findtext(f"{ATOM}title"), 300),
        published=parse_time(entry.findtext(f"{ATOM}updated"))
        or parse_time(entry.findtext(f"{ATOM}published")),
        description=text(entry.findtext(f"{ATOM}summary") or entry.findtext(f"{ATOM}content")),
        link=text(link.get("href") if link is not None else "", 500),
    )


def level_of(title: str) -> Level:
    """What an entry title says about the service now; "operational" when it is over."""
    lowered = title.lower()
    if any(mark in lowered for mark in RESOLVED):
        return "operational"
    for prefix, level in PREFIXES:
        if lowered.startswith(prefix):
            return level
    return "degraded"


def report_from(found: list[Entry], now: datetime, recent: timedelta, url: str) -> StatusReport:
    active = [
        (entry, level_of(entry.title))
        for entry in found
        if entry.published is not None and now - recent <= entry.published <= now + recent
    ]
    active = [(entry, level) for entry, level in active if level != "operational"]
    level = worst(level for _, level in active) if active else "operational"
    incidents = tuple(
        Incident(
            title=entry.title,
            impact=level,
            status="active",
            started=entry.published,
            last_update=entry.description,
            link=entry.link,
        )
        for entry, level in active
    )
    hours = f"{recent.total_seconds() / 3600:g}h"
    summary = (
        f"{len(incidents)} active in the last {hours}"
        if incidents
        else f"nothing in the last {hours}"
    )
    return StatusReport(level, summary, incidents=incidents, link=url)
