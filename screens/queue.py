"""Queue: open incidents by priority and state, and the newest incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import Binding, BindingType

from opsdesk.console.lifecycle import OPEN_STATES
from opsdesk.console.metrics import (
    Backlog,
    QueueMetrics,
    WindowMetrics,
    backlog,
    collect,
    short,
)
from opsdesk.screens.base import Row, StoreScreen
from opsdesk.screens.cells import PRIORITY_STYLE, age, cell, priority, sla_cell
from opsdesk.screens.dialogs import MetricsScreen
from opsdesk.screens.forms import Choose
from opsdesk.screens.incident_actions import IncidentActions, Target
from opsdesk.screens.widgets import OpsTable
from opsdesk.store import StoreError
from opsdesk.store.records import IncidentFilter

SHOWN = 500
METRICS_EVERY = timedelta(minutes=1)
STATE_LABEL = {"acknowledged": "ack'd", "in_progress": "working", "on_hold": "on hold"}
QUICK_FILTERS = {
    "open": "open incidents, most urgent first",
    "mine": "open incidents assigned to me",
    "unassigned": "open incidents nobody has taken",
    "breached": "open incidents past an SLA due time",
    "urgent": "open P1 and P2 incidents",
    "all": "every incident, any state",
}


def backlog_text(queue: Backlog) -> Text:
    line = Text(f"breached {queue.breached:,}", style="bold reverse red" if queue.breached else "")
    line.append(f"  oldest {short(queue.oldest_age)}")
    return line


def metrics_text(week: WindowMetrics, month: WindowMetrics) -> Text:
    """One line for 80 columns: MTTA/MTTR medians, SLA attainment, CSAT (7d / 30d)."""
    line = Text()
    line.append(f"MTTA {short(week.mtta.median)}/{short(month.mtta.median)}")
    line.append(f"  MTTR {short(week.mttr.median)}/{short(month.mttr.median)}")

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    line.append(f"  SLA {share(week.sla_attainment)}/{share(month.sla_attainment)}")
    csat = "—" if month.csat_average is None else f"{month.csat_average:.1f}"
    line.append(f"  CSAT {csat}")
    line.append("  (7d/30d)", style="dim")
    return line


class QueueScreen(IncidentActions, StoreScreen):
    """Open incidents, most urgent first. Acts on marked rows (space), else the cursor row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Mark", show=False, id="queue.mark"),
        Binding("f", "quick_filter", "Quick filter", show=False, id="queue.quick_filter"),
        Binding("m", "metrics", "Metrics", show=False, id="queue.metrics"),
    ]
    TITLE = "Queue"
    FLEX_COLUMN = 3
    COLUMNS = ("Key", "Pri", "State", "Title", "Service", "Who", "Age", "SLA")
    EMPTY = "no open incidents"

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[str] = set()
        self.quick = "open"
        self.metrics_line = Text("metrics: computing…", style="dim")
        self.backlog_line = Text("")
        self.metrics_at: datetime | None = None
        self.metrics: QueueMetrics | None = None

    async def load(self) -> None:
        store, now = self.ops.store, self.ops.now()
        open_counts = await store.incidents.count_open_by_priority()
        queue = await store.incidents.find(self._quick_filter(now), SHOWN)
        summary = Text("Open ", style="bold")
        for level in ("P1", "P2", "P3", "P4"):
            summary.append(f"{level} {open_counts.get(level, 0):,}", style=PRIORITY_STYLE[level])
            summary.append("  ")
        summary.append("│ ")
        summary.append_text(self.backlog_line)
        self.backlog_line = backlog_text(backlog(*await store.incidents.open_ages(now), now))
        if self.metrics_at is None or now - self.metrics_at >= METRICS_EVERY:
            self.metrics_at = now
            self.refresh_metrics(now)
        summary.append("\n")
        summary.append_text(self.metrics_line)
        summary.append("\n")
        summary.append(f"showing: {QUICK_FILTERS[self.quick]}", style="bold")
        summary.append("  (f changes it)", style="dim")
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
                record=i,
            )
            for i in queue
        ]

        shown = {row.key for row in self.rows}
        self.marked &= shown

    @work(group="metrics", exclusive=True, exit_on_error=False)
    async def refresh_metrics(self, now: datetime) -> None:
        """Aggregates over up to a month of incidents: computed off the UI's path, at most
        once a minute, and shown when ready (open counts and breaches are live)."""
        try:
            self.metrics = await collect(self.ops.store, now)
        except StoreError:
            return
        self.metrics_line = metrics_text(self.metrics.week, self.metrics.month)
        self.reload()

    def action_metrics(self) -> None:
        if self.metrics is None:
            self.notify("metrics are still being computed", markup=False)
            return
        self.app.push_screen(MetricsScreen(self.metrics))

    def _quick_filter(self, now: datetime) -> IncidentFilter:
        me = self.ops.actor.login
        return {
            "open": IncidentFilter(states=OPEN_STATES),
            "mine": IncidentFilter(states=OPEN_STATES, assignee=me),
            "unassigned": IncidentFilter(states=OPEN_STATES, unassigned=True),
            "breached": IncidentFilter(breached_at=now),
            "urgent": IncidentFilter(states=OPEN_STATES, priorities=("P1", "P2")),
            "all": IncidentFilter(),
        }[self.quick]

    def set_quick_filter(self, name: str) -> None:
        if name in QUICK_FILTERS:
            self.quick = name
            self.marked.clear()
            self.reload()

    def action_quick_filter(self) -> None:
        choices = [(name, text) for name, text in QUICK_FILTERS.items()]
        self.app.push_screen(
            Choose("Show", choices), lambda name: self.set_quick_filter(name) if name else None
        )

    def open_row(self, key: str) -> None:
        self.ops.open_incident(key)

    def cells_for(self, row: Row) -> list[Text]:
        cells = list(row.cells)
        if row.key in self.marked:
            cells[0] = Text(f"●{row.key}", style="bold reverse")
        return cells

    def targets(self) -> list[Target]:
        by_key = {row.key: row.record for row in self.rows}
        keys = [k for k in by_key if k in self.marked]
        if not keys:
            current = self.query_one(OpsTable).selected_key()
            keys = [current] if current in by_key else []
        return [Target(k, by_key[k].version, by_key[k].state) for k in keys]

    def action_mark(self) -> None:
        key = self.query_one(OpsTable).selected_key()
        if key is None or key not in {row.key for row in self.rows}:
            return
        self.marked.symmetric_difference_update({key})
        self.redraw()
        self.query_one(OpsTable).action_cursor_down()
        self.refresh_bindings()

    def after_action(self) -> None:
        self.marked.clear()
        self.redraw()

    def action_back(self) -> None:
        if self.marked and not self.filter_text:
            self.marked.clear()
            self.redraw()
            return
        super().action_back()
