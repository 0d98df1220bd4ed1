"""Changes: counts by state and the changes around now (running, upcoming, last week)."""

from __future__ import annotations

from rich.text import Text

from opsdesk.console.durations import format_duration
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import append_counts, cell
from opsdesk.screens.table import Row

STATE_LABEL = {"in_progress": "running", "rolled_back": "rolled back"}
SUMMARY_STATES = ("draft", "submitted", "approved", "scheduled", "in_progress", "failed")
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}


class ChangesScreen(StoreScreen):
    TITLE = "Changes"
    FLEX_COLUMN = 4
    COLUMNS = ("Key", "Type", "Risk", "State", "Title", "Window (UTC)")
    EMPTY = "no changes"

    async def load(self) -> None:
        store, now = self.ops.store, self.ops.now()
        states = await store.changes.count_by_state()
        changes = await store.changes.around(now)
        summary = Text("Changes ", style="bold")
        append_counts(summary, states, SUMMARY_STATES, STATE_LABEL)
        self.set_summary(summary)
        self.rows = [
            Row(
                key=c.key,
                cells=(
                    cell(c.key),
                    cell(c.type),
                    cell(f"{c.risk}", style=RISK_STYLE.get(c.risk, "")),
                    cell(STATE_LABEL.get(c.state, c.state)),
                    cell(f"{c.title} ({', '.join(c.services)})", limit=200),
                    cell(f"{c.planned_start:%m-%d %H:%M} {format_duration(c.duration)}"),
                ),
                search=" ".join([c.key, c.title, c.type, c.risk, c.state, *c.services]).casefold(),
            )
            for c in changes
        ]
