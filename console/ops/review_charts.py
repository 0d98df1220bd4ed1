"""Small inline-SVG charts for the HTML service review: horizontal bars (with an optional
target mark and the previous period's value), a sparkline, a stacked bar and a
red/amber/green badge.

Why our own helpers rather than a chart library. pygal (the best-known SVG library)
loads its tooltip script from a CDN unless told not to, gives every chart ids and a
`<style>` block that collide when several charts sit in one page (pygal issue #563),
and draws its own fonts and backgrounds, which fight a print stylesheet. leather is
small and clean but would be one more dependency for four shapes, and has neither a
sparkline nor a badge. These four shapes are each a few lines of SVG; written here they
carry no script, no ids, no external reference, take their colours from the page's CSS
classes (so print and screen styles apply), and escape every text they draw, which a
report made of store data (untrusted) needs above all.

Every function returns SVG markup as a `str` that is safe to insert into HTML as is:
numbers are formatted here, and every label goes through `escape()`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opsdesk.console.domain.text import one_line

LABEL_CHARS = 28
"""Labels longer than this are cut (with an ellipsis); the full text is in the title."""


def escape(text: object, limit: int | None = None) -> str:
    """Text for HTML or SVG: on one line, control and bidi characters dropped, `<>&"'`
    escaped. `limit` cuts long labels (with an ellipsis)."""
    return html.escape(one_line(str(text), limit=limit), quote=True)


def _num(value: float) -> str:
    """A coordinate: short, no exponent, never NaN or infinite."""
    if value != value or value in (float("inf"), float("-inf")):
        value = 0.0
    return f"{value:.1f}".rstrip("0").rstrip(".") or "0"


@dataclass(frozen=True)
class Bar:
    """One bar: `label` (untrusted text), `value`, what to print beside it (`shown`,
    e.g. "99.2 %"), a CSS class for its colour, and optionally last period's value."""

    label: str
    value: float
    shown: str
    css: str = "bar"
    previous: float | None = None


def _value_x(item: Bar, x: Callable[[float], float], target: float | None) -> float:
    """Where a bar's value is written: after the bar and after its previous-period tick,
    and past the target line rather than through it, so no line crosses the figures."""
    start = max(x(item.value), x(item.previous) if item.previous is not None else 0.0) + 5
    if target is not None:
        line, wide = x(target), 7 * len(one_line(item.shown, limit=28))
        if start - 4 <= line <= start + wide:
            start = line + 5
    return start


