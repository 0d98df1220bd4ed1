"""The PagerDuty importer: field mapping on PagerDuty's own examples, the hand-written
consistent cases verified to zero differences (in memory and from a saved folder), a
deliberately altered case named difference by difference, and bad input."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.domain.imports.common import MemoryBundle
from opsdesk.console.domain.imports.mapping import plan_import
from opsdesk.console.domain.imports.model import (
    BundleError,
    Skipped,
    SourceLevel,
    Target,
    WeeklyRange,
    Window,
)
from opsdesk.console.domain.imports.pagerduty import PagerDuty
from opsdesk.console.domain.imports.verify import verify
from opsdesk.console.ops.import_folder import FolderBundle, save
from tests.import_vendor_cases import (
    bundle,
    case_names,
    case_window,
    load_case,
    pagerduty_api,
    vendor_payload,
)

PD = PagerDuty()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def vendor_bundle() -> MemoryBundle:
    """PagerDuty's documentation examples, one of each, as the API pages them."""
    schedule = vendor_payload("pagerduty-schedule.json")["schedule"]
    return MemoryBundle(
        {
            "users": [{"users": [vendor_payload("pagerduty-user.json")["user"]], "more": False}],
            "schedules": [{"schedules": [{"id": schedule["id"]}], "more": False}],
            f"schedule/{schedule['id']}": [{"schedule": schedule}],
            f"overrides/{schedule['id']}": [vendor_payload("pagerduty-schedule-overrides.json")],
            "escalation_policies": [
                {
                    "escalation_policies": [
                        vendor_payload("pagerduty-escalation-policy.json")["escalation_policy"]
                    ],
                    "more": False,
                }
            ],
            "services": [
                {"services": [vendor_payload("pagerduty-service.json")["service"]], "more": False}
            ],
        }
    )


def test_vendor_examples_map_field_by_field() -> None:
    window = Window(at("2015-11-09T00:00:00Z"), at("2015-11-16T00:00:00Z"))
    team = PD.parse(vendor_bundle(), window)

    [user] = team.users
    assert (user.id, user.email, user.name, user.timezone) == (
        "PXPGF42",
        "125.greenholt.earline@graham.name",
        "Earline Greenholt",
        "America/Lima",
    )
    [schedule] = team.schedules
    assert (schedule.id, schedule.name, schedule.timezone) == (
        "PI7DH85",
        "Daily Engineering Rotation",
        "America/New_York",
    )
    [layer] = schedule.layers
    assert layer.id == "PG68P1M"
    assert layer.members == ("PXPGF42",)
    assert layer.rotation == timedelta(days=1)
    # rotation_virtual_start, as wall clock in the schedule's zone
    assert layer.handoff == datetime(2015, 11, 6, 20, 0)
    assert layer.active_from == at("2015-11-07T02:00:00Z")
    assert layer.until is None
    # daily 08:00 for 32400 s: 08:00-17:00 every day
    assert layer.restrictions == tuple(WeeklyRange(d, time(8), d, time(17)) for d in range(7))

    [override] = team.overrides
    assert (override.id, override.schedule_id, override.user_id) == (
        "PQ47DCP",
        "PI7DH85",
        "PEYSGVF",
    )
    assert (override.start, override.end) == (
        at("2012-07-01T04:00:00Z"),
        at("2012-07-02T04:00:00Z"),
    )

    [policy] = team.policies
    assert policy.id == "PT20YPA"
    assert policy.levels == (
        SourceLevel(timedelta(0), (Target("user", "PAM4FGS"), Target("schedule", "PI7DH85"))),
    )
    assert (policy.repeat, policy.repeat_after) == (2, timedelta(minutes=30))

    [service] = team.services
    assert (service.id, service.name, service.policy_id, service.integrations) == (
        "PIJ90N7",
        "My Application Service",
        "PT20YPA",
        (),
    )
    assert team.final_shifts["PI7DH85"][0].user_ids == ("PXPGF42",)
    assert team.final_shifts["PI7DH85"][0].start == at("2015-11-10T13:00:00Z")

    skipped = {(s.source_kind, s.source_id) for s in team.skipped}
    assert skipped == {
        ("notification_rule", "P8GRWKK"),
        ("team", "PQ9K7I8"),  # once, though three objects name it
        ("escalation_policy", "PT20YPA"),  # on_call_handoff_notifications
        ("integration", "PQ12345"),  # an email integration
        ("service", "PIJ90N7"),
    }
    service_whys = [s.why for s in team.skipped if s.source_kind == "service"]
    assert len(service_whys) == 3  # ack timeout, auto-resolve, support-hours urgency
    assert any("acknowledgement_timeout" in w for w in service_whys)


