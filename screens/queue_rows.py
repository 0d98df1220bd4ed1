"""The queue's rows: windows of incidents straight from the store, never all of them.

A window deep in a long list is fetched from the other end (the order turned round), so
jumping to the last of a million rows costs what the first page costs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from opsdesk.screens.cells import age, cell, priority, sla_cell
from opsdesk.screens.table import Row
from opsdesk.store import Store
from opsdesk.store.records import Incident, IncidentFilter, IncidentOrder

STATE_LABEL = {"acknowledged": "ack'd", "in_progress": "working", "on_hold": "on hold"}


def incident_row(incident: Incident, now: datetime) -> Row:
    return Row(
        key=incident.key,
        cells=(
            cell(incident.key),
            priority(incident.priority),
            cell(STATE_LABEL.get(incident.state, incident.state)),
            cell(incident.title, limit=200),
            cell(incident.service, limit=10),
            cell(incident.assignee or "—", limit=8),
            cell(age(incident.created_at, now)),
            sla_cell(incident.response_due, incident.resolve_due, now),
        ),
        search="",
        record=incident,
    )


class IncidentSource:
    """The incidents matching one filter, search text and order, as of `now`."""

    def __init__(
        self, store: Store, where: IncidentFilter, order: IncidentOrder, now: datetime
    ) -> None:
        self.store, self.where, self.order, self.now = store, where, order, now
        self.total: int | None = None

    async def count(self) -> int:
        self.total = await self.store.incidents.count(self.where)
        return self.total

    async def window(self, offset: int, limit: int) -> list[Row]:
        incidents = self.store.incidents
        total = self.total if self.total is not None else await self.count()
        from_end = total - offset - limit
        if from_end < offset:
            flipped = replace(self.order, descending=not self.order.descending)
            rows = await incidents.find(
                self.where, limit + min(from_end, 0), max(from_end, 0), flipped
            )
            rows.reverse()
        else:
            rows = await incidents.find(self.where, limit, offset, self.order)
        return [incident_row(incident, self.now) for incident in rows]
