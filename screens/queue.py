"""Queue: open incidents by priority and state, and the newest incidents."""

from __future__ import annotations

from rich.text import Text

from opsdesk.console.lifecycle import OPEN_STATES
from opsdesk.screens.base import Row, StoreScreen
from opsdesk.screens.cells import PRIORITY_STYLE, age, append_counts, cell, priority, sla_cell
from opsdesk.store.records import IncidentFilter

SHOWN = 500
STATE_LABEL = {"acknowledged": "ack'd", "in_progress": "working", "on_hold": "on hold"}
SUMMARY_STATES = ("new", "acknowledged", "in_progress", "on_hold", "resolved")


class QueueScreen(StoreScreen):
    TITLE = "Queue"
    FLEX_COLUMN = 3
    COLUMNS = ("Key", "Pri", "State", "Title", "Service", "Who", "Age", "SLA")
    EMPTY = "no open incidents"

    async def load(self) -> None:
        store, now = self.ops.store, self.ops.now()
        open_counts = await store.incidents.count_open_by_priority()
        states = await store.incidents.count_by_state()
        queue = await store.incidents.find(IncidentFilter(states=OPEN_STATES), SHOWN)
        summary = Text("Open ", style="bold")
        for level in ("P1", "P2", "P3", "P4"):
            summary.append(f"{level} {open_counts.get(level, 0):,}", style=PRIORITY_STYLE[level])
            summary.append("  ")
        summary.append("│ ")
        append_counts(summary, states, SUMMARY_STATES, STATE_LABEL)
        self.set_summary(summary)
        self.rows = [
            Row(
                key=i.key,
                cells=(
                    cell(i.key),
                    priority(i.priority),
                    cell(STATE_LABEL.get(i.state, i.state)),
                    cell(i.title, limit=200),
                    cell(i.service, limit=10),
                    cell(i.assignee or "—", limit=8),
                    cell(age(i.created_at, now)),
                    sla_cell(i.response_due, i.resolve_due, now),
                ),
                search=" ".join(
                    [i.key, i.title, i.service, i.assignee or "", i.state, i.priority]
                ).casefold(),
            )
            for i in queue
        ]

    def open_row(self, key: str) -> None:
        self.ops.open_incident(key)