def test_endpoints_page_as_pagerduty_pages() -> None:
    window = Window(at("2027-03-21T23:00:00Z"), at("2027-04-04T23:00:00Z"))
    endpoints = {e.key: e for e in PD.endpoints(window)}
    assert endpoints["users"].pagination == "offset"
    assert endpoints["users"].items_key == "users"
    assert endpoints["schedule"].each == "schedules"
    assert dict(endpoints["schedule"].params) == {
        "since": "2027-03-21T23:00:00Z",
        "until": "2027-04-04T23:00:00Z",
        "time_zone": "UTC",
    }
    assert dict(endpoints["overrides"].params)["since"] == "2027-03-21T23:00:00Z"
    plain = {e.key: e for e in PD.endpoints(None)}
    assert dict(plain["schedule"].params) == {}  # no rendering without --verify
    # required by the API: from now to a year on (the fetcher fills both in)
    assert dict(plain["overrides"].params) == {"since": "{now}", "until": "{horizon}"}
    assert PD.auth_headers("s3cret")["Authorization"] == "Token token=s3cret"


@pytest.mark.parametrize("name", case_names("pagerduty"))
def test_consistent_case_verifies_with_no_difference(name: str) -> None:
    case = load_case("pagerduty", name)
    window = case_window(case)
    team = PD.parse(bundle(pagerduty_api(case)), window)
    plan = plan_import(team, None)
    result = verify(plan, team, window)
    assert [d.line() for d in result.differences] == []
    assert result.schedules and not result.unchecked


@pytest.mark.parametrize("name", case_names("pagerduty"))
def test_consistent_case_verifies_from_a_saved_folder(name: str, tmp_path: Path) -> None:
    case = load_case("pagerduty", name)
    window = case_window(case)
    save(MemoryBundle(pagerduty_api(case, per_page=1)), tmp_path, "pagerduty", window)
    team = PD.parse(FolderBundle(tmp_path), window)
    plan = plan_import(team, None)
    assert [d.line() for d in verify(plan, team, window).differences] == []


def test_weekly_case_maps_exact_escalation_delays() -> None:
    case = load_case("pagerduty", "weekly-dst")
    team = PD.parse(bundle(pagerduty_api(case, per_page=2)), None)
    [policy] = team.policies
    assert policy.levels == (
        SourceLevel(timedelta(0), (Target("schedule", "PSWEEK1"),)),
        SourceLevel(
            timedelta(minutes=7), (Target("user", "PCAROL1"), Target("schedule", "PSWEEK1"))
        ),
    )
    assert (policy.repeat, policy.repeat_after) == (2, timedelta(minutes=13))
    plan = plan_import(team, None)
    [opsdesk_policy] = plan.policies
    assert [(lv.after, lv.schedule, lv.person) for lv in opsdesk_policy.levels] == [
        (timedelta(0), "Platform weekly", None),
        (timedelta(minutes=7), None, "carol"),
        (timedelta(minutes=7), "Platform weekly", None),
    ]
    assert (opsdesk_policy.repeat, opsdesk_policy.repeat_after) == (2, timedelta(minutes=13))


def test_precedence_follows_the_get_order() -> None:
    case = load_case("pagerduty", "precedence")
    team = PD.parse(bundle(pagerduty_api(case)), None)
    [schedule] = team.schedules
    top = max(schedule.layers, key=lambda layer: layer.precedence)
    assert top.name == "Weekend"
    assert top.restrictions == (WeeklyRange(4, time(18), 0, time(9)),)


