"""Status endpoints that misbehave at the TCP level, all polled at once beside a good one:
`opsdesk poll` ends in bounded time and memory, each bad source gets a one-line error
state, and the good source is polled as if nothing happened."""

from __future__ import annotations

from pathlib import Path

from tests.reliability import HOSTILE, TIMEOUT_S, run_hostile_endpoints


def test_hostile_endpoints_cost_bounded_time_and_memory_and_spare_the_good_one(
    tmp_path: Path,
) -> None:
    run = run_hostile_endpoints(tmp_path)
    # Every source at once: the slowest is the drip, cut off at twice its timeout.
    assert run.seconds < 2 * TIMEOUT_S + 8, run.seconds  # + interpreter start-up, busy machine
    assert run.peak_mb < 200, run.peak_mb
    assert run.polled["good"]["level"] == "operational" and run.polled["good"]["error"] is None
    for name, (_, expected) in HOSTILE.items():
        error = run.polled[name]["error"] or ""
        assert expected in error, (name, error)
        assert "\n" not in error
    assert run.stored["good"]["error"] is None
    assert all(run.stored[name]["error"] for name in HOSTILE)
