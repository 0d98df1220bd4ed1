"""The service review as one self-contained HTML page, for `opsdesk report review --html`
and the console's Review screen (`w` writes it).

The page is made for someone who has never opened opsdesk: each section says in one line
what its figures mean, and it prints to PDF from a browser (a print stylesheet puts each
section on its own page). It needs nothing from the network: CSS is inline, fonts are the
system's, charts are inline SVG (console/ops/review_charts.py says why our own), and a
Content-Security-Policy forbids script and every external load.

Everything in the review that came from people (service and vendor names, incident
titles, review summaries) is untrusted: Jinja2 autoescapes it, the charts escape their
own labels, and control characters are dropped. Jinja2 is imported when a report is
rendered, not when the console or the CLI starts.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
from datetime import date, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsdesk.console.config.private_files import FILE_MODE, make_private_folders
from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.service_review import (
    PriorityTimes,
    Satisfaction,
    ServiceReview,
    Spread,
)
from opsdesk.console.domain.text import clean, one_line
from opsdesk.console.ops import review_charts as charts

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE = "service_review.html.j2"
REPORTS_FOLDER = "reports"
"""Under the user's data folder: where the console writes the reports it is asked for."""
BREACH_ROWS = 30
"""Breaches listed one by one in the report (worst first); the count covers them all."""
LIST_ROWS = 40
"""Open actions and problems listed one by one; the counts cover them all."""
MAX_TEXT = 2000
"""No single text from the store is printed longer than this (a runaway title or summary)."""


def render_review_html(review: ServiceReview) -> str:
    """The whole report as one HTML document (a `str`; write it as UTF-8)."""
    from markupsafe import Markup

    template = _environment().get_template(TEMPLATE)
    context: dict[str, Any] = {
        "r": review,
        "breach_rows": BREACH_ROWS,
        "list_rows": LIST_ROWS,
        "last_day": review.period.end - timedelta(microseconds=1),
        "all_times": _all_times(review),
        "csat_all": _csat_all(review),
        "spark": Markup(_spark(review)),
        **{name: Markup(svg) for name, svg in _charts(review).items()},
        "sla_floor": fmt.share(_sla_floor(review), 0),
        "vendor_floor": fmt.share(_vendor_floor(review), 0),
    }
    return str(template.render(context))


def reports_folder() -> Path:
    """Where the console writes reports: `reports/` in the user's opsdesk data folder
    (beside the store, e.g. ~/.local/share/opsdesk/reports), not the working directory,
    which over SSH is often a shared or read-only place."""
    import platformdirs

    return platformdirs.user_data_path("opsdesk") / REPORTS_FOLDER


def report_name(review: ServiceReview) -> str:
    """A file name for the review's period: service-review-2026-11-01_2026-11-30.html."""
    zone = _zone(review.period.timezone)
    first = _day(review.period.start, zone)
    last = _day(review.period.end - timedelta(microseconds=1), zone)
    return f"service-review-{first}_{last}.html"


