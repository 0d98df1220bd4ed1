"""Queue: open incidents by priority and state, and the newest incidents."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.binding import BindingType

from opsdesk.console.domain.lifecycle import OPEN_STATES
from opsdesk.console.domain.metrics import (
    Backlog,
    QueueMetrics,
    WindowMetrics,
    backlog,
    short,
)
from opsdesk.console.domain.text import one_line
from opsdesk.console.ops.metrics import collect
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import PRIORITY_STYLE
from opsdesk.screens.dialogs import MetricsScreen
from opsdesk.screens.forms import Choose
from opsdesk.screens.incident_actions import IncidentActions, Target
from opsdesk.screens.keys import bindings
from opsdesk.screens.queue_rows import IncidentSource
from opsdesk.screens.table import OpsTable, RowSource
from opsdesk.store import StoreError
from opsdesk.store.incidents import search_key
from opsdesk.store.records import Incident, IncidentFilter, IncidentOrder

METRICS_EVERY = timedelta(minutes=1)
SEARCH_FROM = 2
"""Letters a word search needs before it runs: one letter is the prefix of most words
(it matches most of a million incidents), so the first keystroke says "type another
letter" at once instead of making every later keystroke wait behind that search. A key
("7", "INC-7") is looked up from its first digit."""
TRIAGE = "triage"
SORT_LABELS = {
    TRIAGE: "Triage: P1 first, unacknowledged, breached, then nearest SLA due",
    "urgency": "SLA: most urgent first (breached, then nearest due)",
    "key": "Key: oldest first",
    "priority": "Priority: P1 first",
    "state": "State: new first",
    "title": "Title: A to Z",
    "service": "Service: A to Z",
    "assignee": "Who: A to Z, unassigned last",
    "age": "Age: youngest first",
}
COLUMN_SORTS = ("key", "priority", "state", "title", "service", "assignee", "age", "urgency")
QUICK_FILTERS = {
    "open": "open incidents",
    "mine": "open incidents assigned to me",
    "unassigned": "open incidents nobody has taken",
    "breached": "open incidents past an SLA due time",
    "urgent": "open P1 and P2 incidents",
    "all": "every incident, any state",
}
EMPTY_VIEWS = {
    "open": "no open incidents",
    "mine": "no open incidents assigned to you",
    "unassigned": "no open incidents without an assignee",
    "breached": "nothing breached",
    "urgent": "no open P1 or P2 incidents",
    "all": "no incidents yet",
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
    """Open incidents in triage order: what is burning first (P1 before P2; within a
    priority unacknowledged first, then breached, then nearest SLA due). Acts on marked
    rows (space), else the cursor row. A search for a key (INC-12) finds that incident in
    any state, whatever the quick filter."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("queue")
    TITLE = "Queue"
    FLEX_COLUMN = 3
    COLUMNS = ("Key", "Pri", "State", "Title", "Service", "Who", "Age", "SLA")
    EMPTY = "no open incidents"
    ROWS_FIRST = True
    WATCHES = ("incidents", "banner", "reviews")

    def __init__(self) -> None:
        super().__init__()
        self.marked_records: dict[str, Incident] = {}
        self.chosen_order: IncidentOrder | None = None
        """The order picked with `o` or a heading; None: the quick filter's own."""
        self.quick = "open"
        self.metrics_line = Text("metrics: computing…", style="dim")
        self.metrics_at: datetime | None = None
        self.metrics: QueueMetrics | None = None
        self._summary_parts: tuple[Text, Text] | None = None  # (live counts, the view)

    def _store_changed(self, _generation: int) -> None:
        """Reload when what the queue shows moved (incidents, the banner), not on every
        commit: a lease renewed, a status poll or a change to the Changes screen costs
        the queue nothing."""
        if self.is_current and self.store_moved(self.loaded_generation):
            self.reload()

    def on_screen_resume(self) -> None:
        self.update_header()
        if self.store_moved(self.loaded_generation):
            self.reload()

    def on_mount(self) -> None:
        """The metrics read starts before the first rows are asked for (StoreScreen's
        on_mount, called after this one, starts the reload): it runs on the store's
        reading connection, in its own thread, beside the rows' query instead of after
        it, so the strip is ready about when the rows are. (Started earlier still, as the
        store opens and before the screen is composed, it made the strip ~10 ms sooner
        and the first rows 20-70 ms later on a busy 2-core machine: composing wants the
        same CPU.)"""
        self._start_metrics(self.ops.now())

    def _start_metrics(self, now: datetime) -> None:
        if self.metrics_at is None or now - self.metrics_at >= METRICS_EVERY:
            self.metrics_at = now
            self.refresh_metrics(now)

    async def load(self) -> None:
        store, now = self.ops.store, self.ops.now()
        self._start_metrics(now)  # started first: it runs on its own connection meanwhile
        open_counts = await store.incidents.count_open_by_priority()
        head = Text("Open ", style="bold")
        for level in ("P1", "P2", "P3", "P4"):
            head.append(f"{level} {open_counts.get(level, 0):,}", style=PRIORITY_STYLE[level])
            head.append("  ")
        head.append("│ ")
        head.append_text(backlog_text(backlog(*await store.stats.open_ages(now), now)))
        tail = Text(f"showing: {QUICK_FILTERS[self.quick]}", style="bold")
        tail.append("  (f)", style="dim")
        tail.append(f"  sorted by {self._sort_name()}{self._arrow(self.order.by)}")
        tail.append("  (o)", style="dim")
        self._summary_parts = (head, tail)
        self._paint_summary()

    def _paint_summary(self) -> None:
        """The summary: live counts, the metrics line (as last computed), the view."""
        if not self.is_attached or self._summary_parts is None:  # outlived its screen
            return
        head, tail = self._summary_parts
        summary = Text()
        summary.append_text(head)
        summary.append("\n")
        summary.append_text(self.metrics_line)
        summary.append("\n")
        summary.append_text(tail)
        self.set_summary(summary)

    @work(group="metrics", exclusive=True, exit_on_error=False)
    async def refresh_metrics(self, now: datetime) -> None:
        """Aggregates over up to a month of incidents: computed off the UI's path, at most
        once a minute, and shown when ready (open counts and breaches are live). Only the
        summary is painted again: the rows did not change."""
        try:
            self.metrics = await collect(self.ops.store, now)
        except StoreError:
            return
        self.metrics_line = metrics_text(self.metrics.week, self.metrics.month)
        if self._summary_parts is not None:
            self._paint_summary()

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

    @property
    def order(self) -> IncidentOrder:
        """The order chosen, else triage; the history of every incident ("all") has
        nothing to triage and lists by SLA clock instead (an index walk at any size)."""
        if self.chosen_order is not None:
            return self.chosen_order
        return IncidentOrder("urgency" if self.quick == "all" else TRIAGE)

    def set_quick_filter(self, name: str) -> None:
        if name in QUICK_FILTERS:
            self.quick = name
            self.after_action()
            self._label_columns()
            self.reload(top=True)

    def action_quick_filter(self) -> None:
        choices = [(name, text) for name, text in QUICK_FILTERS.items()]
        self.app.push_screen(
            Choose("Show", choices), lambda name: self.set_quick_filter(name) if name else None
        )

    def open_row(self, key: str) -> None:
        self.ops.open_incident(key)

    def _searched_key(self) -> int | None:
        """The incident number when the filter text is a key (INC-12, 12)."""
        return search_key(self.filter_text) if self.filter_text.strip() else None

    def _search_waits(self) -> bool:
        """Words too short to search yet: the view stays as it is until another letter."""
        typed = self.filter_text.strip()
        return 0 < len(typed) < SEARCH_FROM and self._searched_key() is None

    def source(self) -> RowSource:
        now = self.ops.now()
        search = None if self._search_waits() else self.filter_text.strip() or None
        if self._searched_key() is not None:
            # A key names one incident: find it whatever its state and the quick filter.
            where = IncidentFilter(search=search)
        else:
            where = replace(self._quick_filter(now), search=search)
        return IncidentSource(self.ops.store, where, self.order, now, self.ops.config)

    def filter_count(self, shown: int) -> str:
        if self._search_waits():
            return "type another letter to search"
        if self._searched_key() is not None:
            return "found, in any state" if shown else "no such incident"
        return f"{shown:,} matching"

    def empty_text(self) -> str:
        key = self._searched_key()
        if key is not None:
            return f"no incident INC-{key}"
        if self.filter_text.strip() and not self._search_waits():
            typed = one_line(self.filter_text.strip(), limit=40)
            return f"no incidents match '{typed}' in {QUICK_FILTERS[self.quick]}"
        return EMPTY_VIEWS[self.quick]

    def filter_status(self) -> Text | None:
        """The filter line: the search and what it found, and how many rows are marked."""
        label = super().filter_status()
        marked = len(self.table.marked)
        if not marked:
            return label
        line = label if label is not None else Text()
        if label is not None:
            line.append("  │  ")
        line.append(f"{marked:,} marked", style="bold")
        line.append("  (space toggles, Esc clears)", style="dim")
        return line

    def targets(self) -> list[Target]:
        table = self.table
        loaded = {row.key: row.record for row in table.loaded_rows()}
        if table.marked:
            records = [loaded.get(key) or self.marked_records[key] for key in table.marked]
        else:
            row = table.selected_row()
            records = [row.record] if row is not None else []
        return [Target(r.key, r.version, r.state) for r in sorted(records, key=lambda r: r.id)]

    def action_mark(self) -> None:
        row = self.table.selected_row()
        if row is None:
            return
        self.marked_records[row.key] = row.record
        self.table.toggle_mark(row.key)
        self.table.action_cursor_down()
        self.update_filter_status()
        self.refresh_bindings()

    def after_action(self) -> None:
        self.table.clear_marks()
        self.marked_records.clear()
        self.update_filter_status()

    def action_back(self) -> None:
        if self.table.marked and not self.filter_text:
            self.after_action()
            return
        super().action_back()

    def action_sort(self) -> None:
        choices = [
            (column, f"{label}{self._arrow(column)}") for column, label in SORT_LABELS.items()
        ]
        self.app.push_screen(
            Choose("Sort by (again: turn round)", choices),
            lambda column: self.sort_by(column) if column else None,
        )

    @on(OpsTable.HeaderSelected)
    def _header_clicked(self, event: OpsTable.HeaderSelected) -> None:
        self.sort_by(COLUMN_SORTS[event.column])

    def sort_by(self, column: str) -> None:
        """Sort by `column`; choosing the current one again turns the order round."""
        if column == self.order.by:
            self.chosen_order = replace(self.order, descending=not self.order.descending)
        else:
            self.chosen_order = IncidentOrder(column)
        self._label_columns()
        self.reload(top=True)

    @on(events.Mount)
    def _label_columns(self) -> None:
        """Column headings with the sort: an arrow on the sorted column, or, for triage
        (priority, acknowledgement and SLA together), its name on the title heading."""
        labels = []
        for index, name in enumerate(self.COLUMNS):
            label = f"{name}{self._arrow(COLUMN_SORTS[index])}"
            if index == self.FLEX_COLUMN and self.order.by == TRIAGE:
                label = f"{name} · {TRIAGE}{self._arrow(TRIAGE)}"
            labels.append(Text(label))
        self.table.set_labels(labels)

    def _sort_name(self) -> str:
        if self.order.by in COLUMN_SORTS:
            return self.COLUMNS[COLUMN_SORTS.index(self.order.by)]
        return self.order.by

    def _arrow(self, column: str) -> str:
        if column != self.order.by:
            return ""
        return "▼" if self.order.descending else "▲"
