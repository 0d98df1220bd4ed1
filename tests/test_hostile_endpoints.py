"""Status endpoints that misbehave at the TCP level, all polled at once beside a good one:
`opsdesk poll` ends in bounded time and memory, each bad source gets a one-line error
state, and the good source is polled as if nothing happened. Compression bombs (gzip and
deflate answers that inflate to gigabytes) cost no more than an honest body at the cap,
and compressed answers, honest or broken, are read or refused in one line."""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsdesk.plugins.api import MAX_BODY, AdapterError, Source, get_body
from tests.hostile_server import OK_BODY, hostile_server
from tests.reliability import HOSTILE, TIMEOUT_S, run_hostile_endpoints, run_measured


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


# Compression bombs ----------------------------------------------------------------------

BOMBS = {  # source name prefix: (path, what it inflates to)
    "gzip-bomb": ("/gzip-bomb", "10 MiB of zeros from 10 KB of gzip"),
    "deflate-bomb": ("/deflate-bomb", "10 MiB of zeros from 10 KB of deflate"),
    "gzip-gigabytes": ("/gzip-gigabytes", "2 GiB of zeros, streamed"),
}
COPIES = 3  # of each bomb, polled at once
MIB = 1024 * 1024


def _poll_config(base: str, paths: dict[str, str]) -> str:
    return '[[vendors]]\nname = "V"\n' + "".join(
        f'[[sources]]\nname = "{name}"\nplugin = "statuspage"\nurl = "{base}{path}?x=.json"\n'
        f'vendor = "V"\ntimeout = "5s"\nretries = 0\n'
        for name, path in paths.items()
    )


def _poll_measured(folder: Path, base: str, paths: dict[str, str]) -> tuple[dict[str, Any], float]:
    """`opsdesk poll --once --json` over `paths` in its own process: results, peak MB."""
    folder.mkdir(parents=True)
    team = folder / "team.toml"
    team.write_text(_poll_config(base, paths), encoding="utf-8")
    argv = [sys.executable, "-m", "opsdesk.console", "--config", str(team),
            "--store", str(folder / "s.db"), "poll", "--once", "--json"]  # fmt: skip
    out, err, peak_mb = run_measured(argv)
    assert "Traceback" not in err, err
    return {r["source"]: r for r in json.loads(out)}, peak_mb


def test_compression_bombs_cost_no_more_memory_than_an_honest_body(tmp_path: Path) -> None:
    """Nine bombs polled at once beside a good source: each is cut off at the 5 MB cap
    as it inflates, so the poll's peak memory is that of nine honest 5 MB bodies over a
    poll of ten small answers (before: about 130 MB more per bomb)."""
    bombs = {f"{name}-{n}": path for name, (path, _) in BOMBS.items() for n in range(COPIES)}
    with hostile_server() as server:
        quiet = {f"ok-{n}": "/ok" for n in range(len(bombs) + 1)}
        baseline, quiet_mb = _poll_measured(tmp_path / "quiet", server.base, quiet)
        polled, bombs_mb = _poll_measured(tmp_path / "bombs", server.base, bombs | {"good": "/ok"})
    assert all(r["error"] is None for r in baseline.values()), baseline
    assert polled["good"]["level"] == "operational" and polled["good"]["error"] is None
    for name in bombs:
        error = polled[name]["error"] or ""
        assert error.startswith(f"response larger than {MAX_BODY:,} bytes once decompressed ("), (
            name, error)  # fmt: skip
    # Each bomb may hold what an honest body may (the cap) and a little bookkeeping.
    bound = len(bombs) * (MAX_BODY / MIB + 2)
    assert bombs_mb - quiet_mb < bound, (bombs_mb, quiet_mb, bound)


async def _get(
    path: str, base: str, max_body: int = MAX_BODY, client: httpx.AsyncClient | None = None
) -> bytes:
    source = Source(name="s", url=base + path, timeout=5.0, max_body=max_body)
    if client is not None:
        return (await get_body(client, source, source.url)).body
    async with httpx.AsyncClient() as own:
        return (await get_body(own, source, source.url)).body


@pytest.mark.parametrize("name", sorted(BOMBS))
async def test_a_bomb_never_inflates_past_the_cap_in_one_step(name: str) -> None:
    """In-process and exact: the most allocated while reading a bomb is the body up to
    the cap, never a network chunk inflated whole (httpx's own decoder made 64 MB out
    of one 64 KB read)."""
    cap = 1 * MIB
    with hostile_server() as server:
        async with httpx.AsyncClient() as client:  # made first: its TLS set-up is not traced
            tracemalloc.start()
            try:
                with pytest.raises(AdapterError) as caught:
                    await _get(BOMBS[name][0], server.base, max_body=cap, client=client)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert str(caught.value).startswith(f"response larger than {cap:,} bytes once decompressed")
    assert peak < cap + MIB // 2, peak


@pytest.mark.parametrize("path", ["/ok-gzip", "/ok-deflate", "/ok-deflate-raw", "/ok-gzip-twice"])
async def test_compressed_answers_are_read_as_before(path: str) -> None:
    with hostile_server() as server:
        assert await _get(path, server.base) == OK_BODY


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/gzip-corrupt", "the gzip body is corrupt (Error -3 while decompressing data"),
        ("/brotli", "the answer is compressed with br, which is not supported"),
        ("/gzip-four-times", "the answer is compressed 4 times over (at most 3)"),
        ("/gzip-then-garbage", f"response larger than {MAX_BODY:,} bytes"),
        ("/gigabytes", f"response larger than {MAX_BODY:,} bytes"),
    ],
)
async def test_broken_compressed_answers_are_one_line_errors(path: str, expected: str) -> None:
    with hostile_server() as server, pytest.raises(AdapterError) as caught:
        await _get(path, server.base)
    assert str(caught.value).startswith(expected), str(caught.value)
    assert "\n" not in str(caught.value)
