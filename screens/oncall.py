"""On-call: the schedules from config and the overrides in force or coming up."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.timer import Timer

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.rotations import (
    OnCallNow,
    escalation,
    final_rota,
    on_call_all,
)
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import cell, until
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.forms import Ask, Choose, OverrideForm, OverrideInput
from opsdesk.screens.keys import bindings
from opsdesk.screens.oncall_timeline import OncallTimelineScreen
from opsdesk.screens.oncall_zones import span, viewer_zone, zone_label
from opsdesk.screens.table import Row
from opsdesk.store import Override, StoreError

MY_HORIZON = timedelta(days=14)
MAX_SLEEP = timedelta(hours=1)


class OncallScreen(StoreScreen):
    """Who is on call now, escalation chains, layers and overrides; `o` adds an override,
    `d` removes the selected one (after confirmation)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("oncall")
    TITLE = "On-call"
    FLEX_COLUMN = 2
    COLUMNS = ("Schedule", "Layer", "Who", "When", "Note")
    EMPTY = "no on-call schedules yet: add [[schedules]] to the config"

    def __init__(self) -> None:
        super().__init__()
        self._handoff_timer: Timer | None = None

    async def load(self) -> None:
        config, now = self.ops.config, self.ops.now()
        overrides = await self.ops.oncall.upcoming_overrides(now)
        summary = Text("Schedules ", style="bold")
        summary.append(f"{len(config.schedules)}  ")
        summary.append("Overrides ", style="bold")
        summary.append(f"{len(overrides)} now or upcoming  ")
        summary.append("Escalation policies ", style="bold")
        summary.append(f"{len(config.escalation_policies)}")
        me = self.ops.actor.login
        mine = viewer_zone(config, me, now)
        summary.append(f"\nTimes in your zone ({zone_label(mine, now)}); ", style="dim")
        summary.append("each schedule's own zone on the line below it.", style="dim")
        self.set_summary(summary)
        on_now = {n.schedule: n for n in on_call_all(config.schedules, overrides, now)}
        rows = [*self._my_shifts(overrides, on_now, now, mine)]
        changes = [o.starts_at for o in overrides if o.starts_at > now]
        changes += [o.ends_at for o in overrides]
        for schedule in config.schedules:
            now_on = on_now[schedule.name]
            if now_on.until is not None:
                changes.append(now_on.until)
            who = now_on.login or "— nobody (gap) —"
            style = "bold reverse green" if now_on.login == me else "bold"
            rows.append(
                Row(
                    key=f"{schedule.name}/now",
                    cells=(
                        cell(schedule.name, limit=16),
                        cell(f"NOW {now_on.source}", style="bold"),
                        cell(who, limit=200, style=style if now_on.login else "bold reverse red"),
                        cell(span(now_on.since, now_on.until, mine)),
                        cell(f"next: {now_on.next_login or 'nobody'}", limit=22),
                    ),
                    search=f"{schedule.name} now {who} {now_on.next_login or ''}".casefold(),
                )
            )
            local = ZoneInfo(schedule.timezone)
            rows.append(
                Row(
                    key=f"{schedule.name}/local",
                    cells=(
                        Text(""),
                        cell("  its zone", style="dim"),
                        Text(""),
                        cell(span(now_on.since, now_on.until, local), style="dim"),
                        cell(schedule.timezone, limit=22, style="dim"),
                    ),
                    search=f"{schedule.name} {schedule.timezone}".casefold(),
                )
            )
        for schedule in config.schedules:
            for layer in schedule.layers:
                who = ", ".join(layer.members)
                rows.append(
                    Row(
                        key=f"{schedule.name}/{layer.name}",
                        cells=(
                            cell(schedule.name, limit=16),
                            cell(layer.name, limit=12),
                            cell(who, limit=200),
                            cell(f"every {format_duration(layer.rotation)}"),
                            cell(schedule.timezone, limit=22),
                        ),
                        search=f"{schedule.name} {layer.name} {who}".casefold(),
                    )
                )
        for policy in config.escalation_policies:
            for step in escalation(config, policy.service, overrides, now):
                after = format_duration(step.paged_at - now)
                rows.append(
                    Row(
                        key=f"{policy.service}/L{step.level}",
                        cells=(
                            cell(policy.service, limit=16),
                            cell(f"esc L{step.level}"),
                            cell(step.login or "— nobody —", limit=200),
                            cell(f"+{after} via {step.via}"),
                            cell(step.phone or step.email or "—", limit=22),
                        ),
                        search=f"{policy.service} escalation {step.login} {step.via}".casefold(),
                    )
                )
        for override in overrides:
            window = span(override.starts_at, override.ends_at, mine)
            rows.append(
                Row(
                    key=f"OVR-{override.id}",
                    cells=(
                        cell(override.schedule, limit=16),
                        cell("override"),
                        cell(override.login),
                        cell(window),
                        cell(f"{until(override.starts_at, now)}: {override.reason}", limit=22),
                    ),
                    search=f"{override.schedule} {override.login} {override.reason}".casefold(),
                )
            )
        self.rows = rows
        self._wake_at(min(changes, default=now + MAX_SLEEP), now)

    def _wake_at(self, moment: datetime, now: datetime) -> None:
        """Reload by itself at the next handoff or override edge, so "now" moves on with
        nobody touching a key (and at least every MAX_SLEEP, whatever the clock does)."""
        if self._handoff_timer is not None:
            self._handoff_timer.stop()
        delay = min(max((moment - now).total_seconds(), 1.0), MAX_SLEEP.total_seconds())
        self._handoff_timer = self.set_timer(delay, self.reload, name="next-handoff")

    def _my_shifts(
        self,
        overrides: list[Override],
        on_now: dict[str, OnCallNow],
        now: datetime,
        zone: tzinfo,
    ) -> list[Row]:
        """The viewer's current or next shift on each schedule in the next two weeks,
        first and highlighted, so "am I on call, and when next?" needs no reading."""
        me, rows = self.ops.actor.login, []
        for schedule in self.ops.config.schedules:
            current_shift = on_now[schedule.name]
            if current_shift.login == me:
                start, end = current_shift.since, current_shift.until
                source, current = current_shift.source, True
            else:
                rota = final_rota(schedule, overrides, now, now + MY_HORIZON)
                shift = next((s for s in rota if s.login == me), None)
                if shift is None:
                    continue
                start, end, source, current = shift.start, shift.end, shift.source, False
            if current:
                ends = "no end in sight" if end is None else f"ends {until(end, now)}"
                label, note = "YOU NOW", ends
            else:
                label, note = "you next", until(start, now) if start else ""
            rows.append(
                Row(
                    key=f"{schedule.name}/you",
                    cells=(
                        cell(schedule.name, limit=16),
                        cell(label, style="bold reverse green" if current else "bold green"),
                        cell(me, limit=200, style="bold"),
                        cell(span(start, end, zone)),
                        cell(f"{note} ({source})", limit=22),
                    ),
                    search=f"{schedule.name} you {me}".casefold(),
                )
            )
        return rows

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.explain_action(action, parameters) else True

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        if action not in ("add_override", "remove_override", "handoff"):
            return ""
        if why := self.read_only_reason():
            return why
        if action != "remove_override" and not self.ops.config.schedules:
            return "no on-call schedules are configured ([[schedules]] in the config)"
        key = self.table.selected_key() or ""
        if action == "remove_override" and not key.startswith("OVR-"):
            return "removing works on an override: select an OVR- row"
        return ""

    def action_handoff(self) -> None:
        names = [s.name for s in self.ops.config.schedules]

        def with_schedule(name: str | None) -> None:
            if name:

                def write(text: str | None) -> None:
                    if text:
                        self._write_handoff(name, text)

                self.app.push_screen(
                    Ask(f"Handoff note on {name} for whoever is on call next"), write
                )

        if len(names) == 1:
            with_schedule(names[0])
        elif names:
            self.app.push_screen(
                Choose("Handoff note on which schedule?", [(n, n) for n in names]), with_schedule
            )

    @work(group="handoff", exit_on_error=False)
    async def _write_handoff(self, name: str, text: str) -> None:
        try:
            note = await self.ops.oncall.leave_handoff(name, text, self.ops.now())
        except OpsdeskError as exc:
            self.notify(one_line(str(exc), limit=400), severity="warning", markup=False)
            return
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        self.notify(one_line(f"handoff note left for {note.for_login}", limit=200), markup=False)

    def action_timeline(self) -> None:
        self.app.push_screen(OncallTimelineScreen())

    def action_add_override(self) -> None:
        config = self.ops.config
        form = OverrideForm(
            [s.name for s in config.schedules],
            [p.login for p in config.people],
            self.ops.actor.login,
            self.ops.now(),
        )

        def save(value: OverrideInput | None) -> None:
            if value:
                self._save(value)

        self.app.push_screen(form, save)

    @work(group="override", exit_on_error=False)
    async def _save(self, value: OverrideInput) -> None:
        try:
            added = await self.ops.oncall.add_override(
                value.schedule, value.login, value.start, value.end, value.reason, self.ops.now()
            )
        except (OpsdeskError, StoreError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False, timeout=10)
            return
        covers = f"OVR-{added.id}: {added.login} covers {added.schedule}"
        self.notify(one_line(covers, limit=200), markup=False)

    def action_remove_override(self) -> None:
        key = self.table.selected_key() or ""
        if not key.startswith("OVR-"):
            return

        def go(yes: bool | None) -> None:
            if yes:
                self._remove(int(key.removeprefix("OVR-")))

        self.app.push_screen(Confirm(f"Remove override {key}?"), go)

    @work(group="override", exit_on_error=False)
    async def _remove(self, override_id: int) -> None:
        try:
            await self.ops.oncall.remove_override(override_id, self.ops.now())
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False, timeout=10)
            return
        self.notify(f"OVR-{override_id} removed", markup=False)
