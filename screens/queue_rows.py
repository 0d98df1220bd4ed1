"""The queue's rows: windows of incidents straight from the store, never all of them.

A window deep in a long list is fetched from the other end (the order turned round), so
jumping to the last of a million rows costs what the first page costs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from rich.text import Text

from opsdesk.console.config.model import Config
from opsdesk.console.domain.problem_rules import review_required, review_status
from opsdesk.console.domain.text import words
from opsdesk.screens.cells import age, cell, priority, sla_cell
from opsdesk.screens.table import Row
from opsdesk.store import Store
from opsdesk.store.records import Incident, IncidentFilter, IncidentOrder

REVIEW_MARK = {"due": ("R", "bold"), "overdue": ("R!", "bold reverse red")}
"""After the state of a resolved incident that owes a review: R due, R! overdue."""


def state_cell(incident: Incident, review: str | None = None) -> Text:
    state = cell(words(incident.state))  # the words `incident list` and `show` use
    if review in REVIEW_MARK:
        mark, style = REVIEW_MARK[review]
        state.append(" ")
        state.append(mark, style=style)
    return state


def incident_row(incident: Incident, now: datetime, review: str | None = None) -> Row:
    return Row(
        key=incident.key,
        cells=(
            cell(incident.key),
            priority(incident.priority),
            state_cell(incident, review),
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
        self,
        store: Store,
        where: IncidentFilter,
        order: IncidentOrder,
        now: datetime,
        config: Config | None = None,
    ) -> None:
        self.store, self.where, self.order, self.now = store, where, order, now
        self.config = config
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
        reviews = await self.review_states(rows)
        return [incident_row(i, self.now, reviews.get(i.key)) for i in rows]

    async def review_states(self, rows: list[Incident]) -> dict[str, str]:
        """Where the reviews of the resolved incidents in a window stand (due, overdue,
        ...), from one query for the window's keys; nothing when no row owes one."""
        config = self.config
        if config is None:
            return {}
        owing = [
            i for i in rows
            if i.state == "resolved" and review_required(i, config.reviews)
        ]  # fmt: skip
        if not owing:
            return {}
        found = await self.store.reviews.for_incidents(i.key for i in owing)
        return {i.key: review_status(i, found.get(i.key), config, self.now).state for i in owing}
