"""The HTML service review: every section and figure on the page, store text drawn
literally (a service called `<script>`, a title that closes a cell and opens an <img>),
a page that needs nothing from the network, the file the console writes, and the page
opened in a real headless browser (Debian's chromium) and printed to PNG and PDF.

The checkers used here (`active_content`, `external_references`) are each shown to fail
on a page that has what they look for."""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil
import stat
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.review_period import month_period, team_zone
from opsdesk.console.domain.service_review import ServiceReview
from opsdesk.console.ops import review_charts as charts
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.review_html import render_review_html, report_name, write_review_html
from opsdesk.console.ops.service_review import build_review
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.review_sections import summary
from tests.review_sample import HOSTILE_SERVICE, HOSTILE_VENDOR, sample_review

SECTIONS = [
    "1. Summary",
    "2. Service levels",
    "3. Incidents",
    "4. Customers",
    "5. The team",
    "6. Changes",
    "7. Vendors",
    "8. What outages cost",
    "9. Improvement",
]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """What a browser would make of the page: its tags with attributes, its headings and
    its text (entities decoded)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.headings: list[str] = []
        self.parts: list[str] = []
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag == "h2":
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def active_content(text: str) -> list[str]:
    """Everything in a page that could run or load something: script/iframe/object/embed/
    img/link/meta-refresh tags, on* handlers, javascript: URLs and src/href attributes."""
    found = []
    for tag, attrs in Page(text).tags:
        if tag in ("script", "iframe", "object", "embed", "img", "link", "base", "form"):
            found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name in ("src", "href", "action", "xlink:href", "srcset"):
                found.append(f"<{tag} {name}={value}>")
            if value and "javascript:" in value.replace(" ", "").lower():
                found.append(f"<{tag} {name}=javascript:>")
    return found


def external_references(text: str) -> list[str]:
    """URLs and CSS loads a self-contained page must not have (the SVG namespace, a
    name and not a load, is allowed)."""
    allowed = "http://www.w3.org/2000/svg"
    found = [u for u in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>)]*", text)
             if u != allowed]  # fmt: skip
    found += re.findall(r"@import|url\(", text)
    return found


def test_the_checkers_find_what_they_look_for() -> None:
    bad = (
        '<p onclick="x()">a</p><script>1</script><img src="x.png"><a href="javascript:1">b</a>'
        '<link rel="stylesheet" href="https://cdn.example.com/a.css">'
        "<style>@import url(//fonts.example.com/f.css)</style>"
    )
    found = active_content(bad)
    for expected in (
        "<p onclick>", "<script>", "<img>", "<img src=x.png>", "<a href=javascript:>",
        "<link>", "<link href=https://cdn.example.com/a.css>",
    ):  # fmt: skip
        assert expected in found, expected
    assert "https://cdn.example.com/a.css" in external_references(bad)
    assert "@import" in external_references(bad) and "url(" in external_references(bad)


def test_every_section_and_its_figures_are_on_the_page() -> None:
    page = Page(render_review_html(sample_review()))
    assert page.headings == SECTIONS
    text = page.text
    for figure in (
        "Service review: November 2026",
        "2026-11-01 to 2026-11-30 (Europe/Berlin), compared with October 2026",
        "96.5 %",  # SLA attainment, 55 of 57 clocks
        "29 of 30", "26 of 27",  # responses and resolutions on time
        "INC-41", "2h 10m", "3h 00m",  # the breach: late by, held
        "resolve 2h10m late (held 3h00m: vendor)",
        "47", "+9 (+24 %)",  # incidents against the previous 38
        "1h 33m", "10h 00m",  # MTTR median, p90
        "4.07 / 5", "14 of 44", "31.8 %",  # CSAT
        "Ana Alves", "372 h", "1.03×", "16 pages, 8 of them out of hours",
        "81.8 %", "8.3 %", "CHG-7", "rolled back",  # changes
        "99.310 %", "99.90 %", "18,000 EUR", "3,000 EUR", "2026-12-31",  # vendors
        "6h 10m", "12,000 EUR", "74,000 EUR",  # outage cost
        "ACT-5", "PRB-3", "1 post-incident reviews overdue",
    ):  # fmt: skip
        assert figure in text, figure


def test_store_text_is_drawn_literally_and_nothing_can_run() -> None:
    page_text = render_review_html(sample_review())
    assert active_content(page_text) == []
    page = Page(page_text)
    assert HOSTILE_SERVICE in page.text  # shown as written, in tables and in chart labels
    assert HOSTILE_VENDOR in page.text
    assert "[@click=app.quit]boom[/] </td><img src=x onerror=alert(1)>" in page.text
    assert "\x1b" not in page_text and "\x07" not in page_text  # control characters dropped
    assert "pwned" not in page.text  # a whole OSC sequence goes, payload and all
    assert "alert(1)> end" in page.text  # ...and the text around it stays
    assert "Failover did not trigger <b>in time</b>" in page.text  # a summary is not HTML
    svg_labels = re.findall(r"<text[^>]*><title>([^<]*)</title>", page_text)
    assert html.escape(HOSTILE_SERVICE, quote=True) in svg_labels


def test_the_page_needs_nothing_from_the_network() -> None:
    text = render_review_html(sample_review())
    assert external_references(text) == []
    assert "default-src 'none'" in text  # and the browser is told so


def test_the_page_has_a_print_stylesheet_with_a_page_per_section() -> None:
    text = render_review_html(sample_review())
    media = text[text.index("@media print") :]
    assert "break-before: page" in media and "section.first" in media


def test_long_lists_are_cut_and_say_where_the_rest_is() -> None:
    review = sample_review()
    breach = review.service_levels.breaches[1]
    action = review.improvement.actions[0]
    many = replace(
        review,
        service_levels=replace(review.service_levels, breaches=(breach,) * 35, breaches_total=120),
        improvement=replace(review.improvement, actions=(action,) * 45),
    )
    page = Page(render_review_html(many))
    assert page.text.count("Card payments slow") == 30
    assert "The 30 that were most late, of 120, are listed" in page.text
    assert page.text.count("Add failover alarm") == 40
    assert "40 of 45 are listed; opsdesk action list lists them all" in page.text


def test_an_empty_review_still_renders_saying_so() -> None:
    review = sample_review()
    empty = replace(
        review,
        rag=(),
        service_levels=replace(review.service_levels, breaches=(), breaches_total=0),
        incidents=replace(review.incidents, major=(), recurring=()),
        customers=(),
        team=replace(review.team, people=(), balance=None, paging_log=False),
        changes=replace(review.changes, unsuccessful=(), total=0, finished=0, success_rate=None),
        vendors=replace(review.vendors, vendors=(), annual_spend=()),
        outage_cost=replace(review.outage_cost, services=(), total_cost=None, total_minutes=0),
    )
    text = Page(render_review_html(empty)).text
    for said in (
        "No services were reviewed.", "No deadline was missed.", "No major incident",
        "Nobody was on call", "No change failed", "No vendors are configured.",
        "No service was down", "paging through opsdesk is not in use",
    ):  # fmt: skip
        assert said in text, said


def with_days(review: ServiceReview, days: tuple[int, ...]) -> ServiceReview:
    return replace(review, incidents=replace(review.incidents, per_day=days))


def test_incidents_per_day_are_a_sparkline_when_the_model_has_them() -> None:
    assert "<polyline" not in render_review_html(sample_review())
    text = render_review_html(with_days(sample_review(), (1, 3, 2, 9, 4)))
    assert text.count('class="spark-line"') == 2  # in the summary and in Incidents
    assert summary(with_days(sample_review(), (1, 3, 2, 9, 4)))[0].plain.count("per day ▂▃▃█▄") == 1


def test_chart_labels_and_classes_are_escaped() -> None:
    svg = charts.bars([charts.Bar('<b x="1">', 3, "3 <i>", css='bar" onload="x')])
    assert "<b " not in svg and "<i>" not in svg and 'onload="x' not in svg
    assert "&lt;b x=&quot;1&quot;&gt;" in svg
    assert charts.bars([]) == "" and charts.sparkline([1.0]) == ""
    spark = charts.sparkline([1, 5, 2], title="<t>")
    assert "<polyline" in spark and "&lt;t&gt;" in spark
    stacked = charts.stacked([charts.Part("a<", 2, "bar"), charts.Part("b", 0, "bar")])
    assert "a&lt; 2" in stacked and charts.stacked([charts.Part("x", 0, "bar")]) == ""
    assert "Missed" in charts.rag_badge("red") and "No data" in charts.rag_badge("<x>")


def test_no_line_crosses_a_bars_figure() -> None:
    def value_x(svg: str) -> float:
        return float(re.search(r'class="value" x="([\d.]+)"', svg)[1])  # type: ignore[index]

    # A previous period longer than this one: its tick is right of the bar.
    svg = charts.bars([charts.Bar("a", 10, "10", previous=20), charts.Bar("b", 20, "20")])
    tick = float(re.search(r'class="previous" x1="([\d.]+)"', svg)[1])  # type: ignore[index]
    assert value_x(svg) > tick
    # A bar ending just short of the target line: the figure goes past the line.
    svg = charts.bars([charts.Bar("a", 0.93, "93.0 %")], scale=1.0, target=0.95)
    line = float(re.search(r'class="target" x1="([\d.]+)"', svg)[1])  # type: ignore[index]
    assert value_x(svg) > line


def test_counts_and_terms_say_what_the_figures_are() -> None:
    review = sample_review()
    big = replace(review, incidents=replace(review.incidents, total=12345, previous_total=9999))
    page = " ".join(html.unescape(render_review_html(big)).split())
    assert ">12,345 <" in page and "12345" not in page  # as the text report writes it
    big = replace(review, incidents=replace(review.incidents, resolved=23456))
    assert "23,456" in render_review_html(big)
    # Attainment is per incident resolved in the period (`Attainment.achieved`), and a
    # month is compared with the month before, not with the same length before.
    assert "Of the incidents resolved in the period, the share that met every deadline" in page
    assert "the month before for a month, else as many days just before" in page


def test_figures_read_as_people_say_them() -> None:
    assert fmt.share(0.9996) == "99.9 %"  # a miss never rounds up to 100 %
    assert fmt.share(1.0) == "100.0 %" and fmt.share(None) == "—"
    assert fmt.duration(timedelta(hours=2, minutes=10)) == "2h 10m"
    assert fmt.duration(timedelta(days=3, hours=4)) == "3d 4h"
    assert fmt.duration(45.0) == "45s" and fmt.duration(None) == "—"
    assert fmt.money(12000, "EUR") == "12,000 EUR" and fmt.money(12.5) == "12.50"
    assert fmt.trend(47, 38) == "+9 (+24 %)" and fmt.trend(3, 5) == "−2 (−40 %)"
    assert fmt.trend(2, 0) == "new" and fmt.trend(4, 4) == "same"
    assert fmt.hours(7.5) == "7.5 h" and fmt.hours(168.0) == "168 h" and fmt.hours(0.0) == "0 h"


def test_the_report_file_is_private_and_named_for_its_period(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    path = write_review_html(sample_review(), folder)
    assert path == folder / "service-review-2026-11-01_2026-11-30.html"
    assert report_name(sample_review()) == path.name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    first = path.read_text("utf-8")
    assert "Service review: November 2026" in first
    again = write_review_html(sample_review(service="billing"), folder)
    assert again == path and "billing" in path.read_text("utf-8")  # replaced, not appended
    assert [p.name for p in folder.iterdir()] == [path.name]  # no temporary file left


# A real browser ------------------------------------------------------------------------


def _browser_or_skip() -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI must run the browser test")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")
    return CHROMIUM


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
         *args],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(profile)},
    )  # fmt: skip


def complaints(stderr: str) -> list[str]:
    """What the page said to the browser's console (errors, blocked loads, CSP refusals),
    from chromium's log on stderr."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Refused to" in line]


