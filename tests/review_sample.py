"""A service review whose every figure is chosen by hand, for the tests of what renders it
(the HTML report, the console's Review screen): each number appears once and is easy to
look for, and the store-made text is hostile (a service called `<script>`, markup in a
title, control characters), so the renderers are checked for drawing it literally."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from opsdesk.console.domain.service_review import (
    ActionSummary,
    Attainment,
    Breach,
    ChangeOutcome,
    Changes,
    Improvement,
    Incidents,
    MajorIncident,
    Measure,
    OutageCost,
    OutageCosts,
    Period,
    PersonLoad,
    PriorityTimes,
    ProblemSummary,
    Recurring,
    Renewal,
    Satisfaction,
    ServiceLevels,
    ServiceRag,
    ServiceReview,
    Spend,
    Spread,
    Team,
    VendorReview,
    Vendors,
    Volume,
)

HOSTILE_SERVICE = "<script>alert('svc')</script>"
HOSTILE_TITLE = "[@click=app.quit]boom[/] </td><img src=x onerror=alert(1)> \x1b]0;pwned\x07 end"
HOSTILE_VENDOR = 'Acme "><svg onload=alert(2)>'
NOVEMBER = Period(
    start=datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
    end=datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
    label="November 2026",
    timezone="Europe/Berlin",
    previous=Period(
        start=datetime(2026, 9, 30, 22, 0, tzinfo=UTC),
        end=datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
        label="October 2026",
        timezone="Europe/Berlin",
    ),
)
GENERATED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _spread(count: int, median_min: float, p90_min: float) -> Spread:
    return Spread(count, timedelta(minutes=median_min), timedelta(minutes=p90_min))


def sample_review(service: str = HOSTILE_SERVICE) -> ServiceReview:
    """November 2026 for two services, `checkout` and `service` (hostile by default)."""
    checkout_att = Attainment("checkout", 20, 19, 18, 17, 0.95, 36 / 38)
    other_att = Attainment(service, 10, 10, 9, 9, 0.95, 1.0)
    overall = Attainment("all", 30, 29, 27, 26, 0.95, 55 / 57)
    breaches = (
        Breach(
            41, "INC-41", HOSTILE_TITLE, "checkout", "P1", "resolve", timedelta(hours=4),
            timedelta(hours=6, minutes=10), timedelta(hours=2, minutes=10),
            timedelta(hours=3), "24x7", datetime(2026, 11, 14, 12, 0, tzinfo=UTC),
            datetime(2026, 11, 14, 14, 10, tzinfo=UTC),
            "resolve 2h10m late (held 3h00m: vendor)",
        ),
        Breach(
            42, "INC-42", "Card payments slow", "checkout", "P2", "respond",
            timedelta(minutes=30), timedelta(minutes=47), timedelta(minutes=17),
            timedelta(0), "office", datetime(2026, 11, 20, 9, 30, tzinfo=UTC), None,
            "respond 17m late",
        ),
    )  # fmt: skip
    return ServiceReview(
        period=NOVEMBER,
        generated_at=GENERATED,
        services=("checkout", service),
        rag=(
            ServiceRag(
                "checkout",
                "red",
                (
                    Measure("SLA attainment", 36 / 38, 0.95, "amber"),
                    Measure("MTTR median", 5400.0, 3600.0, "red", higher_is_better=False),
                    Measure("CSAT", 3.9, 4.0, "amber"),
                ),
                ("MTTR median 1h 30m over the 1h 00m target",),
            ),
            ServiceRag(service, "green", (Measure("SLA attainment", 1.0, 0.95, "green"),), ()),
        ),
        service_levels=ServiceLevels(
            target=0.95,
            overall=overall,
            by_service=(checkout_att, other_att),
            by_priority=(
                Attainment("P1", 2, 2, 2, 1, 0.95, 0.75, timedelta(minutes=15), timedelta(hours=4)),
                Attainment(
                    "P2", 8, 7, 7, 7, 0.95, 14 / 15, timedelta(minutes=30), timedelta(hours=8)
                ),
            ),
            breaches=breaches,
            breaches_total=2,
        ),
        incidents=Incidents(
            total=47,
            previous_total=38,
            by_service=(Volume("checkout", 31, 20), Volume(service, 16, 18)),
            by_priority=(Volume("P1", 2, 1), Volume("P2", 9, 9), Volume("P3", 36, 28)),
            times=(
                PriorityTimes("P1", _spread(2, 6, 9), _spread(2, 150, 370)),
                PriorityTimes("all", _spread(47, 11, 38), _spread(44, 93, 600)),
            ),
            recurring=(Recurring("checkout", "Redis eviction storm", 5, 40),),
            major=(
                MajorIncident(
                    41,
                    "INC-41",
                    HOSTILE_TITLE,
                    "checkout",
                    "resolved",
                    datetime(2026, 11, 14, 8, 0, tzinfo=UTC),
                    datetime(2026, 11, 14, 14, 10, tzinfo=UTC),
                    timedelta(hours=6, minutes=10),
                    "accepted",
                    "Failover did not trigger <b>in time</b>",
                    datetime(2026, 11, 18, 10, 0, tzinfo=UTC),
                ),
            ),
            resolved=44,
            open_at_end=3,
        ),
        customers=(
            Satisfaction("checkout", 3.9, 10, 30, 10 / 30, (1, 1, 1, 3, 4), 4.0),
            Satisfaction(service, 4.5, 4, 14, 4 / 14, (0, 0, 0, 2, 2), 4.0),
            Satisfaction("all", 4.07, 14, 44, 14 / 44, (1, 1, 1, 5, 6), 4.0),
        ),
        team=Team(
            people=(
                PersonLoad("ana", "Ana Alves", 372.0, 250.0, 21, 9, 6, 0.52),
                PersonLoad("ben", "Ben Brook", 348.0, 231.5, 23, 7, 2, 0.48),
            ),
            total_oncall_hours=720.0,
            balance=1.03,
            pages_total=16,
            pages_out_of_hours=8,
            paging_log=True,
        ),
        changes=Changes(
            total=12,
            previous_total=10,
            by_type=(("standard", 6), ("normal", 5), ("emergency", 1)),
            finished=11,
            succeeded=9,
            failed=1,
            rolled_back=1,
            success_rate=9 / 11,
            emergency_ratio=1 / 12,
            linked_to_incidents=2,
            unsuccessful=(
                ChangeOutcome(
                    7,
                    "CHG-7",
                    "Upgrade payment gateway",
                    "normal",
                    "failed",
                    "failed",
                    ("checkout",),
                    datetime(2026, 11, 13, 20, 0, tzinfo=UTC),
                    (41,),
                ),
            ),
        ),
        vendors=Vendors(
            vendors=(
                VendorReview(
                    HOSTILE_VENDOR,
                    0.9931,
                    0.999,
                    False,
                    timedelta(hours=4, minutes=57),
                    ("checkout",),
                    31,
                    Spend(1500.0, "monthly", "EUR", 18000.0, 1479.45, 15000.0, 3000.0),
                    Renewal(date(2027, 1, 31), date(2026, 12, 31), 61, 30),
                ),
                VendorReview("Statusly", None, None, None, timedelta(0), (), 0, None, None),
            ),
            annual_spend=(("EUR", 18000.0),),
            renewals_due=1,
        ),
        outage_cost=OutageCosts(
            services=(OutageCost("checkout", 370.0, 2, 12000.0, 74000.0, "EUR"),),
            total_minutes=370.0,
            total_cost=74000.0,
            currency="EUR",
        ),
        improvement=Improvement(
            actions_open=4,
            actions_overdue=1,
            actions_done_in_period=3,
            actions=(
                ActionSummary(5, "ACT-5", "Add failover alarm", "ana", date(2026, 11, 20), True),
            ),
            problems_open=2,
            problems_opened_in_period=1,
            problems_resolved_in_period=1,
            problems=(
                ProblemSummary(
                    3, "PRB-3", "Redis eviction under load", "known_error", ("checkout",), 5, 12
                ),
            ),
            reviews_overdue=1,
        ),
    )