def test_layers_in_the_wrong_order_are_named_difference_by_difference() -> None:
    """Proof the check can fail: PUT order (lowest first) read as a GET puts 'Weekly' on
    top, and verify names each stretch where the rotas part."""
    case = load_case("pagerduty", "precedence")
    case["schedules"][0]["schedule_layers"].reverse()
    window = case_window(case)
    team = PD.parse(bundle(pagerduty_api(case)), window)
    lines = [d.line() for d in verify(plan_import(team, None), team, window).differences]
    assert lines == [
        "Database: 2027-03-14 23:00–2027-03-15 08:00 UTC (540 min): source has mike, "
        "opsdesk has kate",
        "Database: 2027-03-19 17:00–2027-03-21 23:00 UTC (3240 min): source has "
        "nina.nyberg, opsdesk has liam",
    ]


def test_an_altered_rota_is_named_difference_by_difference() -> None:
    case = load_case("pagerduty", "weekly-dst")
    entries = case["schedules"][0]["final_schedule"]["rendered_schedule_entries"]
    entries[1]["end"] = "2027-03-29T08:00:00Z"  # as if the handoff ignored DST
    entries[2]["start"] = "2027-03-29T08:00:00Z"
    entries[0]["user"] = copy.deepcopy(entries[2]["user"])  # alice, not bob
    window = case_window(case)
    team = PD.parse(bundle(pagerduty_api(case)), window)
    lines = [d.line() for d in verify(plan_import(team, None), team, window).differences]
    assert lines == [
        "Platform weekly: 2027-03-21 23:00–2027-03-22 08:00 UTC (540 min): source has "
        "alice, opsdesk has bob",
        "Platform weekly: 2027-03-29 07:00–2027-03-29 08:00 UTC (60 min): source has "
        "carol, opsdesk has alice",
    ]


def test_a_user_with_no_mapping_is_skipped_and_shows_in_verify() -> None:
    case = load_case("pagerduty", "precedence")
    window = case_window(case)
    team = PD.parse(bundle(pagerduty_api(case)), window)
    login_map = {"kate@example.com": "kate", "liam@example.com": "liam", "mike@example.com": "mk"}
    plan = plan_import(team, login_map)
    assert (
        Skipped(
            "user",
            "PNINA01",
            "nina.nyberg@example.com is not in the --map file; their turns stay empty",
        )
        in plan.skipped
    )
    lines = [d.line() for d in verify(plan, team, window).differences]
    assert lines == [
        "Database: 2027-03-19 17:00–2027-03-21 23:00 UTC (3240 min): source has "
        "?PNINA01, opsdesk has liam",
    ]


def test_future_override_crossing_midnight_is_planned() -> None:
    case = load_case("pagerduty", "override-midnight")
    plan = plan_import(PD.parse(bundle(pagerduty_api(case)), None), None)
    [override] = plan.overrides
    assert (override.source_id, override.schedule, override.login) == ("PQOVER1", "Network", "jane")
    assert (override.start, override.end) == (
        at("2027-03-24T19:00:00Z"),
        at("2027-03-25T05:00:00Z"),
    )


def reasons(team_skipped: list[Skipped], kind: str) -> list[str]:
    return [f"{s.source_id}: {s.why}" for s in team_skipped if s.source_kind == kind]


def test_unknown_time_zone_is_one_line_naming_the_schedule() -> None:
    case = load_case("pagerduty", "weekly-dst")
    case["schedules"][0]["time_zone"] = "Europe/Atlantis"
    team = PD.parse(bundle(pagerduty_api(case)), None)
    assert team.schedules == []
    assert reasons(team.skipped, "schedule") == [
        "PSWEEK1: 'Platform weekly': unknown time zone 'Europe/Atlantis'"
    ]


def test_schedule_with_no_layers_is_one_line() -> None:
    case = load_case("pagerduty", "nights-cross-midnight")
    case["schedules"][0]["schedule_layers"] = []
    team = PD.parse(bundle(pagerduty_api(case)), None)
    assert reasons(team.skipped, "schedule") == ["PSNIGHT: 'Nights' has no schedule layers"]


