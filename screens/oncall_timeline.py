"""The 14-day timeline: per schedule, who covers each six-hour slot, as text.

Readable at 80 columns: four characters a day, days starting at midnight in the schedule's
own zone. A letter is a person (upper case: through an override), a red "·" is a gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.model import Schedule
from opsdesk.console.domain.rotations import (
    OVERRIDE,
    Shift,
    Slot,
    final_rota,
    layer_shifts,
    slots_from,
    symbols,
)
from opsdesk.console.domain.text import one_line
from opsdesk.screens.keys import bindings
from opsdesk.screens.oncall_zones import viewer_zone, zone_label
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import Override, StoreError

DAYS = 14
PER_DAY = 4
SLOT = timedelta(hours=24 // PER_DAY)
LABEL = 10


def schedule_timeline(schedule: Schedule, overrides: list[Override], now: datetime) -> Text:
    """Header, one line of slots and a legend for one schedule."""
    zone = ZoneInfo(schedule.timezone)
    day_one = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = day_one.replace(tzinfo=None)
    rota = final_rota(schedule, overrides, day_one, day_one + timedelta(days=DAYS + 1))
    logins = [s.login for s in rota if s.login]
    logins += [m for layer in schedule.layers for m in layer.members]
    logins += [o.login for o in overrides if o.schedule == schedule.name]
    letters = symbols(logins)
    out = Text()
    out.append(f"{one_line(schedule.name, limit=LABEL):<{LABEL}} ", style="bold")
    out.append(f"{schedule.timezone}\n", style="dim")
    out.append(" " * (LABEL + 1))
    for day in range(DAYS):
        date = start + timedelta(days=day)
        out.append(f"{date:%a}"[:2] + f"{date:%d}", style="underline" if day == 0 else "")
    out.append("\n")
    end = day_one + timedelta(days=DAYS + 1)
    for layer in schedule.layers:
        pieces = layer_shifts(layer, zone, day_one, end)
        out.append(f"{one_line(layer.name, limit=LABEL):<{LABEL}} ", style="dim")
        line = "".join(
            letters.get(slot.login, "?") if slot.login else " "
            for slot in _day_slots(pieces, start, zone)
        )
        out.append(line, style="dim")
        out.append("\n")
    mine = [o for o in overrides if o.schedule == schedule.name and o.ends_at > day_one]
    if mine:
        cover = [Shift(o.starts_at, o.ends_at, o.login, OVERRIDE) for o in mine]
        out.append(f"{'overrides':<{LABEL}} ", style="dim")
        line = "".join(
            letters[slot.login].upper() if slot.login else " "
            for slot in _day_slots(cover, start, zone)
        )
        out.append(line, style="bold")
        out.append("\n")
    out.append(f"{'on call':<{LABEL}} ", style="bold")
    runs: list[tuple[str, str]] = []  # (text, style): one append per run of one style
    for slot in _day_slots(rota, start, zone):
        if slot.login is None:
            char, style = "·", "bold reverse red"
        else:
            letter = letters[slot.login]
            char, style = (letter.upper(), "bold") if slot.override else (letter, "")
        if runs and runs[-1][1] == style:
            runs[-1] = (runs[-1][0] + char, style)
        else:
            runs.append((char, style))
    for chars, style in runs:
        out.append(chars, style=style)
    out.append("\n")
    legend = "  ".join(f"{letters[login]}={login}" for login in sorted(set(logins)))
    out.append(f"{'':<{LABEL}} {one_line(legend, limit=200)}\n", style="dim")
    return out


def _day_slots(rota: list[Shift], start: datetime, zone: ZoneInfo) -> list[Slot]:
    """PER_DAY slots for each of DAYS days, each day from local midnight (a DST day's
    slots are still a quarter of the day each, in wall-clock hours), in one sweep."""
    begins = []
    for day in range(DAYS):
        midnight = datetime.combine((start + timedelta(days=day)).date(), datetime.min.time())
        local = midnight.replace(tzinfo=zone)
        begins += [local + index * SLOT for index in range(PER_DAY)]
    return slots_from(rota, begins, SLOT)


class OncallTimelineScreen(LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("timeline")

    PARTS = ("timeline",)

    def header_title(self) -> str:
        return "On-call timeline"

    @work(exclusive=True, group="timeline", exit_on_error=False)
    async def load(self) -> None:
        now = self.ops.now()
        try:
            overrides = await self.ops.oncall.upcoming_overrides(now - timedelta(days=1))
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        text = Text(f"Next {DAYS} days, 6-hour slots, each schedule in its own zone. ")
        text.append("Lines: each layer (blank = its restriction), overrides, then who is ")
        text.append("on call. Letter = person; ")
        text.append("CAPITAL", style="bold")
        text.append(" = override; ")
        text.append("·", style="bold reverse red")
        text.append(" = nobody on call.\n")
        zone = viewer_zone(self.ops.config, self.ops.actor.login, now)
        text.append(f"You are in {zone_label(zone, now)}.\n\n")
        text.stylize("dim")
        for schedule in self.ops.config.schedules:
            text.append_text(schedule_timeline(schedule, overrides, now))
            text.append("\n")
        if not self.ops.config.schedules:
            text.append("No schedules in config.", style="dim")
        self.query_one("#timeline", Static).update(text)
