"""The change conflict map at scale: N active changes over a month on a dozen services,
with freezes, open incidents, vendor levels and two on-call schedules, built in-process.
Times the conflict computation alone (the pure rules: `conflict_map`, and the on-call
pieces through `ChangeOps._on_call`) against a floor from the same run: sorting the
changes by start and one dict lookup per change (n log n, what a sweep cannot beat).

    python -m bench.changes [--changes 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import perf_counter

from bench.common import emit
from opsdesk.console.config.loader import parse_text
from opsdesk.console.domain.change_rules import ACTIVE, OpenIncident, conflict_map
from opsdesk.console.domain.rotations import clear_caches
from opsdesk.console.ops.changes import ChangeOps
from opsdesk.store.records import ChangeRequest, Override

SERVICES = [f"svc{n}" for n in range(12)]
PEOPLE = [f"p{n}" for n in range(20)]
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
CONFIG = parse_text(
    "".join(f'[[services]]\nname = "{s}"\nvendors = ["V{n % 3}"]\n' for n, s in enumerate(SERVICES))
    + "".join(f'[[vendors]]\nname = "V{n}"\n' for n in range(3))
    + """
[[freeze_windows]]
name = "black friday"
start = 2026-11-27T00:00:00Z
end = 2026-11-30T00:00:00Z
services = ["svc0", "svc1"]
[[schedules]]
name = "ops"
timezone = "Europe/Berlin"
[[schedules.layers]]
name = "primary"
members = ["p0", "p1", "p2", "p3"]
rotation = "1d"
start = "2026-11-01T09:00"
[[schedules]]
name = "db"
timezone = "America/New_York"
[[schedules.layers]]
name = "primary"
members = ["p4", "p5"]
rotation = "12h"
start = "2026-11-01T08:00"
restrict = { days = ["mon", "tue", "wed", "thu", "fri"], from = "08:00", to = "20:00" }
""",
    "bench",
)


def changes(count: int, seed: int = 1) -> list[ChangeRequest]:
    rng = random.Random(seed)
    made = []
    for n in range(1, count + 1):
        start = NOW + timedelta(minutes=rng.randrange(-7 * 24 * 60, 30 * 24 * 60))
        made.append(
            ChangeRequest(
                n, f"change {n}", "normal", "low",
                tuple(rng.sample(SERVICES, rng.choice([1, 1, 2]))),
                start, start + timedelta(minutes=rng.choice([30, 60, 120, 240])),
                rng.choice(PEOPLE), "req", rng.choice(ACTIVE), 1,
            )
        )  # fmt: skip
    return sorted(made, key=lambda c: c.planned_start)


def median_ms(work: Callable[[], object], runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        clear_caches()
        began = perf_counter()
        work()
        samples.append((perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=2000)
    args = parser.parse_args()
    planned = changes(args.changes)
    incidents = [
        OpenIncident(f"INC-{n}", "P1" if n % 2 else "P2", SERVICES[n % 12], "down")
        for n in range(12)
    ]
    overrides = [
        Override(n, "ops", PEOPLE[n % 20], NOW + timedelta(days=n),
                 NOW + timedelta(days=n, hours=6), "", "x")
        for n in range(20)
    ]  # fmt: skip
    levels = {"V1": "degraded"}
    ops = ChangeOps(None, CONFIG, None)  # type: ignore[arg-type]

    def conflicts() -> dict[str, object]:
        on_call = ops._on_call(planned, overrides)
        return conflict_map(planned, planned, CONFIG, incidents, on_call, levels, NOW)

    def floor() -> int:
        index = {c.key: c for c in sorted(planned, key=lambda c: c.planned_start)}
        return sum(1 for c in planned if c.key in index)

    found = conflicts()
    half = planned[: len(planned) // 2]
    conflict_ms = median_ms(conflicts)
    floor_ms = median_ms(floor, runs=9)
    planned_all = planned
    planned = half
    half_ms = median_ms(conflicts)
    planned = planned_all
    emit(
        {
            "benchmark": "changes",
            "changes": args.changes,
            "conflicts": sum(len(v) for v in found.values()),  # type: ignore[arg-type]
            "conflict_map_ms": round(conflict_ms, 2),
            "conflict_map_half_ms": round(half_ms, 2),
            "growth_2x": round(conflict_ms / half_ms, 2),
            "floor_ms": round(floor_ms, 3),
            "ratio": round(conflict_ms / floor_ms, 1),
            "targets_met": conflict_ms <= 100,
        }
    )


if __name__ == "__main__":
    main()