def test_the_browser_check_hears_a_page_that_misbehaves(tmp_path: Path) -> None:
    browser = _browser_or_skip()
    bad = tmp_path / "bad.html"
    bad.write_text(
        """<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'">"""
        "<p>x</p><script>console.log('ran')</script>",
        encoding="utf-8",
    )
    done = _chromium(browser, tmp_path / "chromium", "--dump-dom", bad.as_uri())
    assert done.returncode == 0
    assert any("Content Security Policy" in line for line in complaints(done.stderr))


async def _small_store_review(tmp_path: Path, me: str) -> tuple[str, ServiceReview]:
    """A store with three incidents in November 2026, one of them a P1 on a service
    called `<script>` that missed its resolve deadline; its review, rendered."""
    session = await open_session(Options(store=str(tmp_path / "small.db")), create=True, login=me)
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        opened = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
        p1 = await ops.create("Checkout down", HOSTILE_SERVICE, opened, impact=1, urgency=1)
        await ops.transition(p1.key, "acknowledge", opened + timedelta(minutes=5))
        await ops.transition(p1.key, "resolve", opened + timedelta(hours=9), code="fixed",
                             note="rolled back")  # fmt: skip
        for day in (12, 13):
            await ops.create("Slow search", "search", opened.replace(day=day))
        period = month_period("2026-11", team_zone(session.config))
        review = await build_review(
            session.store, session.config, period, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        )
    finally:
        await session.close()
    assert review.incidents.total == 3
    assert [b.key for b in review.service_levels.breaches] == [p1.key]  # 9 h against 4 h
    return p1.key, review


