"""On-call rules at scale: who is on call now for N schedules, and the final rota over D
days for all of them, against a floor that lays out the same rotations in plain UTC
arithmetic (no zones, layers, restrictions or overrides).

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
from opsdesk.console.domain.rotations import Shift, final_rota, on_call_at
from opsdesk.store.records import Override

ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "UTC"]


def schedules(count: int) -> list[Schedule]:
    made = []
    for n in range(count):
        members = [f"p{n}-{m}" for m in range(4)]
        made.append(
            Schedule(
                f"s{n}",
                ZONES[n % len(ZONES)],
                [
                    Layer("base", members[:2], timedelta(weeks=1), datetime(2026, 1, 5, 9)),
                    Layer(
                        "days", members[2:], timedelta(days=1), datetime(2026, 1, 5, 9),
                        Restriction(WEEKDAYS[:5], time(9), time(17)),
                    ),
                ],
            )
        )  # fmt: skip
    return made


def best_ms(work: Callable[[], object], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        began = perf_counter()
        work()
        samples.append((perf_counter() - began) * 1000)
    return min(samples) if runs < 3 else statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    rosters = schedules(args.schedules)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    overrides = [
        Override(n, f"s{n}", "cover", now - timedelta(hours=2), now + timedelta(hours=6), "", "x")
        for n in range(0, args.schedules, 10)
    ]
    end = now + timedelta(days=args.days)

    def floor() -> list[Shift]:
        """The same rotations as plain UTC arithmetic: one Shift per rotation step of each
        layer (no zones, restrictions, layering or overrides)."""
        made = []
        for schedule in rosters:
            for layer in schedule.layers:
                moment, index = now, 0
                while moment < end:
                    login = layer.members[index % len(layer.members)]
                    made.append(Shift(moment, moment + layer.rotation, login, layer.name))
                    moment += layer.rotation
                    index += 1
        return made

    now_ms = best_ms(lambda: [on_call_at(s, overrides, now) for s in rosters])
    timeline_ms = best_ms(lambda: [final_rota(s, overrides, now, end) for s in rosters])
    floor_ms = best_ms(floor)
    emit(
        {
            "benchmark": "oncall",
            "schedules": args.schedules,
            "days": args.days,
            "now_ms": round(now_ms, 2),
            "timeline_ms": round(timeline_ms, 2),
            "floor_ms": round(floor_ms, 3),
            "timeline_ratio": round(timeline_ms / floor_ms, 1),
            "targets_met": now_ms <= 20 and timeline_ms <= 200,
        }
    )


if __name__ == "__main__":
    main()
