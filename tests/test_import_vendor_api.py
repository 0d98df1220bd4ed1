"""PagerDuty and Opsgenie imported from a real HTTP server on 127.0.0.1 that pages as
each API pages (PagerDuty: offset/limit/more; Opsgenie: `paging.next`), rate limits
with 429 + Retry-After, and refuses a wrong key: every consistent case verifies to zero
differences, and each failure is one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk.console.domain.imports.mapping import plan_import
from opsdesk.console.domain.imports.model import Importer
from opsdesk.console.domain.imports.registry import importer
from opsdesk.console.domain.imports.verify import verify
from opsdesk.console.ops.import_fetch import FetchError, fetch_bundle
from tests.import_server import api_server
from tests.import_vendor_cases import (
    case_names,
    case_window,
    load_case,
    serve_opsgenie,
    serve_pagerduty,
)

SERVE: dict[str, Callable[..., None]] = {"pagerduty": serve_pagerduty, "opsgenie": serve_opsgenie}
HEADER = {"pagerduty": "Token token=s3cret", "opsgenie": "GenieKey s3cret"}
NOW = datetime(2027, 3, 14, 23, 0, tzinfo=UTC)
CASES = [(p, n) for p in ("pagerduty", "opsgenie") for n in case_names(p)]


def source(product: str) -> Importer:
    return importer(product)


@pytest.mark.parametrize(("product", "name"), CASES)
async def test_consistent_case_from_the_api_verifies_with_no_difference(
    product: str, name: str
) -> None:
    case = load_case(product, name)
    window = case_window(case)
    with api_server(token=HEADER[product]) as server:
        SERVE[product](server, case, page_size=1)  # every list spans pages
        fetched = await fetch_bundle(source(product), server.base, "s3cret", "TOKEN", window, NOW)
    team = source(product).parse(fetched, window)
    result = verify(plan_import(team, None), team, window)
    assert [d.line() for d in result.differences] == []
    assert result.schedules
    assert set(server.authorizations) == {HEADER[product]}
    listed = "/users" if product == "pagerduty" else "/v2/users"
    assert sum(1 for r in server.requests if r.split("?")[0] == listed) == len(case["users"])


async def test_pagerduty_asks_for_the_rendered_rota_and_overrides_over_the_window() -> None:
    case = load_case("pagerduty", "override-midnight")
    window = case_window(case)
    with api_server(token=HEADER["pagerduty"]) as server:
        serve_pagerduty(server, case)
        await fetch_bundle(source("pagerduty"), server.base, "s3cret", "TOKEN", window, NOW)
    [rendered] = [r for r in server.requests if r.startswith("/schedules/PSOVERR?")]
    assert "since=2027-03-21T23%3A00%3A00Z" in rendered and "time_zone=UTC" in rendered
    [overrides] = [r for r in server.requests if r.startswith("/schedules/PSOVERR/overrides")]
    assert "since=2027-03-21T23%3A00%3A00Z" in overrides
    assert "until=2028-03-13T23%3A00%3A00Z" in overrides  # a year after the fetch


async def test_opsgenie_asks_for_the_timeline_of_the_window() -> None:
    case = load_case("opsgenie", "weekly-dst")
    window = case_window(case)
    with api_server(token=HEADER["opsgenie"]) as server:
        serve_opsgenie(server, case)
        await fetch_bundle(source("opsgenie"), server.base, "s3cret", "TOKEN", window, NOW)
    [timeline] = [r for r in server.requests if r.startswith("/v2/schedules/s-week/timeline")]
    assert "interval=14" in timeline and "intervalUnit=days" in timeline


@pytest.mark.parametrize("product", ["pagerduty", "opsgenie"])
async def test_a_wrong_key_is_one_line_naming_the_variable(product: str) -> None:
    case = load_case(product, "weekly-dst")
    with api_server(token=HEADER[product]) as server:
        SERVE[product](server, case)
        with pytest.raises(FetchError) as caught:
            await fetch_bundle(source(product), server.base, "wrong", "PD_TOKEN", None, NOW)
    message = str(caught.value)
    assert "\n" not in message
    assert "$PD_TOKEN was refused (HTTP 401)" in message
    assert "wrong" not in message.replace("wrong key", "")


@pytest.mark.parametrize("product", ["pagerduty", "opsgenie"])
async def test_429_with_retry_after_is_waited_out(product: str) -> None:
    case = load_case(product, "nights-cross-midnight")
    window = case_window(case)
    with api_server(token=HEADER[product]) as server:
        SERVE[product](server, case)
        server.throttle, server.retry_after = 2, "0"
        fetched = await fetch_bundle(source(product), server.base, "s3cret", "TOKEN", window, NOW)
    assert server.throttled == 2
    team = source(product).parse(fetched, window)
    assert verify(plan_import(team, None), team, window).differences == ()


async def test_429_that_persists_is_one_line() -> None:
    case: dict[str, Any] = load_case("opsgenie", "weekly-dst")
    with api_server(token=HEADER["opsgenie"]) as server:
        serve_opsgenie(server, case)
        server.throttle, server.retry_after = 50, "0"
        with pytest.raises(FetchError) as caught:
            await fetch_bundle(source("opsgenie"), server.base, "s3cret", "TOKEN", None, NOW)
    assert "still rate limited (HTTP 429)" in str(caught.value)
    assert "\n" not in str(caught.value)
