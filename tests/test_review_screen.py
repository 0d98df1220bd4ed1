"""The console's Review screen (`6`, `:review`) driven with Pilot at 80x24 on the demo
store: it shows the figures `build_review` computes (the same call the CLI makes), steps
through its nine sections, switches period (this month, last month, `[`/`]`, a typed
range, a typed mistake), opens a breach's incident and a vendor's detail with Enter,
writes the HTML report where it says, and draws hostile store text literally."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from textual.widgets import DataTable, Input, Label, Static

from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.review_period import month_period, month_to_review, team_zone
from opsdesk.console.domain.service_review import ServiceReview
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.service_review import build_review
from opsdesk.console.ops.session import Options, open_session
from opsdesk.console.tui.app import OpsdeskApp
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.problem_detail import ProblemDetailScreen
from opsdesk.screens.review_bars import bar, spark, stacked_line, zoom
from opsdesk.screens.review_period_form import PeriodChoice, PeriodForm, read_period
from opsdesk.screens.review_sections import SECTIONS
from opsdesk.screens.service_review import ServiceReviewScreen
from opsdesk.screens.vendor_detail import VendorDetailScreen
from opsdesk.screens.widgets import BannerLine
from opsdesk.store.records import NewIncident
from tests.conftest import FIXED_NOW
from tests.test_app import NEVER, SIZE, make_app, rendered
from tests.waits import Messages, settle

HOSTILE = "[@click=app.quit]boom[/] [b]x"


async def expected_review(store: Path, month: str = "2026-11") -> ServiceReview:
    session = await open_session(Options(store=str(store)))
    try:
        period = month_period(month, team_zone(session.config))
        return await build_review(session.store, session.config, period, FIXED_NOW)
    finally:
        await session.close()


async def open_review(app, pilot) -> ServiceReviewScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("6")
    await settle(app, pilot)
    assert isinstance(app.screen, ServiceReviewScreen)
    return app.screen


async def to_section(app, pilot, name: str) -> ServiceReviewScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    for _ in range(len(SECTIONS)):
        if screen.current.name == name:
            return screen  # type: ignore[no-any-return]
        await pilot.press("s")
        await settle(app, pilot)
    raise AssertionError(f"no section {name}")


def body(screen: ServiceReviewScreen) -> str:
    return rendered(screen.query_one("#review-text", Static))


def heading(screen: ServiceReviewScreen) -> str:
    return rendered(screen.query_one("#review-period", Static))


async def test_six_opens_the_review_of_this_month_with_its_figures(demo_store: Path) -> None:
    review = await expected_review(demo_store)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        assert "November 2026 vs October 2026" in heading(screen)
        assert "not over yet" in heading(screen)  # the clock is pinned on 25 November
        # As many hours of October: 24 d 8 h from its start is 08:00 EDT (07:00 EST now)
        assert "vs October 2026 to 10-25 08:00" in heading(screen)
        assert "1/9" in heading(screen) and "Summary" in heading(screen)
        text = body(screen)
        inc, sl = review.incidents, review.service_levels
        assert f"Incidents {inc.total} " in text
        assert fmt.trend(inc.total, inc.previous_total) in text
        assert f"SLA {fmt.share(sl.overall.achieved)}" in text
        assert f"Missed {sl.breaches_total}" in text
        for rag in review.rag:
            assert rag.service in text
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("colon", *"review", "enter")
        await settle(app, pilot)
        assert app.screen is screen  # `:review` is the same screen, still loaded


async def test_sections_step_through_all_nine_with_bars(demo_store: Path) -> None:
    review = await expected_review(demo_store)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        seen = []
        for _ in SECTIONS:
            seen.append(screen.current.name)
            await pilot.press("s")
            await settle(app, pilot)
        assert seen == [s.name for s in SECTIONS] and screen.current.name == "summary"
        await pilot.press("S")
        await settle(app, pilot)
        assert screen.current.name == "improvement"
        await to_section(app, pilot, "incidents")
        text = body(screen)
        assert f"{review.incidents.total} opened" in text and "█" in text
        await to_section(app, pilot, "changes")
        assert f"{review.changes.total} changes" in body(screen)
        await to_section(app, pilot, "team")
        assert "on call" in body(screen)


async def test_enter_on_a_breach_opens_its_incident(demo_store: Path) -> None:
    review = await expected_review(demo_store)
    assert review.service_levels.breaches, "the demo month has breaches"
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, pilot)
        screen = await to_section(app, pilot, "service_levels")
        table = screen.query_one("#review-rows", DataTable)
        assert table.display and table.row_count == len(review.service_levels.breaches)
        assert f"{review.service_levels.breaches_total} deadlines missed" in body(screen)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert app.screen.key == review.service_levels.breaches[1].key
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen


async def test_enter_on_a_vendor_opens_its_detail(demo_store: Path) -> None:
    review = await expected_review(demo_store)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, pilot)
        screen = await to_section(app, pilot, "vendors")
        assert "Spend a year:" in body(screen)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, VendorDetailScreen)
        assert app.screen.key == review.vendors.vendors[0].vendor


async def test_enter_on_a_failed_change_or_a_problem_opens_it(demo_store: Path) -> None:
    review = await expected_review(demo_store)
    assert review.changes.unsuccessful and review.improvement.problems, "the demo has both"
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_review(app, pilot)
        screen = await to_section(app, pilot, "changes")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChangeDetailScreen)
        assert app.screen.key == review.changes.unsuccessful[0].key
        await pilot.press("escape")
        await settle(app, pilot)
        await to_section(app, pilot, "improvement")
        assert app.screen is screen
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert app.screen.key == review.improvement.problems[0].key


async def test_periods_switch_by_key_and_by_form(demo_store: Path) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        await pilot.press("l")
        await settle(app, pilot)
        assert "October 2026 vs September 2026" in heading(screen)
        assert "not over yet" not in heading(screen)
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert heading(screen).startswith("September 2026")
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(app, pilot)
        assert heading(screen).startswith("November 2026")
        await pilot.press("p")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, PeriodForm)
        form.query_one("#from", Input).value = "2026-11-20"
        form.query_one("#to", Input).value = "2026-11-03"  # before From: refused, said why
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is form
        assert "is after" in str(form.query_one("#problem", Label).render())
        form.query_one("#from", Input).value = ""
        form.query_one("#to", Input).value = ""
        form.query_one("#from", Input).focus()
        await pilot.press(*"2026-11-03", "enter")  # Enter in From goes to To, once
        await settle(app, pilot)
        assert app.focused is form.query_one("#to", Input)
        await pilot.press(*"2026-11-16", "enter")  # Enter in To shows the period
        await settle(app, pilot)
        assert app.screen is screen
        assert heading(screen).startswith("2026-11-03 to 2026-11-16 vs 2026-10-20 to 2026-11-02")
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert heading(screen).startswith("2026-11-17 to 2026-11-30")
        await pilot.press("t")
        await settle(app, pilot)
        assert heading(screen).startswith("November 2026")


async def test_a_period_that_cannot_be_built_says_why_instead_of_old_figures(
    demo_store: Path,
) -> None:
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        assert screen.check_action("write_html", ()) is True
        screen.choice = PeriodChoice("month", date(1969, 12, 1), date(1969, 12, 1))
        screen.reload()
        await settle(app, pilot)
        assert "expected a month as YYYY-MM" in body(screen)
        assert "Incidents" not in body(screen) and "loading" not in heading(screen)
        assert screen.check_action("write_html", ()) is None  # nothing to write: greyed
        await pilot.press("t")
        await settle(app, pilot)
        assert "Incidents" in body(screen)


def test_the_period_form_reads_a_month_or_a_range() -> None:
    zone = "Europe/Berlin"
    assert read_period("2026-11", "", zone) == PeriodChoice("month", date(2026, 11, 1),
                                                            date(2026, 11, 1))  # fmt: skip
    assert read_period("2026-11-03", "2026-11-16", zone) == PeriodChoice(
        "days", date(2026, 11, 3), date(2026, 11, 16)
    )
    assert "YYYY-MM" in str(read_period("2026-13", "", zone))
    assert "both days" in str(read_period("2026-11-03", "", zone))
    assert "YYYY-MM-DD" in str(read_period("2026-11-03", "16 Nov", zone))
    assert "at most" in str(read_period("2024-01-01", "2026-01-01", zone))


async def test_w_writes_the_html_report_and_says_where(
    demo_store: Path, isolated_env: Path
) -> None:
    app = make_app(demo_store)
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await open_review(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        said = await messages.notification("Review", "the report written")
    folder = isolated_env / ".local" / "share" / "opsdesk" / "reports"
    path = folder / "service-review-2026-11-01_2026-11-30.html"
    assert str(said.message) == f"HTML report written: {path}"  # the full path, said once
    assert "<h2>2. Service levels</h2>" in path.read_text("utf-8")


async def test_store_text_is_drawn_literally(demo_store: Path, me: str) -> None:
    session = await open_session(Options(store=str(demo_store)), login=me)
    try:  # a service no longer in config (renamed since), written as the store allows
        new = NewIncident(HOSTILE, HOSTILE, impact=1, urgency=1, priority="P1")
        incident = await session.store.incidents.create(
            session.actor, new, FIXED_NOW - timedelta(days=3)
        )
    finally:
        await session.close()
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        assert HOSTILE[:14] + "…" in body(screen)  # the service, cut, in the status list
        await to_section(app, pilot, "incidents")
        assert HOSTILE[:13] + "…" in body(screen)  # ... and in the volume bars
        table = screen.query_one("#review-rows", DataTable)
        cells = [str(c) for row in range(table.row_count) for c in table.get_row_at(row)]
        assert HOSTILE in cells and incident.key in cells  # the P1's title, as typed
        assert app.is_running  # nothing was clicked into quitting


async def add_incident(store: Path, me: str, title: str) -> None:
    session = await open_session(Options(store=str(store)), login=me)
    try:
        ops = IncidentOps(session.store, session.config, session.actor)
        service = session.config.services[0].name
        await ops.create(title, service, FIXED_NOW - timedelta(hours=1))
    finally:
        await session.close()


async def test_changes_in_the_store_rebuild_it_gathered_and_not_too_often(
    demo_store: Path, me: str
) -> None:
    review = await expected_review(demo_store)
    total = review.incidents.total
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        assert f"Incidents {total} " in body(screen)
        screen.LIVE_REFRESH = 3600.0  # just built: the next rebuild waits for the timer
        await add_incident(demo_store, me, "Another one")
        await settle(app, pilot)
        assert f"Incidents {total} " in body(screen)  # not rebuilt yet...
        assert screen._live_timer is not None  # ...but due
        await add_incident(demo_store, me, "And another")
        await settle(app, pilot)
        screen._live_timer.stop()
        screen._live_due()  # what the timer does when it fires: one rebuild for both
        await settle(app, pilot)
        assert f"Incidents {total + 2} " in body(screen)
        screen.LIVE_REFRESH = 0.0  # no wait: a change rebuilds at once
        await add_incident(demo_store, me, "A third")
        await settle(app, pilot)
        assert f"Incidents {total + 3} " in body(screen)


async def test_the_team_banner_shows_here_too_without_a_rebuild(demo_store: Path) -> None:
    app = make_app(demo_store, login="ana")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        built = screen.loaded_generation
        current = await app.store.banner.get()
        await app.store.banner.set(app.actor, HOSTILE, current.version, FIXED_NOW)
        await settle(app, pilot)
        banner = screen.query_one(BannerLine)
        assert banner.display and HOSTILE in rendered(banner)  # drawn literally
        assert screen.loaded_generation == built  # the review itself was not rebuilt


def test_terminal_charts() -> None:
    assert bar(1, 1, 10) == "█" * 10 and bar(0, 1, 10) == "" and bar(0.01, 1, 10) == "▏"
    assert bar(0.55, 1, 10) == "█████▌"  # 44 eighths
    assert spark([0, 4, 8]) == "▁▅█" and spark([3, 3]) == "██" and spark([]) == ""
    assert spark([55, 56, 55]) == "███"  # counts from zero: one more is not a surge
    assert zoom([0.93, 0.99, 0.95]) == 0.9 and zoom([0.3, 1.0]) == 0.0 and zoom([]) == 0.0
    line = stacked_line([("ok", 3, "green"), ("failed", 1, "red")], width=8)
    assert str(line) == "████████\n█ ok 3  █ failed 1"
    assert str(line).split("\n")[0].count("█") == 8


def test_review_screen_snapshot(demo_store: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    app = make_app(demo_store, login="ana")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(app, pilot)
        for key in ("6", "s"):
            await pilot.press(key)
            await settle(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_summary_fits_its_line_and_groups_thousands() -> None:
    from opsdesk.console.domain.review_format import money_short

    assert [money_short(v, "USD") for v in (950, 10_000, 48_210, 999_400, 999_999, 1_727_963)] == [
        "950 USD", "10k USD", "48.2k USD", "999k USD", "1M USD", "1.73M USD"
    ]  # fmt: skip
    assert money_short(2.5e9, "EUR") == "2.5B EUR" and money_short(None) == "—"


def test_the_month_to_review_is_the_last_one_until_half_of_this_one_is_gone() -> None:
    assert month_to_review(date(2026, 12, 1)) == date(2026, 11, 1)
    assert month_to_review(date(2026, 12, 15)) == date(2026, 11, 1)
    assert month_to_review(date(2026, 12, 16)) == date(2026, 12, 1)
    assert month_to_review(date(2026, 12, 31)) == date(2026, 12, 1)
    assert month_to_review(date(2027, 1, 3)) == date(2026, 12, 1)  # across the year
    assert month_to_review(date(2028, 3, 1)) == date(2028, 2, 1)


async def test_on_the_first_of_a_month_six_opens_the_month_that_ended(demo_store: Path) -> None:
    """A service manager opens the review in the first days of December to review
    November: a December of a few hours has nothing to review yet. `t` is still this
    month."""
    first = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    app = OpsdeskApp(
        Options(store=str(demo_store)), clock=lambda: first, feed_interval=NEVER,
        poll_interval=0, handle_hangup=False,
    )  # fmt: skip
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_review(app, pilot)
        assert heading(screen).startswith("November 2026 vs October 2026")
        assert "not over yet" not in heading(screen)
        await pilot.press("t")
        await settle(app, pilot)
        assert heading(screen).startswith("December 2026 vs November 2026")
        assert "not over yet" in heading(screen)
