"""`--verify`: the source's own final rota against what opsdesk computes from the import.

Both rotas are cut to the same window and compared instant by instant; every stretch
where they disagree is one `Difference` (who the source has, who opsdesk has, when, for
how many minutes). Overrides count on both sides (all of them in the window, past ones
too, though only future ones are written to the store). A source user with no login
is shown by their source id, so a missing mapping is a difference, not a silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from opsdesk.console.domain.imports.mapping import ImportPlan
from opsdesk.console.domain.imports.model import SourceShift, SourceTeam, Window
from opsdesk.console.domain.rotations import final_rota
from opsdesk.store.records import Override


@dataclass(frozen=True)
class Difference:
    schedule: str
    start: datetime
    end: datetime
    source: tuple[str, ...]
    """Who the source has on call (logins; `?<id>` for a user with no login)."""
    opsdesk: str | None

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    def line(self) -> str:
        theirs = ", ".join(self.source) or "nobody"
        ours = self.opsdesk or "nobody"
        return (
            f"{self.schedule}: {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC "
            f"({self.minutes:g} min): source has {theirs}, opsdesk has {ours}"
        )


@dataclass(frozen=True)
class Verification:
    window: Window
    schedules: tuple[str, ...]
    """The schedules compared (names as imported, or source ids when not imported)."""
    differences: tuple[Difference, ...]
    unchecked: tuple[str, ...]
    """Imported schedules the source rendered no rota for."""


def verify(plan: ImportPlan, team: SourceTeam, window: Window) -> Verification:
    overrides = [
        Override(number, o.schedule, o.login, o.start, o.end, "", "import")
        for number, o in enumerate(plan.overrides, start=1)
    ]
    by_name = {s.name: s for s in plan.schedules}
    compared, found = [], []
    for source_id, shifts in team.final_shifts.items():
        name = plan.schedule_names.get(source_id)
        label = name or next((s.name for s in team.schedules if s.id == source_id), source_id)
        compared.append(label)
        ours: list[tuple[datetime, datetime, str | None]] = []
        if name is not None:
            rota = final_rota(by_name[name], overrides, window.start, window.end)
            ours = [(s.start, s.end, s.login) for s in rota]
        theirs = _theirs(shifts, plan, window)
        found.extend(_compare(label, theirs, ours, window))
    unchecked = tuple(
        name
        for source_id, name in plan.schedule_names.items()
        if source_id not in team.final_shifts
    )
    return Verification(window, tuple(compared), tuple(found), unchecked)


def _theirs(
    shifts: list[SourceShift], plan: ImportPlan, window: Window
) -> list[tuple[datetime, datetime, tuple[str, ...]]]:
    out = []
    for shift in shifts:
        begin, end = max(shift.start, window.start), min(shift.end, window.end)
        if begin < end:
            who = tuple(plan.logins.get(u, f"?{u}") for u in shift.user_ids)
            out.append((begin, end, who))
    return out


def _compare(
    label: str,
    theirs: list[tuple[datetime, datetime, tuple[str, ...]]],
    ours: list[tuple[datetime, datetime, str | None]],
    window: Window,
) -> list[Difference]:
    """One sweep over every edge of both rotas (theirs may overlap: several people at
    once; ours is one person at a time), so half a year of hourly turns stays fast."""
    edges = {window.start, window.end}
    for begin, end, _ in theirs:
        edges.update((begin, end))
    for begin, end, _login in ours:
        edges.update((begin, end))
    points = sorted(e for e in edges if window.start <= e <= window.end)
    arriving = sorted(theirs, key=lambda shift: shift[0])
    mine = sorted(ours, key=lambda shift: shift[0])
    active: list[tuple[datetime, datetime, tuple[str, ...]]] = []
    arrived = at = 0
    found: list[Difference] = []
    for begin, end in pairwise(points):
        while arrived < len(arriving) and arriving[arrived][0] <= begin:
            active.append(arriving[arrived])
            arrived += 1
        active = [shift for shift in active if shift[1] > begin]
        source = tuple(sorted({who for shift in active for who in shift[2]}))
        while at < len(mine) and mine[at][1] <= begin:
            at += 1
        login = mine[at][2] if at < len(mine) and mine[at][0] <= begin else None
        if source == ((login,) if login else ()):
            continue
        last = found[-1] if found else None
        if last and last.end == begin and (last.source, last.opsdesk) == (source, login):
            found[-1] = Difference(label, last.start, end, source, login)
        else:
            found.append(Difference(label, begin, end, source, login))
    return found
