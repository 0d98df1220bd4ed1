"""On-call rules at scale, the hard case: N schedules in zones with DST, each with a weekly
layer, a daily one restricted to weekday hours and a 12-hour one restricted to nights
(crossing midnight), and 20 overrides per schedule. Measured cold (every cache emptied
before each run, as a fresh `opsdesk oncall now` process is) and warm (a screen reload):
who is on call now for all of them, the final rota over D days, and the 14-day timeline
screen's text. The floors, from the same run: a dict lookup per schedule (now), and
iterating the same number of precomputed shifts as the rotas hold (timeline).

    python -m bench.oncall [--schedules 100] [--days 90]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from time import perf_counter

from bench.common import emit
from opsdesk.console.config.model import WEEKDAYS, Layer, Restriction, Schedule
from opsdesk.console.domain.rotations import (
    Shift,
    clear_caches,
    final_rota,
    on_call_all,
)
from opsdesk.screens.oncall_timeline import schedule_timeline
from opsdesk.store.records import Override

ZONES = [
    "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "UTC",
    "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe",
]  # fmt: skip


def schedules(count: int) -> list[Schedule]:
    made = []
    for n in range(count):
        members = [f"p{n}-{m}" for m in range(6)]
        hour = 7 + n % 4  # not every schedule hands off at the same local time
        made.append(
            Schedule(
                f"s{n}",
                ZONES[n % len(ZONES)],
                [
                    Layer("base", members[:2], timedelta(weeks=1), datetime(2025, 1, 6, hour)),
                    Layer(
                        "days", members[2:4], timedelta(days=1), datetime(2025, 1, 6, hour),
                        Restriction(WEEKDAYS[:5], time(hour), time(hour + 8)),
                    ),
                    Layer(
                        "nights", members[4:], timedelta(hours=12),
                        datetime(2025, 1, 6, hour + 12, n % 60),
                        Restriction(list(WEEKDAYS), time(hour + 13), time(hour - 1)),
                    ),
                ],
            )
        )  # fmt: skip
    return made


def cover(count: int, now: datetime, days: int) -> list[Override]:
    """20 overrides per schedule, from two weeks back to the end of the window."""
    made = []
    for n in range(count * 20):
        begin = now + timedelta(hours=(n * 7919) % (24 * (days + 14)) - 24 * 14)
        length = timedelta(hours=(2, 6, 12, 24, 72)[n % 5])
        made.append(Override(n + 1, f"s{n % count}", f"x{n % 7}", begin, begin + length, "", "x"))
    return sorted(made, key=lambda o: o.starts_at)


def best_ms(work: Callable[[], object], runs: int = 5, cold: bool = True) -> float:
    samples = []
    for _ in range(runs):
        if cold:
            clear_caches()
        began = perf_counter()
        work()
        samples.append((perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    rosters = schedules(args.schedules)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    overrides = cover(args.schedules, now, args.days)
    end = now + timedelta(days=args.days)
    clear_caches()
    rotas = [final_rota(s, overrides, now, end) for s in rosters]
    shifts = [shift for rota in rotas for shift in rota]
    answers = {s.name: shift for s, shift in zip(rosters, shifts, strict=False)}

    def floor_timeline() -> int:
        """Iterate as many precomputed shifts as the rotas hold, touching each."""
        total = 0
        for shift in shifts:
            if shift.login is not None:
                total += 1
        return total

    def floor_now() -> list[Shift]:
        """A dict lookup per schedule."""
        return [answers[s.name] for s in rosters if s.name in answers]

    def timeline_screen() -> object:
        return [schedule_timeline(s, overrides, now) for s in rosters]

    now_ms = best_ms(lambda: on_call_all(rosters, overrides, now))
    now_warm_ms = best_ms(lambda: on_call_all(rosters, overrides, now), cold=False)
    timeline_ms = best_ms(lambda: [final_rota(s, overrides, now, end) for s in rosters])
    timeline_warm_ms = best_ms(
        lambda: [final_rota(s, overrides, now, end) for s in rosters], cold=False
    )
    screen_ms = best_ms(timeline_screen, runs=3)
    floor_now_ms = best_ms(floor_now, runs=9)
    floor_ms = best_ms(floor_timeline, runs=9)
    emit(
        {
            "benchmark": "oncall",
            "schedules": args.schedules,
            "days": args.days,
            "overrides": len(overrides),
            "rota_shifts": len(shifts),
            "now_ms": round(now_ms, 2),
            "now_warm_ms": round(now_warm_ms, 2),
            "now_floor_ms": round(floor_now_ms, 3),
            "timeline_ms": round(timeline_ms, 2),
            "timeline_warm_ms": round(timeline_warm_ms, 2),
            "timeline_floor_ms": round(floor_ms, 3),
            "timeline_ratio": round(timeline_ms / floor_ms, 1),
            "timeline_screen_14d_ms": round(screen_ms, 2),
            "targets_met": now_ms <= 20 and timeline_ms <= 200,
        }
    )


if __name__ == "__main__":
    main()