def test_a_real_browser_renders_and_prints_the_report(tmp_path: Path, me: str) -> None:
    browser = _browser_or_skip()
    p1, review = asyncio.run(_small_store_review(tmp_path, me))
    text = render_review_html(review)
    report = tmp_path / "review.html"
    report.write_text(text, encoding="utf-8")
    url = report.as_uri()
    profile = tmp_path / "chromium"

    dom = _chromium(browser, profile, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)
    assert page.headings == SECTIONS
    assert p1 in page.text and "Checkout down" in page.text
    assert "Deadlines missed (1)" in page.text and "resolution" in page.text
    late = review.service_levels.breaches[0].late_by
    assert fmt.duration(late) in page.text  # how late, as the model says it
    assert "3 opened" in page.text or "3</strong> opened" in dom.stdout
    assert HOSTILE_SERVICE in page.text  # drawn as text by the browser itself
    assert active_content(dom.stdout) == []  # nothing was turned into a tag on the way
    assert complaints(dom.stderr) == []  # no script error, no blocked load, nothing logged

    png = tmp_path / "review.png"
    shot = _chromium(browser, profile, "--window-size=1100,2400", f"--screenshot={png}", url)
    assert shot.returncode == 0, shot.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page, not a blank

    pdf = tmp_path / "review.pdf"
    printed = _chromium(browser, profile, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    assert printed.returncode == 0, printed.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= len(SECTIONS), pages  # the print stylesheet starts each section on a page


def test_the_sparkline_of_counts_starts_from_zero() -> None:
    """55 and 56 incidents a day are nearly the same height, not bottom and top."""
    svg = charts.sparkline([55, 56, 55])
    points = re.search(r'points="([^"]+)"', svg)[1]  # type: ignore[index]
    heights = [float(p.split(",")[1]) for p in points.split()]
    assert max(heights) - min(heights) < 1.0, heights
    rising = charts.sparkline([0, 10])
    first, last = (
        float(p.split(",")[1]) for p in re.search(r'points="([^"]+)"', rising)[1].split()
    )  # type: ignore[index]
    assert first - last > 15  # from the bottom to the top
