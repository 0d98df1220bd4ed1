"""The service review as JSON data for tools: every figure of the model, durations as
`<name>_seconds` numbers (as `incident metrics --json` writes them), instants as ISO-8601
UTC, dates as ISO dates, and each volume's relative `change` against the previous period."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

from opsdesk.console.domain.review_format import measure_kind
from opsdesk.console.domain.service_review import Measure, ServiceReview, Volume

SCHEMA = 1  # bumped when a field changes meaning (fields are only ever added)


def _data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for item in dataclasses.fields(value):
            inner = getattr(value, item.name)
            if isinstance(inner, timedelta):
                out[f"{item.name}_seconds"] = round(inner.total_seconds(), 1)
            elif inner is None and item.type in ("timedelta | None",):
                out[f"{item.name}_seconds"] = None
            else:
                out[item.name] = _data(inner)
        if isinstance(value, Volume):
            out["change"] = _data(value.change)
        if isinstance(value, Measure):  # a share, seconds or a score, by measure
            out["unit"] = MEASURE_UNITS[measure_kind(value)]
        return out
    if isinstance(value, tuple | list):
        return [_data(v) for v in value]
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


MEASURE_UNITS = {"share": "fraction", "duration": "seconds", "score": "score of 5"}
UNITS = {
    "shares": "fractions from 0 to 1 (achieved, agreed, availability, rates, ratios, change)",
    "durations": "seconds, in keys ending _seconds",
    "money": "in the currency named beside it, per year where the key says annual",
    "instants": "ISO-8601 UTC; dates in the team's zone",
    "rag.measures": "value and target in the measure's unit",
}


def review_data(review: ServiceReview) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": SCHEMA, "units": UNITS, **_data(review)}
    return data
