"""`opsdesk incident list` at scale: the first page in triage order plus the count a cut
list reports ("100 of 58,798 shown"), for the filters a manager uses, against a floor
measured in the same run.

- `list_s`: what the command asks the store for (store.incidents.find, 100 rows, triage
  order, then store.incidents.count bounded at 1,000,001), median and worst over runs;
- the floor, `floor_s`: the plain SQL for the same answer on a bare sqlite3 connection:
  one query for the first 100 rows in triage order (`ORDER BY` the triage terms, the
  planner's choice of plan) and an exact `count(*)`, without the store's machinery;
- `ratio`: list over floor, per filter (below 1: the store's bucketed triage and
  bounded count beat the plain SQL).

    python -m bench.lists --store /tmp/copy-of-1m.db [--runs 5]

The store is opened as opsdesk opens it (a copy: opening migrates it). Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import emit
from opsdesk.console.cli.listing import COUNT_AT_MOST
from opsdesk.store import Store
from opsdesk.store.incidents import COLUMNS, OPEN_STATES, SORT_TERMS
from opsdesk.store.records import TRIAGE, IncidentFilter, IncidentOrder


def cases(now: datetime) -> dict[str, IncidentFilter]:
    month = now - timedelta(days=30)
    return {
        "open": IncidentFilter(states=OPEN_STATES),
        "all": IncidentFilter(),
        "breached": IncidentFilter(breached_by=now),
        "breached_open": IncidentFilter(breached_at=now),
        "month_one_service": IncidentFilter(services=("checkout",), opened_from=month),
        "search_all": IncidentFilter(search="latency"),
    }


async def measure(path: Path, runs: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    figures: dict[str, Any] = {}
    async with await Store.open(path) as store:
        incidents = store.incidents
        bare = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        for name, where in cases(now).items():
            clauses, params = incidents._where(where)
            order = ", ".join([*SORT_TERMS[TRIAGE], "id DESC"])
            floor_sql = f"SELECT {COLUMNS} FROM incidents {clauses} ORDER BY {order} LIMIT 100"
            count_sql = f"SELECT count(*) FROM incidents {clauses}"
            listed, floor = [], []
            total = 0
            for _ in range(runs + 1):  # the first run warms the cache; not counted
                began = time.perf_counter()
                bare.execute(floor_sql, params).fetchall()
                bare.execute(count_sql, params).fetchall()
                floor.append(time.perf_counter() - began)
                began = time.perf_counter()
                await incidents.find(where, 100, order=IncidentOrder(TRIAGE))
                total = await incidents.count(where, at_most=COUNT_AT_MOST + 1)
                listed.append(time.perf_counter() - began)
            listed, floor = listed[1:], floor[1:]
            figures[name] = {
                "matches": total,
                "list_s": {"median": round(statistics.median(listed), 4),
                           "worst": round(max(listed), 4)},
                "floor_s": {"median": round(statistics.median(floor), 4),
                            "worst": round(max(floor), 4)},
                "ratio": round(statistics.median(listed) / max(statistics.median(floor), 1e-6), 1),
            }  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=Path, required=True, help="a copy: opening migrates it")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    figures = asyncio.run(measure(args.store, args.runs))
    worst = max(figures.values(), key=lambda f: f["list_s"]["worst"])
    emit(
        {
            "benchmark": "lists",
            "filters": figures,
            "worst_list_s": worst["list_s"]["worst"],
            "under_1s": all(f["list_s"]["worst"] < 1.0 for f in figures.values()),
        }
    )


if __name__ == "__main__":
    main()
