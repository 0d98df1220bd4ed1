"""`opsdesk report review`: the monthly service review for the IT service manager.

`--month YYYY-MM` (the month in the team's zone, `[service_review] timezone`) or
`--from DATE --to DATE` (whole days, inclusive); a readable summary by default, `--json`
with every figure for tools, `--markdown` for a wiki, `--html FILE` for a self-contained
page to print or send. Every figure comes from console/ops/service_review.py, as the
console's Review screen shows it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsdesk.console.cli.common import now, options_from
from opsdesk.console.cli.output import emit_json, emit_line, emit_table
from opsdesk.console.domain.review_period import (
    PeriodError,
    day_range,
    month_period,
    parse_day,
    team_zone,
)
from opsdesk.console.domain.service_review import Period, ServiceReview
from opsdesk.console.errors import InputError, OpsdeskError, UsageError
from opsdesk.console.ops.session import open_session

HTML_LIMIT = 50_000_000  # a report is a few hundred kilobytes; anything near this is a bug


def period_from(args: argparse.Namespace, zone: str) -> Period:
    """The period the flags name, or a UsageError saying which flag is wrong."""
    month, first, last = args.month, args.from_, args.to
    try:
        if month is not None:
            if first is not None or last is not None:
                raise UsageError("report review: give --month or --from/--to, not both")
            return month_period(month, zone)
        if first is None or last is None:
            raise UsageError(
                "report review: give --month YYYY-MM, or both --from DATE and --to DATE"
            )
        return day_range(parse_day("--from", first), parse_day("--to", last), zone)
    except PeriodError as exc:
        raise InputError(f"report review: {exc}") from None


def print_text(review: ServiceReview) -> None:
    from opsdesk.console.ops.review_tables import heading, sections

    emit_line(heading(review))
    for section in sections(review):
        emit_line("")
        emit_line(section.title.upper())
        for sentence in section.lines:
            emit_line(sentence)
        for table in section.tables:
            if table.caption:
                emit_line(f"{table.caption}:")
            if table.rows:
                emit_table(list(table.headers), [list(r) for r in table.rows])
            else:
                emit_line("  none")


def _write_html(review: ServiceReview, target: str) -> Path:
    """Write the HTML report to `target` as a file only its owner can read (business
    figures), replacing an older one atomically."""
    from opsdesk.console.ops.review_html import render_review_html

    html = render_review_html(review)
    if len(html) > HTML_LIMIT:
        raise OpsdeskError(f"--html: the report came out at {len(html):,} characters; not written")
    path = Path(target).expanduser()
    if path.is_dir():
        raise InputError(
            f"report review: --html {target}: is a folder; give a file name, e.g. review.html"
        )
    if not path.parent.is_dir():
        raise InputError(f"report review: --html {target}: no folder {path.parent}")
    try:
        fd, temporary = tempfile.mkstemp(prefix=".review-", suffix=".html", dir=path.parent)
    except OSError as exc:
        raise OpsdeskError(f"--html {target}: cannot write there: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(html)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OpsdeskError(f"--html {target}: cannot write it: {exc.strerror}") from None
    return path


async def review(args: argparse.Namespace) -> int:
    from opsdesk.console.ops.service_review import build_review

    at = now()
    session = await open_session(options_from(args), create=False)
    try:
        period = period_from(args, team_zone(session.config))
        found = await build_review(session.store, session.config, period, at)
    finally:
        await session.close()
    if args.html:
        written = _write_html(found, args.html)
        sys.stderr.write(f"opsdesk: review of {found.period.label} written to {written}\n")
        if not (args.json or args.markdown):
            return 0
    if args.json:
        from opsdesk.console.ops.review_json import review_data

        emit_json(review_data(found))
    elif args.markdown:
        from opsdesk.console.ops.review_markdown import render_markdown

        sys.stdout.write(render_markdown(found))
    else:
        print_text(found)
    return 0


def add_period_flags(parser: argparse.ArgumentParser, *, month: bool) -> None:
    if month:
        parser.add_argument("--month", metavar="YYYY-MM", help="a month in the team's zone")
    parser.add_argument(
        "--from", dest="from_", metavar="DATE", help="first day (YYYY-MM-DD), inclusive"
    )
    parser.add_argument("--to", metavar="DATE", help="last day (YYYY-MM-DD), inclusive")


def add_parser(command: Callable[[str, Callable[..., Any], str], Any], add_action: Any) -> None:
    from opsdesk.console.cli.parsing import Parser

    report = command("report", review, "reports for the service manager: the service review")
    sub = report.add_subparsers(
        title="report commands", metavar="ACTION", parser_class=Parser, required=True
    )
    p = add_action(
        sub,
        "review",
        review,
        "the monthly service review: SLAs, incidents, customers, team, changes, vendors,"
        " outage cost, improvement",
    )
    p.description = (
        "The monthly service review for the IT service manager (ITIL): per service, SLA"
        " attainment against targets with every breach explained, incident volume and trend,"
        " MTTA/MTTR, CSAT, on-call load, changes, vendor availability and spend, outage cost"
        " and open actions, for a month or whole days in the team's zone, compared with the"
        " period before. Not the post-incident reviews of single incidents: those are"
        " `opsdesk review`. In the console the same figures are on the Review screen (6,"
        " :review, :service-review or :sr)."
    )
    add_period_flags(p, month=True)
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="every figure as JSON")
    shape.add_argument("--markdown", action="store_true", help="Markdown for a wiki page")
    p.add_argument("--html", metavar="FILE", help="also write the report as one HTML file")
