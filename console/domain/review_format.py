"""How the service review's figures read to people: the one formatter behind the CLI's
text, the Markdown, the HTML report, the console's Review screen and the reasons the RAG
summary gives, so all of them say "99.2 %", "2h 10m" and "12,000 EUR" the same way (and
none rounds a miss up to 100 %). JSON keeps the raw numbers.

It lives in the domain because the RAG rules write their reasons with it; the faces
import it from here.

The model (console/domain/service_review.py) keeps shares as fractions, durations as
`timedelta` and money as floats; these turn them into short text, and say "—" where
there was nothing to measure (None), never "0" or "nan".
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: `incident list` loads this module, not the review's records
    from opsdesk.console.domain.service_review import Measure

NONE = "—"


def share(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: 0.9925 → "99.3 %" (100 % only when it is exactly 1)."""
    if value is None:
        return NONE
    shown = f"{value * 100:.{digits}f}"
    if value < 1 and float(shown) >= 100:  # never round a miss up to 100 %
        shown = f"{math.floor(value * 100 * 10**digits) / 10**digits:.{digits}f}"
    return f"{shown} %"


def duration(value: timedelta | float | None) -> str:
    """A span, two units at most: 45s, 12m, 2h 10m, 3d 4h."""
    if value is None:
        return NONE
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    seconds = abs(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


def hours(value: float | None) -> str:
    """Hours with one decimal below 10 and none above: 7.5 h, 168 h."""
    if value is None:
        return NONE
    if value == 0:
        return "0 h"
    return f"{value:.1f} h" if abs(value) < 10 else f"{value:,.0f} h"


def money(value: float | None, currency: str = "") -> str:
    """An amount with thousands separators, no cents above 100: "12,000 EUR"."""
    if value is None:
        return NONE
    amount = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{amount} {currency}".strip()


def money_short(value: float | None, currency: str = "") -> str:
    """An amount where a line is short (the console's summary at 80 columns): "1.73M USD",
    "48.2k USD", "950 USD" (three significant figures from 10,000 up)."""
    if value is None or abs(value) < 10_000:
        return money(value, currency)
    for size, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size * 0.9995:
            return f"{float(f'{value / size:.3g}'):g}{unit} {currency}".strip()
    return money(value, currency)


def score(value: float | None) -> str:
    """A CSAT score out of 5."""
    return NONE if value is None else f"{value:.2f} / 5"


def trend(count: int, previous: int) -> str:
    """The change against the previous period: "+3 (+25 %)", "−2 (−40 %)", "new", "same"."""
    diff = count - previous
    if diff == 0:
        return "same"
    if previous == 0:
        return "new" if count else "same"
    sign = "+" if diff > 0 else "−"
    percent = abs(diff) / previous * 100
    shown = f"{percent:.0f}" if percent >= 0.5 else f"{percent:.1g}"  # never "−0 %"
    return f"{sign}{abs(diff)} ({sign}{shown} %)"


def arrow(count: int, previous: int) -> str:
    """▲ more, ▼ fewer, = the same as the previous period."""
    return "▲" if count > previous else "▼" if count < previous else "="


def measure_kind(measure: Measure) -> str:
    """What a measure's value is: "share", "duration" (seconds) or "score" (CSAT),
    from its name (the model gives a share, seconds or a score, by measure)."""
    name = measure.name.casefold()
    if "csat" in name or "satisfaction" in name:
        return "score"
    if any(word in name for word in ("mttr", "mtta", "time", "duration")):
        return "duration"
    return "share"


def measure_value(measure: Measure, value: float | None = None) -> str:
    """A measure's value (or `value` in its unit, e.g. its target) as people read it."""
    figure = measure.value if value is None else value
    kind = measure_kind(measure)
    if kind == "duration":
        return duration(figure)
    if kind == "score":
        return score(figure)
    return share(figure)


def measure_line(measure: Measure) -> str:
    """ "SLA attainment 97.5 % (target 99.0 %)" """
    return (
        f"{measure.name} {measure_value(measure)} (target {measure_value(measure, measure.target)})"
    )
