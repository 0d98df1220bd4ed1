"""The service review's config keys: sample values load, and each check fails on the
mistake it is for, as one line naming the file and key (`config check`, exit 2)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from opsdesk.console.cli import run
from opsdesk.console.config.model import Config, Contract, Service, ServiceReviewConfig, Vendor
from opsdesk.console.config.review_checks import review_errors

GOOD = """
[sla.calendars.office]
timezone = "Europe/Berlin"
[[services]]
name = "payments"
sla_target = 99.5
mttr_target = "2h"
csat_target = 4.5
cost_per_hour = 1200
[[vendors]]
name = "Stripe"
[vendors.contract]
cost = 100
renewal = 2027-01-01
availability = 99.95
budget = 1000
[service_review]
timezone = "Europe/Vienna"
business_hours = "office"
sla_target = 90
mttr_target = "12h"
csat_target = 3.5
amber_margin = 5
outage_priorities = ["P1", "P2"]
currency = "EUR"
"""


def test_defaults_pass_and_mean_what_the_docs_say() -> None:
    review = ServiceReviewConfig()
    assert (review.sla_target, review.mttr_target, review.csat_target) == (
        95.0, timedelta(days=1), 4.0,
    )  # fmt: skip
    assert (review.amber_margin, review.outage_priorities, review.currency) == (10.0, ["P1"], "USD")
    assert list(review_errors(Config())) == []


def test_config_check_accepts_every_key(write_config, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path: Path = write_config(GOOD)
    assert run(["--config", str(path), "config", "check", "--json"]) == 0
    assert '"business_hours": "office"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        ('business_hours = "office"', 'service_review.business_hours: unknown calendar "ofice"'),
        (
            "sla_target = 90",
            "service_review.sla_target: expected a percentage above 0 and at most 100, got 0",
        ),
        (
            "csat_target = 3.5",
            "service_review.csat_target: expected a CSAT score from 1 to 5, got 6",
        ),
        ('mttr_target = "12h"', "service_review.mttr_target: expected a time longer than zero"),
        ("amber_margin = 5", "service_review.amber_margin: expected a percentage of 0 or more"),
        ('currency = "EUR"', "service_review.currency: expected a currency code"),
        ("sla_target = 99.5", 'services[1 "payments"].sla_target: expected a percentage'),
        (
            "cost_per_hour = 1200",
            'services[1 "payments"].cost_per_hour: expected an amount of 0 or more',
        ),
        (
            "availability = 99.95",
            'vendors[1 "Stripe"].contract.availability: expected a percentage',
        ),
        ("budget = 1000", 'vendors[1 "Stripe"].contract.budget: expected an amount of 0 or more'),
        (
            'outage_priorities = ["P1", "P2"]',
            "service_review.outage_priorities[2]: expected one of P1, P2, P3, P4",
        ),
        ('timezone = "Europe/Vienna"', "service_review.timezone: expected an IANA time zone"),
    ],
)
def test_each_mistake_is_one_line_exit_2(  # type: ignore[no-untyped-def]
    write_config, capsys: pytest.CaptureFixture[str], edit: str, said: str
) -> None:
    bad = {
        'business_hours = "office"': 'business_hours = "ofice"',
        "sla_target = 90": "sla_target = 0",
        "csat_target = 3.5": "csat_target = 6",
        'mttr_target = "12h"': 'mttr_target = "0s"',
        "amber_margin = 5": "amber_margin = -1",
        'currency = "EUR"': 'currency = " "',
        "sla_target = 99.5": "sla_target = 101",
        "cost_per_hour = 1200": "cost_per_hour = -5",
        "availability = 99.95": "availability = 0",
        "budget = 1000": "budget = -1",
        'outage_priorities = ["P1", "P2"]': 'outage_priorities = ["P1", "P9"]',
        'timezone = "Europe/Vienna"': 'timezone = "Mars/Olympus"',
    }[edit]
    assert GOOD.count(edit) == 1
    path: Path = write_config(GOOD.replace(edit, bad))
    assert run(["--config", str(path), "config", "check"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and said in err, err


def test_the_checks_see_services_and_vendors() -> None:
    config = Config(
        services=[Service(name="a", mttr_target=timedelta(0))],
        vendors=[
            Vendor(
                name="v",
                contract=Contract(cost=-1, renewal=date(2027, 1, 1)),
            )
        ],
    )
    found = [str(e) for e in review_errors(config)]
    assert found == [
        "services[1].mttr_target: expected a time longer than zero",
        "vendors[1].contract.cost: expected an amount of 0 or more, got -1",
    ]
