"""The service review's number formatter for the faces (HTML report, Review screen, CLI
text and Markdown): the rules live in console/domain/review_format.py, beside the RAG rules
that also use them, so there is one way to write a share, a duration or an amount."""

from __future__ import annotations

from opsdesk.console.domain.review_format import (
    NONE,
    arrow,
    duration,
    hours,
    measure_kind,
    measure_line,
    measure_value,
    money,
    money_short,
    score,
    share,
    trend,
)

__all__ = [
    "NONE",
    "arrow",
    "duration",
    "hours",
    "measure_kind",
    "measure_line",
    "measure_value",
    "money",
    "money_short",
    "score",
    "share",
    "trend",
]
