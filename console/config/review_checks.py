"""Config checks for the service review's keys: targets that can be met (a percentage in
(0, 100], a CSAT score from 1 to 5, a time above zero), costs and budgets that are not
negative, and a business-hours calendar that exists. `loader.check_references` runs them
with the other cross-section checks, so `config check` names each mistake on one line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from opsdesk.console.config.model import Config
from opsdesk.console.config.schema import SchemaError, suggest


def _percent(path: tuple[str | int, ...], value: float | None) -> Iterator[SchemaError]:
    if value is not None and not 0 < value <= 100:
        yield SchemaError(path, f"expected a percentage above 0 and at most 100, got {value:g}")


def _score(path: tuple[str | int, ...], value: float | None) -> Iterator[SchemaError]:
    if value is not None and not 1 <= value <= 5:
        yield SchemaError(path, f"expected a CSAT score from 1 to 5, got {value:g}")


def _positive(path: tuple[str | int, ...], value: timedelta | None) -> Iterator[SchemaError]:
    if value is not None and value <= timedelta(0):
        yield SchemaError(path, "expected a time longer than zero")


def _amount(path: tuple[str | int, ...], value: float | None) -> Iterator[SchemaError]:
    if value is not None and value < 0:
        yield SchemaError(path, f"expected an amount of 0 or more, got {value:g}")


def review_errors(config: Config, names: object = None) -> Iterator[SchemaError]:
    """Every mistake in `[service_review]`, the services' review targets and costs, and
    the vendors' contracted availability and budget."""
    review = config.service_review
    where = ("service_review",)
    calendars = config.sla.calendars
    if review.business_hours and review.business_hours not in calendars:
        known = list(calendars)
        hint = suggest(review.business_hours, known) if known else " (no calendar is defined)"
        yield SchemaError(
            (*where, "business_hours"), f'unknown calendar "{review.business_hours}"{hint}'
        )
    yield from _percent((*where, "sla_target"), review.sla_target)
    yield from _score((*where, "csat_target"), review.csat_target)
    yield from _positive((*where, "mttr_target"), review.mttr_target)
    if review.amber_margin < 0:
        yield SchemaError((*where, "amber_margin"), "expected a percentage of 0 or more")
    if not review.currency.strip():
        yield SchemaError((*where, "currency"), "expected a currency code, e.g. USD")
    for index, service in enumerate(config.services):
        at: tuple[str | int, ...] = ("services", index)
        yield from _percent((*at, "sla_target"), service.sla_target)
        yield from _score((*at, "csat_target"), service.csat_target)
        yield from _positive((*at, "mttr_target"), service.mttr_target)
        yield from _amount((*at, "cost_per_hour"), service.cost_per_hour)
    for index, vendor in enumerate(config.vendors):
        if vendor.contract is None:
            continue
        where_: tuple[str | int, ...] = ("vendors", index, "contract")
        yield from _amount((*where_, "cost"), vendor.contract.cost)
        yield from _percent((*where_, "availability"), vendor.contract.availability)
        yield from _amount((*where_, "budget"), vendor.contract.budget)
