"""Terminal charts for the Review screen, in plain Unicode blocks so they read at 80x24,
over SSH, in tmux and in any font: a horizontal bar in eighths of a cell, a sparkline of
eight heights, and a stacked bar split by counts. Each returns a `Text`; labels are
drawn literally (never parsed as markup) and cleaned of control characters."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text

from opsdesk.console.domain.text import one_line

EIGHTHS = " ▏▎▍▌▋▊▉█"
LEVELS = "▁▂▃▄▅▆▇█"


def bar(value: float, top: float, width: int) -> str:
    """A bar `width` cells long at `top`, `value` long, in eighths of a cell (an empty
    string for nothing; at least a sliver for anything above nothing)."""
    if top <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = round(min(value, top) / top * width * 8)
    full, part = divmod(max(eighths, 1), 8)
    return "█" * full + (EIGHTHS[part] if part else "")


def spark(values: Sequence[float]) -> str:
    """One character per value, from ▁ (zero, or the lowest if below it) to █ (the
    highest): counts are drawn from zero, so 55 and 56 incidents a day look alike."""
    if not values:
        return ""
    low, high = min(0.0, *values), max(values)
    span = high - low
    if span <= 0:
        return LEVELS[0] * len(values)
    return "".join(LEVELS[round((v - low) / span * (len(LEVELS) - 1))] for v in values)


def zoom(shares: Sequence[float]) -> float:
    """Where bars of shares near 100 % should start so that 92 % and 99 % look different:
    a round 5 % below the lowest (0 when the lowest is under 50 %). Say it beside the
    chart ("bars from 85 %")."""
    if not shares:
        return 0.0
    lowest = min(shares)
    if lowest < 0.5:
        return 0.0
    return max(0.0, math.floor((lowest - 0.02) * 20) / 20)


def label(text: str, width: int) -> str:
    """A label cut and padded to `width` cells (cleaned of control characters)."""
    return one_line(text, limit=width).ljust(width)


def bar_line(
    name: str, value: float, top: float, shown: str, *, name_width: int = 14,
    bar_width: int = 30, style: str = "", mark: float | None = None,
) -> Text:  # fmt: skip
    """`name ████▌       shown`: a labelled bar; `mark` puts a │ at that value (a target,
    or last period's count) when it falls beyond the bar."""
    line = Text(label(name, name_width) + " ")
    drawn = bar(value, top, bar_width)
    cells = list(drawn.ljust(bar_width))
    if mark is not None and top > 0:
        at = min(int(min(mark, top) / top * bar_width), bar_width - 1)
        if at >= len(drawn.rstrip()):
            cells[at] = "│"
    body = "".join(cells)
    line.append(body[: len(drawn)], style=style or "")
    line.append(body[len(drawn) :], style="dim")
    line.append(" " + one_line(shown, limit=30))
    return line


def stacked_line(parts: Sequence[tuple[str, int, str]], width: int = 50) -> Text:
    """One bar split in proportion to the counts of `parts` (label, count, style), then
    a legend with each label and count."""
    total = sum(max(n, 0) for _, n, _ in parts)
    line = Text()
    if total <= 0:
        return line
    used = 0
    drawn = [p for p in parts if p[1] > 0]
    for index, (_, count, style) in enumerate(drawn):
        cells = width - used if index == len(drawn) - 1 else round(count / total * width)
        cells = max(cells, 1)
        line.append("█" * cells, style=style)
        used += cells
    line.append("\n")
    for index, (name, count, style) in enumerate(parts):
        if index:
            line.append("  ")
        line.append("█", style=style)
        line.append(f" {one_line(name, limit=20)} {count}")
    return line
