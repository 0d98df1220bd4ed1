"""Changes: quick filters (around now, mine, waiting for my approval, this week, all),
each change with its conflicts; the strip shows success rate, emergency ratio and changes
linked to incidents over 30 and 90 days. Enter opens the change with its workflow keys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.text import one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.changes import ChangeOps, ChangePlan
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import append_counts, cell
from opsdesk.screens.change_calendar import ChangeCalendarScreen
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.change_form import NewChangeForm
from opsdesk.screens.forms import Choose
from opsdesk.screens.keys import bindings
from opsdesk.screens.table import Row
from opsdesk.store import StoreError
from opsdesk.store.records import ChangeRequest

SUMMARY_STATES = ("draft", "submitted", "approved", "scheduled", "in_progress", "failed")
RISK_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}
ACTIVE = ("draft", "submitted", "approved", "scheduled", "in_progress")
FILTERS = {
    "around": "in progress, upcoming and the last week",
    "mine": "requested or implemented by me",
    "approve": "waiting for my approval",
    "week": "planned in the next 7 days",
    "all": "every change, newest window first",
}


class ChangesScreen(StoreScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("changes")
    TITLE = "Changes"
    FLEX_COLUMN = 4
    COLUMNS = ("Key", "Type", "Risk", "State", "Title", "Window (UTC)", "!")
    EMPTY = "no change requests to show"

    def __init__(self) -> None:
        super().__init__()
        self.quick = "around"

    async def load(self) -> None:
        store, now, me = self.ops.store, self.ops.now(), self.ops.actor.login
        ops = ChangeOps(store, self.ops.config, self.ops.actor)
        states = await store.changes.count_by_state()
        changes = await self._chosen(ops, now, me)
        active = [c for c in changes if c.state in ACTIVE]
        conflicts = await ops.conflict_map(active, now)
        summary = Text("Changes ", style="bold")
        append_counts(summary, states, SUMMARY_STATES)
        summary.append("\n")
        summary.append_text(await self._metrics(now))
        summary.append("\n")
        summary.append(f"showing: {FILTERS[self.quick]}", style="bold")
        summary.append("  (f)  ! = conflicts", style="dim")
        self.set_summary(summary)
        self.rows = [
            Row(
                key=c.key,
                cells=(
                    cell(c.key),
                    cell(c.type),
                    cell(f"{c.risk}", style=RISK_STYLE.get(c.risk, "")),
                    cell(words(c.state)),
                    cell(f"{c.title} ({', '.join(c.services)})", limit=200),
                    cell(f"{c.planned_start:%m-%d %H:%M} {format_duration(c.duration)}"),
                    _conflict_cell(len(conflicts.get(c.key, []))),
                ),
                search=" ".join([c.key, c.title, c.type, c.risk, c.state, *c.services]).casefold(),
                record=c,
            )
            for c in changes
        ]

    async def _chosen(self, ops: ChangeOps, now: datetime, me: str) -> list[ChangeRequest]:
        changes = ops.store.changes
        if self.quick == "mine":
            return await changes.find(requester=me)
        if self.quick == "all":
            return await changes.find()
        if self.quick == "week":
            return [
                c for c in await changes.overlapping(now, now + timedelta(days=7))
                if c.state not in ("rejected", "closed")
            ]  # fmt: skip
        if self.quick == "approve":
            return await ops.awaiting_me(await changes.find(states=("submitted",)))
        return await changes.around(now)

    async def _metrics(self, now: datetime) -> Text:
        """Change success rate, emergency ratio and changes linked to incidents."""
        line = Text()
        for days in (30, 90):
            total, finished, failed, emergency, linked = await self.ops.store.changes.metrics(
                now - timedelta(days=days), now
            )
            success = f"{(finished - failed) / finished:.0%}" if finished else "—"
            ratio = f"{emergency / total:.0%}" if total else "—"
            line.append(f"{days}d: success {success} · emergency {ratio} · with incidents {linked}")
            line.append("   " if days == 30 else "")
        return line

    def action_quick_filter(self) -> None:
        self.app.push_screen(Choose("Show", list(FILTERS.items())), self._set_filter)

    def _set_filter(self, name: str | None) -> None:
        if name in FILTERS:
            self.quick = name
            self.reload(top=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.explain_action(action, parameters) else True

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        return self.read_only_reason() if action == "new_change" else ""

    def action_new_change(self) -> None:
        config = self.ops.config
        questions = [(q.id, q.text) for q in config.changes.risk_questions]
        form = NewChangeForm([s.name for s in config.services], questions)

        def create(given: ChangePlan | None) -> None:
            if given:
                self._create(given)

        self.app.push_screen(form, create)

    @work(group="new-change", exit_on_error=False)
    async def _create(self, given: ChangePlan) -> None:
        ops = ChangeOps(self.ops.store, self.ops.config, self.ops.actor)
        try:
            change = await ops.create(given, self.ops.now())
        except (OpsdeskError, StoreError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False, timeout=10)
            return
        self.notify(f"{change.key} created as a draft (risk {change.risk})", markup=False)

    def action_calendar(self) -> None:
        self.app.push_screen(ChangeCalendarScreen())

    def open_row(self, key: str) -> None:
        self.app.push_screen(ChangeDetailScreen(key))


def _conflict_cell(count: int) -> Text:
    return Text(f"!{count}", style="bold reverse yellow") if count else Text("")