@pytest.mark.parametrize(
    ("restriction", "why"),
    [
        ({"type": "monthly_restriction"}, "restriction type 'monthly_restriction'"),
        (
            {
                "type": "weekly_restriction",
                "start_day_of_week": 8,
                "start_time_of_day": "09:00:00",
                "duration_seconds": 60,
            },
            "start_day_of_week 8 is not 1 (Monday) to 7 (Sunday)",
        ),
        (
            {"type": "daily_restriction", "start_time_of_day": "9am", "duration_seconds": 60},
            "needs start_time_of_day (HH:MM:SS)",
        ),
    ],
)
def test_a_restriction_that_cannot_be_read_skips_its_layer(
    restriction: dict[str, Any], why: str
) -> None:
    case = load_case("pagerduty", "nights-cross-midnight")
    case["schedules"][0]["schedule_layers"][0]["restrictions"] = [restriction]
    team = PD.parse(bundle(pagerduty_api(case)), None)
    [line] = reasons(team.skipped, "schedule_layer")
    assert line.startswith("PLNIGHT: 'Nights': ") and why in line


def test_a_truncated_saved_file_is_one_line_naming_it(tmp_path: Path) -> None:
    case = load_case("pagerduty", "weekly-dst")
    save(MemoryBundle(pagerduty_api(case)), tmp_path, "pagerduty", None)
    saved = tmp_path / "schedule" / "PSWEEK1.json"
    saved.write_text(saved.read_text()[:200])
    with pytest.raises(BundleError) as caught:
        PD.parse(FolderBundle(tmp_path), None)
    message = str(caught.value)
    assert "\n" not in message
    assert str(saved) in message and "cut short" in message


def test_a_schedule_answer_of_the_wrong_shape_names_the_file() -> None:
    case = load_case("pagerduty", "weekly-dst")
    api = pagerduty_api(case)
    api["schedule/PSWEEK1"] = [{"schedules": []}]
    with pytest.raises(BundleError, match=r"^schedule/PSWEEK1\.json: no 'schedule' object"):
        PD.parse(bundle(api), None)


def test_ended_layer_and_late_virtual_start() -> None:
    case = load_case("pagerduty", "weekly-dst")
    layer = case["schedules"][0]["schedule_layers"][0]
    layer["end"] = "2027-03-29T09:00:00+02:00"
    layer["rotation_virtual_start"] = "2027-03-29T09:00:00+02:00"  # after `start`
    team = PD.parse(bundle(pagerduty_api(case)), None)
    [source] = team.schedules[0].layers
    assert source.until == at("2027-03-29T07:00:00Z")
    # moved back one whole cycle (three weeks): alice still has the turn of 2027-03-29
    assert source.handoff == datetime(2027, 3, 8, 9, 0)


def test_pages_are_read_in_order_across_offsets() -> None:
    case = load_case("pagerduty", "precedence")
    api = pagerduty_api(case, per_page=1)
    assert len(api["users"]) == 4 and api["users"][-1]["more"] is False
    team = PD.parse(bundle(api), None)
    assert [u.id for u in team.users] == ["PKATE01", "PLIAM01", "PMIKE01", "PNINA01"]
    assert json.dumps(api["users"][0]).count('"more": true') == 1


def test_the_first_phone_contact_method_becomes_the_phone() -> None:
    assert dict({e.key: e for e in PD.endpoints(None)}["users"].params) == {
        "include[]": "contact_methods"
    }
    case = load_case("pagerduty", "override-midnight")
    case["users"][0]["contact_methods"] = [
        {"id": "PCEMAIL", "type": "email_contact_method", "address": "henry@example.com"},
        {
            "id": "PCPHONE",
            "type": "phone_contact_method",
            "address": "5555550123",
            "country_code": 1,
        },
        {
            "id": "PCPHON2",
            "type": "phone_contact_method",
            "address": "5555550199",
            "country_code": 1,
        },
        {"id": "PCSMS01", "type": "sms_contact_method", "address": "5555550123", "country_code": 1},
        {"id": "PCPUSH1", "type": "push_notification_contact_method", "address": "iPhone"},
    ]
    team = PD.parse(bundle(pagerduty_api(case)), None)
    assert team.users[0].phone == "+1 5555550123"
    assert plan_import(team, None).people[0].phone == "+1 5555550123"
    assert [s.source_id for s in team.skipped if s.source_kind == "contact_method"] == [
        "PCPHON2",
        "PCSMS01",
        "PCPUSH1",
    ]
