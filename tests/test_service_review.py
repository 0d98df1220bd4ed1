"""The service review's figures, each checked against a store built so that every number
is known (tests/review_fixture.py explains each incident, page, change and status), with
the month boundary, the change to winter time and business hours at the edges."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.config.model import BusinessCalendar, Config, Contract
from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain import review_resources as resources
from opsdesk.console.domain import review_rules as rules
from opsdesk.console.domain.review_period import (
    PeriodError,
    day_range,
    month_period,
    parse_day,
    team_zone,
)
from opsdesk.console.domain.service_review import Breach, ServiceReview
from opsdesk.console.ops.review_html import render_review_html
from opsdesk.console.ops.review_json import review_data
from opsdesk.console.ops.review_markdown import render_markdown
from opsdesk.console.ops.review_tables import NOT_OVER, heading, sections
from opsdesk.store.records import LevelChange
from tests.review_fixture import NOW, build, review

H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("review"))


@pytest.fixture(scope="module")
def november(built: tuple[Path, Path]) -> ServiceReview:
    return review(*built)


# The period -------------------------------------------------------------------------------


def test_a_month_is_read_in_the_team_zone_across_the_change_of_clocks() -> None:
    period = month_period("2026-11", "America/New_York")
    assert period.start == datetime(2026, 11, 1, 4, tzinfo=UTC)  # midnight EDT
    assert period.end == datetime(2026, 12, 1, 5, tzinfo=UTC)  # midnight EST
    assert period.length == timedelta(days=30, hours=1)
    assert period.label == "November 2026"
    assert period.previous is not None and period.previous.label == "October 2026"
    assert period.previous.end == period.start
    assert period.previous.start == datetime(2026, 10, 1, 4, tzinfo=UTC)
    january = month_period("2027-01", "UTC")
    assert january.previous is not None and january.previous.label == "December 2026"


def test_a_day_range_is_whole_local_days_compared_with_as_many_before() -> None:
    period = day_range(date(2026, 11, 3), date(2026, 11, 16), "Europe/Berlin")
    assert period.start == datetime(2026, 11, 2, 23, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 16, 23, tzinfo=UTC)
    assert period.label == "2026-11-03 to 2026-11-16"
    assert period.previous is not None
    assert (period.previous.start, period.previous.end) == (
        datetime(2026, 10, 19, 22, tzinfo=UTC),  # still summer time in Berlin
        period.start,
    )


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: month_period("2026-13", "UTC"), "--month '2026-13': expected a month as YYYY-MM"),
        (lambda: month_period("Nov", "UTC"), "--month 'Nov'"),
        (lambda: day_range(date(2026, 11, 5), date(2026, 11, 4), "UTC"), "is after --to"),
        (lambda: day_range(date(2025, 1, 1), date(2026, 12, 1), "UTC"), "at most 366 days"),
        (lambda: parse_day("--from", "2026-02-30"), "--from '2026-02-30': expected a date"),
    ],
)
def test_periods_that_cannot_be_reviewed_say_why(make, said: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PeriodError, match=said.replace("(", r"\(").replace("+", r"\+")):
        make()


def test_team_zone_falls_back_to_the_business_calendar_then_utc() -> None:
    config = Config()
    assert team_zone(config) == "UTC"
    config.sla.calendars["office"] = BusinessCalendar(timezone="Asia/Tokyo")
    assert team_zone(config) == "Asia/Tokyo"
    config.service_review.timezone = "Europe/Paris"
    assert team_zone(config) == "Europe/Paris"


# 1. RAG -----------------------------------------------------------------------------------


def test_rag_judges_each_figure_with_an_amber_margin() -> None:
    assert rules.judge("x", 0.95, 0.95, 10).status == "green"
    assert rules.judge("x", 0.856, 0.95, 10).status == "amber"
    assert rules.judge("x", 0.85, 0.95, 10).status == "red"
    assert rules.judge("t", 4.39 * 3600, 4 * 3600, 10, higher_is_better=False).status == "amber"
    assert rules.judge("t", 4.5 * 3600, 4 * 3600, 10, higher_is_better=False).status == "red"
    assert rules.judge("x", None, 0.95, 10).status == "none"
    assert rules.worst(["green", "none", "amber"]) == "amber"
    assert rules.worst(["none", "none"]) == "none"


def test_rag_summary(november: ServiceReview) -> None:
    payments, wiki = november.rag
    assert payments.service == "payments" and payments.status == "red"
    assert [(m.name, m.status) for m in payments.measures] == [
        ("SLA attainment", "red"),  # 50% against the service's own 99%
        ("MTTR median", "amber"),  # 4h05m against 4h, within 10 %
        ("CSAT", "red"),  # 2.0 against 4.0
    ]
    assert payments.measures[1].value == (4 * H + 5 * M).total_seconds()
    assert payments.reasons[0] == "SLA attainment 50.0 % (target 99.0 %)"
    assert wiki.status == "green" and wiki.reasons == ()
    assert [m.target for m in wiki.measures] == [0.70, 2 * 86400, 4.0]


# 2. Service levels --------------------------------------------------------------------------


def test_attainment_overall_by_service_and_priority(november: ServiceReview) -> None:
    levels = november.service_levels
    assert (levels.overall.met, levels.overall.judged) == (4, 6)
    assert levels.overall.achieved == pytest.approx(4 / 6)
    assert levels.target == 0.95
    by_service = {a.name: a for a in levels.by_service}
    assert (by_service["payments"].met, by_service["payments"].judged) == (1, 2)
    assert by_service["payments"].agreed == 0.99
    assert (by_service["wiki"].met, by_service["wiki"].judged, by_service["wiki"].agreed) == (
        3, 4, 0.70,
    )  # fmt: skip
    by_priority = {a.name: a for a in levels.by_priority}
    p1, p3 = by_priority["P1"], by_priority["P3"]
    assert (p1.respond_met, p1.respond_judged, p1.resolve_met, p1.resolve_judged) == (2, 2, 1, 2)
    assert (p1.respond_target, p1.resolve_target) == (15 * M, 4 * H)
    # INC-5 answered and resolved across the change to winter time, INC-4 answered a
    # minute inside business hours: both respond clocks met; INC-5 resolved on the dot.
    assert (p3.respond_met, p3.respond_judged, p3.resolve_met, p3.resolve_judged) == (2, 2, 1, 2)
    assert by_priority["P2"].achieved is None and by_priority["P2"].judged == 0


def test_breaches_say_how_late_and_what_paused_the_clock(november: ServiceReview) -> None:
    levels = november.service_levels
    assert levels.breaches_total == 2
    assert levels.open_breached == 1  # INC-8, P2, never answered
    wiki, payments = levels.breaches
    assert (wiki.key, wiki.clock, wiki.calendar) == ("INC-4", "resolve", "business")
    assert (wiki.elapsed, wiki.target, wiki.late_by, wiki.held) == (9 * H, 8 * H, H, timedelta(0))
    assert wiki.due == datetime(2026, 11, 16, 21, tzinfo=UTC)  # 16:00 EST: 1h Friday + 7h
    assert (payments.key, payments.clock, payments.calendar) == ("INC-3", "resolve", "24x7")
    assert (payments.elapsed, payments.late_by, payments.held) == (4 * H + 10 * M, 10 * M, H)
    assert (
        payments.reason == "resolve 10m late (4h 10m against 4h 00m); held 1h 00m: awaiting vendor"
    )
    assert payments.resolved_at == datetime(2026, 11, 10, 20, 10, tzinfo=UTC)


def test_held_time_counts_only_holds_before_the_end() -> None:
    from opsdesk.console.domain.sla import StateChange

    start = datetime(2026, 11, 2, tzinfo=UTC)
    history = [
        StateChange(start, "new"),
        StateChange(start + H, "on_hold", "awaiting_customer"),
        StateChange(start + 3 * H, "in_progress"),
        StateChange(start + 4 * H, "on_hold", "awaiting_vendor"),
    ]
    held, why = rules.held_time(history, start + 5 * H)
    assert held == 3 * H and why == ("awaiting customer", "awaiting vendor")


# 3. Incidents -------------------------------------------------------------------------------


def test_volume_and_trend_across_the_month_boundary(november: ServiceReview) -> None:
    incidents = november.incidents
    # INC-2 opened at 22:00 on 31 October in New York (02:00Z on 1 November): October's.
    assert (incidents.total, incidents.previous_total) == (5, 3)
    assert [(v.name, v.count, v.previous) for v in incidents.by_service] == [
        ("payments", 2, 2),
        ("wiki", 3, 1),
    ]
    assert [(v.name, v.count, v.previous) for v in incidents.by_priority] == [
        ("P1", 1, 1), ("P2", 1, 0), ("P3", 1, 1), ("P4", 2, 1),
    ]  # fmt: skip
    assert incidents.by_service[1].change == 2.0 and incidents.by_priority[1].change is None
    assert (incidents.resolved, incidents.open_at_end) == (6, 1)


def test_incidents_per_day_are_counted_in_local_days(
    built: tuple[Path, Path], november: ServiceReview
) -> None:
    per_day = november.incidents.per_day
    assert len(per_day) == 30 and sum(per_day) == november.incidents.total
    # 11-10 15:00Z, 11-13 21:00Z (16:00 EST), 11-20 twice, 11-29: 1-based days.
    assert {day + 1: n for day, n in enumerate(per_day) if n} == {10: 1, 13: 1, 20: 2, 29: 1}
    # INC-2 at 02:00Z on 1 November is 22:00 on 31 October in New York: October's last day.
    october = review(*built, month="2026-10").incidents
    assert len(october.per_day) == 31 and october.per_day[-1] == 1
    assert sum(october.per_day) == october.total


def test_days_follow_the_zone_across_changes_of_clocks() -> None:
    november = month_period("2026-11", "America/New_York")
    bounds = rules.day_bounds(november)
    lengths = [after - first for first, after in itertools.pairwise(bounds)]
    assert len(lengths) == 30 and lengths[0] == 25 * H and set(lengths[1:]) == {24 * H}
    assert bounds[1] == datetime(2026, 11, 2, 5, tzinfo=UTC)  # midnight EST, not EDT
    march = rules.day_bounds(month_period("2027-03", "America/New_York"))
    assert march[14] - march[13] == 23 * H  # Sunday 14 March 2027: clocks go forward
    # A period that starts inside a day (an instant, not a date) gives that day its part.
    part = rules.day_bounds(
        replace(november, start=november.start + 6 * H, end=november.start + 30 * H)
    )
    assert part == (november.start + 6 * H, bounds[1], november.start + 30 * H)
    # A month not over: its days stop at now, the last one so far.
    assert rules.day_bounds(november, bounds[2] + H) == (*bounds[:3], bounds[2] + H)
    assert rules.day_bounds(november, november.start) == ()


def test_mtta_and_mttr_per_priority(november: ServiceReview) -> None:
    times = {t.priority: t for t in november.incidents.times}
    p1 = times["P1"]
    assert (p1.mtta.count, p1.mtta.median) == (1, 10 * M)  # INC-3; INC-2 is October's
    assert (p1.mttr.count, p1.mttr.median, p1.mttr.p90) == (2, 4 * H + 5 * M, 5 * H + 10 * M)
    assert times["P3"].mtta.median == 67 * H + 59 * M  # wall time, Friday to Monday
    assert (times["P4"].mttr.median, times["P4"].mttr.p90) == (90 * M, 2 * H)
    assert times["P2"].mtta.count == 0 and times["P2"].mttr.median is None
    assert times["all"].mttr.count == 6


def test_recurring_and_major_incidents(november: ServiceReview) -> None:
    (recurring,) = november.incidents.recurring
    assert (recurring.service, recurring.count, recurring.last_id) == ("wiki", 2, 7)
    (major,) = november.incidents.major
    assert (major.key, major.duration, major.review_state) == ("INC-3", 5 * H + 10 * M, None)


# 4. Customers -------------------------------------------------------------------------------


def test_csat_per_service(november: ServiceReview) -> None:
    payments, wiki, everyone = november.customers
    assert (payments.average, payments.responses, payments.resolved) == (2.0, 1, 2)
    assert payments.distribution == (0, 1, 0, 0, 0) and payments.response_rate == 0.5
    assert (wiki.average, wiki.distribution, wiki.response_rate) == (4.0, (0, 0, 1, 0, 1), 0.5)
    assert everyone.service == "all" and everyone.average == pytest.approx(10 / 3)
    assert (everyone.responses, everyone.resolved, everyone.target) == (3, 6, 4.0)


# 5. The team --------------------------------------------------------------------------------


def test_on_call_hours_off_hours_and_pages(november: ServiceReview) -> None:
    team = november.team
    ana, ben, lead = team.people
    # Weekly turns handed over Mondays 09:00 New York; the month is 721 hours long.
    assert (ana.name, ana.oncall_hours, ana.off_hours) == ("Ana Ortiz", 370, 290)
    assert (ben.oncall_hours, ben.off_hours) == (351, 263)
    assert team.total_oncall_hours == 721
    assert team.balance == pytest.approx(370 / 360.5)
    assert ana.share == pytest.approx(370 / 721)
    assert (ana.incidents_handled, ben.incidents_handled, lead.incidents_handled) == (1, 1, 4)
    # Ana's page went by email and ntfy (one page, in hours); Ben's on a Saturday night;
    # the test page does not count.
    assert (ana.pages, ana.pages_out_of_hours, ben.pages, ben.pages_out_of_hours) == (1, 0, 1, 1)
    assert (team.pages_total, team.pages_out_of_hours, team.paging_log) == (2, 1, True)


def test_the_team_up_to_now_in_a_month_not_over(built: tuple[Path, Path]) -> None:
    midway = datetime(2026, 11, 9, 14, tzinfo=UTC)  # Monday 09:00 EST: Ben hands over
    so_far = review(*built, now=midway)
    assert [p.oncall_hours for p in so_far.team.people[:2]] == [34, 168]
    # Incidents per day: 1 to 9 November so far, not 30 days with the rest as zeros (the
    # fixture's incidents of 10 November on are, for this `now`, still to come).
    assert so_far.incidents.per_day == (0,) * 9


# 6. Changes ---------------------------------------------------------------------------------


def test_changes(november: ServiceReview) -> None:
    changes = november.changes
    assert (changes.total, changes.previous_total) == (4, 1)
    assert changes.by_type == (("standard", 1), ("normal", 2), ("emergency", 1))
    assert (changes.finished, changes.succeeded, changes.failed, changes.rolled_back) == (
        3,
        1,
        1,
        1,
    )
    assert changes.success_rate == pytest.approx(1 / 3) and changes.emergency_ratio == 0.25
    assert changes.linked_to_incidents == 1
    failed, rolled = changes.unsuccessful
    assert (failed.key, failed.state, failed.outcome, failed.incidents) == (
        "CHG-3", "closed", "failed", (3,),
    )  # fmt: skip
    assert (rolled.key, rolled.outcome) == ("CHG-4", "rolled_back")


# 7. Vendors ---------------------------------------------------------------------------------


def test_vendor_availability_spend_and_renewal(november: ServiceReview) -> None:
    (stripe,) = november.vendors.vendors
    assert stripe.availability == pytest.approx(1 - 3 / 721)
    assert (stripe.contracted, stripe.met, stripe.downtime) == (0.999, False, 3 * H)
    assert (stripe.services, stripe.incidents) == (("payments",), 2)
    spend = stripe.spend
    assert spend is not None
    assert (spend.cost, spend.period, spend.currency, spend.annual) == (
        1000,
        "monthly",
        "EUR",
        12000,
    )
    assert spend.in_period == pytest.approx(12000 * 721 / (365 * 24))
    assert (spend.budget, spend.over_budget) == (10000, 2000)
    renewal = stripe.renewal
    assert renewal is not None
    assert (renewal.renewal, renewal.notice_deadline) == (date(2027, 1, 15), date(2026, 12, 16))
    assert (renewal.days_to_renewal, renewal.days_to_notice) == (44, 14)
    assert november.vendors.annual_spend == (("EUR", 12000),)
    assert november.vendors.renewals_due == 1


def test_renewal_is_flagged_when_its_notice_deadline_comes_within_90_days() -> None:
    contract = Contract(cost=100, renewal=date(2027, 6, 30), notice=timedelta(days=90))
    assert resources.renewal(contract, date(2026, 12, 1)) is None  # notice by 2027-04-01: 121 days
    flagged = resources.renewal(contract, date(2027, 1, 1))
    assert flagged is not None and flagged.days_to_notice == 90
    yearly = resources.spend(
        Contract(cost=1200, renewal=date(2027, 1, 1)), NOW, NOW + timedelta(365)
    )
    assert (yearly.annual, yearly.in_period, yearly.over_budget) == (1200, 1200, None)


def test_vendor_availability_takes_its_worst_source_and_ignores_later_reports() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = start + 10 * H

    def level(hours: int, name: str) -> LevelChange:
        return LevelChange("s", start + hours * H, name, "")

    one = [level(0, "operational"), level(2, "partial_outage"), level(3, "operational")]
    two = [level(0, "operational"), level(11, "major_outage")]  # after the end: no effect
    assert resources.vendor_availability([one, two], start, end) == (0.9, H)
    assert resources.vendor_availability([], start, end) == (None, timedelta(0))


# 8. Outage cost -----------------------------------------------------------------------------


def test_outage_cost_clips_to_the_month_and_joins_overlaps(november: ServiceReview) -> None:
    cost = november.outage_cost
    (payments,) = cost.services  # the wiki had no P1 and no cost per hour
    # INC-2: 04:00Z (midnight in New York) to 05:00Z; INC-3: 15:00 to 20:10.
    assert (payments.downtime_minutes, payments.incidents) == (370, 2)
    assert (payments.cost_per_hour, payments.cost, payments.currency) == (6000, 37000, "USD")
    assert (cost.total_minutes, cost.total_cost) == (370, 37000)
    config = Config()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    overlapping = [("a", start, start + 2 * H), ("a", start + H, start + 3 * H)]
    joined = resources.outage_costs(config, overlapping, start, start + 10 * H)
    assert joined.services[0].downtime_minutes == 180 and joined.total_cost is None


def test_october_holds_the_rest_of_the_outage(built: tuple[Path, Path]) -> None:
    october = review(*built, month="2026-10")
    (payments,) = october.outage_cost.services
    assert payments.downtime_minutes == 120  # INC-2 from 02:00Z to midnight New York
    assert october.incidents.total == 3 and october.service_levels.overall.judged == 1


# 9. Improvement -----------------------------------------------------------------------------


def test_improvement(november: ServiceReview) -> None:
    imp = november.improvement
    assert (imp.actions_open, imp.actions_overdue, imp.actions_done_in_period) == (2, 1, 1)
    assert [(a.key, a.overdue) for a in imp.actions] == [("ACT-1", True), ("ACT-2", False)]
    assert (imp.problems_open, imp.problems_opened_in_period, imp.problems_resolved_in_period) == (
        2, 1, 0,
    )  # fmt: skip
    assert [(p.key, p.incidents) for p in imp.problems] == [("PRB-1", 2), ("PRB-2", 0)]
    assert imp.reviews_overdue == 2  # INC-2 and INC-3, P1s resolved without a review


# Outputs ------------------------------------------------------------------------------------


def test_json_holds_every_figure_with_durations_in_seconds(november: ServiceReview) -> None:
    data = review_data(november)
    assert data["schema"] == 1
    assert data["period"]["start"] == "2026-11-01T04:00:00Z"
    assert data["period"]["previous"]["label"] == "October 2026"
    breach = data["service_levels"]["breaches"][1]
    assert (breach["late_by_seconds"], breach["held_seconds"]) == (600.0, 3600.0)
    assert data["incidents"]["by_service"][1]["change"] == 2.0
    p2 = data["service_levels"]["by_priority"][1]
    assert p2["respond_target_seconds"] == 1800.0
    assert data["incidents"]["times"][1]["mtta"]["median_seconds"] is None
    assert data["vendors"]["vendors"][0]["renewal"]["notice_deadline"] == "2026-12-16"
    # Every figure says its unit: a measure's own, shares as fractions, rounded alike.
    units = [m["unit"] for m in data["rag"][0]["measures"]]
    assert units == ["fraction", "seconds", "score of 5"] and "shares" in data["units"]
    assert data["incidents"]["by_service"][0]["change"] == 0.0
    assert data["changes"]["previous_total"] == 1
    assert data["incidents"]["per_day"][9] == 1


def test_every_face_writes_figures_one_way(november: ServiceReview) -> None:
    """The CLI text and Markdown use the formatter the HTML and the screen use: a share
    just short of the target is never rounded up to 100 %, durations read "1h 00m"."""
    levels = november.service_levels
    almost = replace(levels, overall=replace(levels.overall, achieved=0.99996))
    text = "\n".join(
        line
        for section in sections(replace(november, service_levels=almost))
        for line in section.lines
    )
    assert "SLA attainment 99.9 % against 95.0 %" in text and "100.0" not in text
    assert fmt.share(0.99996) == "99.9 %" and fmt.trend(1658, 1666) == "−8 (−0.5 %)"
    assert november.rag[0].reasons[0] == fmt.measure_line(november.rag[0].measures[0])


def test_a_period_not_over_says_so_in_every_face(november: ServiceReview) -> None:
    assert NOT_OVER not in heading(november)  # read on 2 December: November is over
    running = replace(november, generated_at=november.period.end - timedelta(days=1))
    assert heading(running).endswith(NOT_OVER)
    assert NOT_OVER in render_markdown(running)
    assert NOT_OVER in " ".join(render_review_html(running).split())
    assert NOT_OVER not in " ".join(render_review_html(november).split())


def test_markdown_escapes_store_text(november: ServiceReview) -> None:
    levels = november.service_levels
    hostile = replace(levels.breaches[0], title="[x](javascript:alert(1)) <img src=x> | cell")
    text = render_markdown(replace(november, service_levels=replace(levels, breaches=(hostile,))))
    assert "## 2. Service levels" in text and "## 9. Improvement" in text
    assert "\\[x\\]\\(javascript\\:alert\\(1\\)\\) &lt;img src\\=x&gt; \\| cell" in text
    assert "<img" not in text and "](javascript" not in text


def test_only_the_most_overdue_breaches_are_explained_and_they_are_exact(
    demo_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list stops early (by each clock's wall-time bound) yet equals the top of the
    list a full pass over every breach would give; the count covers them all."""
    import asyncio

    from opsdesk.console.domain.sla import clocks
    from opsdesk.console.ops import service_review
    from opsdesk.console.ops.incidents import history_of
    from opsdesk.console.ops.session import Options, open_session
    from tests.conftest import FIXED_NOW

    async def both() -> tuple[list[Breach], list[Breach], int]:
        session = await open_session(Options(store=str(demo_store)), create=False)
        try:
            config, q = session.config, session.store.review
            period = day_range(date(2026, 8, 1), date(2026, 11, 30), "UTC")  # the whole demo
            monkeypatch.setattr(service_review, "BREACH_LIST", 5)
            monkeypatch.setattr(service_review, "EXPLAIN_BATCH", 2)
            read: list[int] = []
            original = q.incidents

            async def counted(ids):  # type: ignore[no-untyped-def]
                read.extend(ids)
                return await original(ids)

            monkeypatch.setattr(q, "incidents", counted)
            listed, total = await service_review.explain_breaches(
                session.store, config, period.start, period.end, FIXED_NOW
            )
            monkeypatch.setattr(q, "incidents", original)
            explained.extend(read)
            ids = [i for i, _ in await q.breach_bounds(period.start, period.end)]
            timelines = await q.events(ids)
            every = []
            for incident in await q.incidents(ids):
                history = history_of(incident, timelines[incident.id])
                respond, resolve = clocks(config, incident.priority, history, FIXED_NOW)
                calendar = config.sla.priorities[incident.priority].calendar  # type: ignore[index]
                every += rules.breaches(incident, history, respond, resolve, calendar)
            every.sort(key=lambda b: (-b.late_by.total_seconds(), b.incident_id, b.clock))
            return listed, every, total
        finally:
            await session.close()

    explained: list[int] = []
    listed, every, total = asyncio.run(both())
    assert total == len(every) > 10
    assert listed == every[:5]
    assert len(explained) < len({b.incident_id for b in every})  # it stopped early