def bars(
    items: Sequence[Bar],
    *,
    scale: float | None = None,
    target: float | None = None,
    target_label: str = "",
    floor: float = 0.0,
    width: int = 640,
    row: int = 22,
    title: str = "",
) -> str:
    """Horizontal bars, one per item, labels on the left and values on the right.
    `scale` is the value of a full bar (the largest value when None); `target` draws a
    dashed line across all bars (e.g. the SLA target); a `previous` value is a tick.
    `floor` is where bars start (shares near 100 % read better from 85 %: say so beside
    the chart)."""
    if not items:
        return ""
    top = scale if scale is not None else max(max(i.value for i in items), 0.0)
    previous = [i.previous for i in items if i.previous is not None]
    if scale is None and previous:
        top = max(top, *previous)
    if target is not None and scale is None:
        top = max(top, target)
    top = top or 1.0
    label_w = 190
    value_w = max(60, 7 * max(len(one_line(i.shown, limit=28)) for i in items) + 10)
    plot = width - label_w - value_w
    height = row * len(items) + (16 if target is not None else 4)

    span = (top - floor) or 1.0

    def x(value: float) -> float:
        return label_w + plot * max(0.0, min(value, top) - floor) / span

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for n, item in enumerate(items):
        y = n * row + 2
        parts.append(
            f'<text class="label" x="{label_w - 6}" y="{_num(y + row * 0.65)}" '
            f'text-anchor="end"><title>{escape(item.label)}</title>'
            f"{escape(item.label, LABEL_CHARS)}</text>"
        )
        parts.append(
            f'<rect class="{escape(item.css)}" x="{label_w}" y="{_num(y + 3)}" '
            f'width="{_num(x(item.value) - label_w)}" height="{_num(row - 8)}"/>'
        )
        if item.previous is not None:
            px = _num(x(item.previous))
            parts.append(
                f'<line class="previous" x1="{px}" x2="{px}" y1="{_num(y + 1)}" '
                f'y2="{_num(y + row - 3)}"/>'
            )
        parts.append(
            f'<text class="value" x="{_num(_value_x(item, x, target))}" '
            f'y="{_num(y + row * 0.65)}">{escape(item.shown, 28)}</text>'
        )
    if target is not None:
        tx = _num(x(target))
        bottom = row * len(items) + 2
        parts.append(f'<line class="target" x1="{tx}" x2="{tx}" y1="0" y2="{bottom}"/>')
        parts.append(
            f'<text class="target-label" x="{tx}" y="{bottom + 12}" '
            f'text-anchor="middle">{escape(target_label, 30)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(values: Sequence[float], *, width: int = 160, height: int = 28,
              title: str = "") -> str:  # fmt: skip
    """A line through `values` (e.g. incidents per day), its last point marked; empty
    for fewer than two values. Drawn from zero, so a day with one more incident does not
    look like a surge."""
    if len(values) < 2:
        return ""
    low, high = min(0.0, *values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    points = [
        (2 + n * step, height - 3 - (height - 6) * (v - low) / span) for n, v in enumerate(values)
    ]
    line = " ".join(f"{_num(px)},{_num(py)}" for px, py in points)
    last_x, last_y = points[-1]
    head = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg class="spark" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">{head}'
        f'<polyline class="spark-line" fill="none" points="{line}"/>'
        f'<circle class="spark-end" cx="{_num(last_x)}" cy="{_num(last_y)}" r="2.5"/></svg>'
    )


@dataclass(frozen=True)
class Part:
    """One part of a stacked bar: a label (untrusted), its count and a CSS class."""

    label: str
    value: float
    css: str


def stacked(parts: Sequence[Part], *, width: int = 640, height: int = 18,
            title: str = "") -> str:  # fmt: skip
    """One bar split into parts in proportion (e.g. changes: successful, failed, rolled
    back), with a legend under it giving each part's label and count."""
    total = sum(max(p.value, 0.0) for p in parts)
    if total <= 0:
        return ""
    legend_h = 18
    out = [
        f'<svg class="chart stacked" role="img" viewBox="0 0 {width} {height + legend_h + 4}" '
        f'width="{width}" height="{height + legend_h + 4}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    x = 0.0
    for part in parts:
        w = width * max(part.value, 0.0) / total
        if w > 0:
            out.append(
                f'<rect class="{escape(part.css)}" x="{_num(x)}" y="0" width="{_num(w)}" '
                f'height="{height}"><title>{escape(part.label)}: {_num(part.value)}</title>'
                "</rect>"
            )
        x += w
    lx = 0
    for part in parts:
        out.append(
            f'<rect class="{escape(part.css)}" x="{lx}" y="{height + 8}" width="10" '
            f'height="10"/><text class="legend" x="{lx + 14}" y="{height + 17}">'
            f"{escape(part.label, 18)} {_num(part.value)}</text>"
        )
        lx += 150
    out.append("</svg>")
    return "".join(out)


RAG_WORDS = {"green": "On target", "amber": "At risk", "red": "Missed", "grey": "No data"}


def rag_badge(status: str) -> str:
    """A coloured dot with its word: green "On target", amber "At risk", red "Missed"
    (the word is there so it reads in black and white and to a screen reader)."""
    key = status.lower() if status.lower() in RAG_WORDS else "grey"
    word = RAG_WORDS[key]
    return (
        f'<span class="rag rag-{key}"><svg viewBox="0 0 12 12" width="12" height="12" '
        f'aria-hidden="true" xmlns="http://www.w3.org/2000/svg"><circle cx="6" cy="6" r="5.5"/>'
        f"</svg> {escape(word)}</span>"
    )