def write_review_html(review: ServiceReview, folder: Path) -> Path:
    """Render the review and write it into `folder` (made 0700 if missing) as a 0600 file
    (business figures stay private to their owner), replacing an older copy of the same
    period atomically. Returns the full path. Blocking: call it off the event loop."""
    text = render_review_html(review)
    make_private_folders(folder)
    path = folder / report_name(review)
    fd, temporary = tempfile.mkstemp(prefix=".review-", suffix=".html", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


@functools.cache
def _environment() -> Environment:
    import jinja2

    def load(name: str) -> str:
        return resources.files("opsdesk.console.ops").joinpath("templates", name).read_text("utf-8")

    from markupsafe import Markup

    @jinja2.pass_context
    def day(context: Any, value: date | datetime | None) -> str:
        return _day(value, _zone(context["r"].period.timezone))

    @jinja2.pass_context
    def instant(context: Any, value: datetime | None) -> str:
        return _instant(value, _zone(context["r"].period.timezone))

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the tests, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(
        share=fmt.share,
        duration=fmt.duration,
        hours=fmt.hours,
        score=fmt.score,
        num=lambda n: f"{n:,}",  # counts with thousands separators, as the text says them
        minutes=lambda m: fmt.duration(timedelta(minutes=m)),
        clip=lambda text, limit: one_line(str(text), limit=min(limit, MAX_TEXT)),
        day=day,  # in the team's zone, which the review names
        instant=instant,
    )
    env.globals.update(
        badge=lambda status: Markup(charts.rag_badge(status)),
        trend=fmt.trend,
        arrow=fmt.arrow,
        money=fmt.money,
        measure_line=fmt.measure_line,
    )
    return env


def _finalize(value: object) -> object:
    """Every printed value: text loses control and bidi characters (Markup, our own
    charts, is left alone); autoescaping happens after this."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return clean(value, limit=MAX_TEXT)
    return value


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        from datetime import UTC

        return UTC


def _day(value: date | datetime | None, zone: tzinfo) -> str:
    if value is None:
        return fmt.NONE
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return value.isoformat()


def _instant(value: datetime | None, zone: tzinfo) -> str:
    if value is None:
        return fmt.NONE
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _all_times(review: ServiceReview) -> PriorityTimes:
    for times in review.incidents.times:
        if times.priority == "all":
            return times
    empty = Spread(0, None, None)
    return PriorityTimes("all", empty, empty)


def _csat_all(review: ServiceReview) -> Satisfaction:
    for satisfaction in review.customers:
        if satisfaction.service == "all":
            return satisfaction
    return Satisfaction("all", None, 0, 0, None, (0, 0, 0, 0, 0), 0.0)


def _spark(review: ServiceReview) -> str:
    return charts.sparkline(
        [float(n) for n in review.incidents.per_day], title="incidents opened per day"
    )


def _charts(review: ServiceReview) -> dict[str, str]:
    """The SVG of each chart, by the name the template uses ("" where there is nothing)."""
    sl = review.service_levels
    sla_floor = _sla_floor(review)
    sla = charts.bars(
        [
            charts.Bar(a.name, a.achieved or 0.0, fmt.share(a.achieved),
                       _met_css(a.achieved, a.agreed))
            for a in sl.by_service
            if a.achieved is not None
        ],
        scale=1.0, target=sl.target, target_label=f"target {fmt.share(sl.target)}",
        floor=sla_floor, title=f"SLA attainment per service (bars from {fmt.share(sla_floor, 0)})",
    )  # fmt: skip
    incidents = review.incidents
    volume = charts.bars(
        [
            charts.Bar(v.name, v.count, f"{v.count} · {fmt.trend(v.count, v.previous)}",
                       previous=v.previous)
            for v in incidents.by_service
            if v.count or v.previous
        ],
        title="Incidents opened per service (tick: previous period)",
    )  # fmt: skip
    csat = _csat_all(review)
    labels = ("1 very unhappy", "2 unhappy", "3 neutral", "4 happy", "5 very happy")
    colours = ("bar-red", "bar-red", "bar-amber", "bar-green", "bar-green")
    csat_chart = (
        charts.bars(
            [
                charts.Bar(label, count, str(count), css)
                for label, count, css in zip(labels, csat.distribution, colours, strict=True)
            ],
            title="How customers scored resolved incidents",
        )
        if csat.responses
        else ""
    )
    team = charts.bars(
        [
            charts.Bar(p.name, p.oncall_hours,
                       f"{fmt.hours(p.oncall_hours)} ({fmt.hours(p.off_hours)} off hours)")
            for p in review.team.people
        ],
        title="Hours on call per person",
    )  # fmt: skip
    ch = review.changes
    unfinished = max(ch.total - ch.finished, 0)
    changes = charts.stacked(
        [
            charts.Part("succeeded", ch.succeeded, "bar-green"),
            charts.Part("failed", ch.failed, "bar-red"),
            charts.Part("rolled back", ch.rolled_back, "bar-amber"),
            charts.Part("not finished", unfinished, "bar-grey"),
        ],
        title="Changes by outcome",
    )
    vendor_floor = _vendor_floor(review)
    vendors = charts.bars(
        [
            charts.Bar(v.vendor, v.availability, fmt.share(v.availability, 3),
                       "bar-grey" if v.met is None else "bar-green" if v.met else "bar-red")
            for v in review.vendors.vendors
            if v.availability is not None
        ],
        scale=1.0, floor=vendor_floor,
        title=f"Vendor availability in the period (bars from {fmt.share(vendor_floor, 0)})",
    )  # fmt: skip
    oc = review.outage_cost
    priced = oc.total_cost is not None
    cost = charts.bars(
        [
            charts.Bar(
                o.service,
                (o.cost or 0.0) if priced else o.downtime_minutes,
                fmt.money(o.cost, o.currency) if priced and o.cost is not None
                else fmt.duration(timedelta(minutes=o.downtime_minutes)),
                "bar-red",
            )
            for o in oc.services
            if o.downtime_minutes
        ],
        title="Cost of outages per service" if priced else "Minutes down per service",
    )  # fmt: skip
    return {
        "sla_chart": sla,
        "volume_chart": volume,
        "csat_chart": csat_chart,
        "team_chart": team,
        "changes_chart": changes,
        "vendor_chart": vendors,
        "cost_chart": cost,
    }


def _floor(shares: list[float]) -> float:
    """Where bars of shares start: a round 5 % below the lowest, so that 92 % and 99 %
    look different (0 when the lowest is under 50 %); the caption says where."""
    if not shares or min(shares) < 0.5:
        return 0.0
    return max(0.0, math.floor((min(shares) - 0.02) * 20) / 20)


def _sla_floor(review: ServiceReview) -> float:
    sl = review.service_levels
    return _floor([a.achieved for a in sl.by_service if a.achieved is not None] + [sl.target])


def _vendor_floor(review: ServiceReview) -> float:
    return _floor([v.availability for v in review.vendors.vendors if v.availability is not None])


def _met_css(achieved: float | None, agreed: float) -> str:
    if achieved is None:
        return "bar-grey"
    return "bar-green" if achieved >= agreed else "bar-red"
