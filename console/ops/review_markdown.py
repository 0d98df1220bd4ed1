"""The service review as Markdown for a wiki page: the same tables as the text summary
(console/ops/review_tables.py). Every cell is escaped, so a ticket title or a name shows as
its characters and never becomes a link, HTML, a heading or a broken table; headings,
captions and the sentences of figures are opsdesk's own words and numbers."""

from __future__ import annotations

from opsdesk.console.domain.markdown import inline
from opsdesk.console.domain.service_review import ServiceReview
from opsdesk.console.ops.review_tables import Table, heading, sections


def _table(table: Table) -> list[str]:
    out = [f"**{table.caption}**", ""] if table.caption else []
    if not table.rows:
        return [*out, "None.", ""]
    out.append("| " + " | ".join(table.headers) + " |")
    out.append("|" + "|".join(" --- " for _ in table.headers) + "|")
    for row in table.rows:
        out.append("| " + " | ".join(inline(cell) or " " for cell in row) + " |")
    return [*out, ""]


def render_markdown(review: ServiceReview) -> str:
    lines = [f"# Service review: {review.period.label}", "", heading(review), ""]
    for section in sections(review):
        lines += [f"## {section.title}", ""]
        for sentence in section.lines:
            lines += [sentence, ""]
        for table in section.tables:
            lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"
