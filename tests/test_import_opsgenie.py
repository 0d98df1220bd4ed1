"""The Opsgenie importer: field mapping on the samples built from Opsgenie's API spec,
the hand-written consistent cases verified to zero differences (in memory and from a
saved folder), cumulative rotations split into schedules, altered cases named
difference by difference, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.domain.imports.common import MemoryBundle
from opsdesk.console.domain.imports.mapping import plan_import
from opsdesk.console.domain.imports.model import (
    NOBODY_MEMBER,
    BundleError,
    SourceLevel,
    Target,
    WeeklyRange,
    Window,
)
from opsdesk.console.domain.imports.opsgenie import Opsgenie
from opsdesk.console.domain.imports.verify import verify
from opsdesk.console.ops.import_folder import FolderBundle, save
from tests.import_vendor_cases import (
    bundle,
    case_names,
    case_window,
    load_case,
    opsgenie_api,
    vendor_payload,
)

OG = Opsgenie()
ALICE = "b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4"
BOB = "e07c63f0-dd8c-4ad4-983e-4ee7dc600463"
SCHEDULE = "d875alp4-9b4e-4219-a803-0c26936d18de"
BUSINESS = "a47alp93-0541-4aa3-bac6-4084cfd32d4c"
NIGHTS = "c8f2alp1-7e23-4c11-9a8e-2b1d3e4f5a6b"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def vendor_bundle() -> MemoryBundle:
    users = [
        {
            "id": ALICE,
            "username": "alice@example.com",
            "fullName": "Alice",
            "timeZone": "Europe/Berlin",
        },
        {"id": BOB, "username": "bob@example.com", "fullName": "Bob", "timeZone": "Europe/Berlin"},
    ]
    return MemoryBundle(
        {
            "users": [{"data": users, "paging": {}}],
            "schedules": [vendor_payload("opsgenie-schedules-list-expand-rotation.json")],
            f"overrides/{SCHEDULE}": [vendor_payload("opsgenie-schedule-overrides-list.json")],
            "escalations": [vendor_payload("opsgenie-escalations-list.json")],
        }
    )


def test_spec_samples_map_field_by_field() -> None:
    team = OG.parse(vendor_bundle(), None)
    assert [(u.id, u.username, u.email, u.name) for u in team.users] == [
        (ALICE, "alice@example.com", "alice@example.com", "Alice"),
        (BOB, "bob@example.com", "bob@example.com", "Bob"),
    ]
    # 'Business hours' (Mon 09:00 -> Fri 17:00, one span) and 'Nights' (17:00-09:00 every
    # day) cover the same weeknights: Opsgenie pages both, so each is its own schedule.
    business, nights = team.schedules
    assert (business.id, business.name) == (
        f"{SCHEDULE}/{BUSINESS}",
        "Platform_schedule / Business hours",
    )
    assert (nights.id, nights.name) == (f"{SCHEDULE}/{NIGHTS}", "Platform_schedule / Nights")
    [weekly] = business.layers
    assert weekly.members == (ALICE, BOB)
    assert weekly.rotation == timedelta(days=7)
    assert weekly.handoff == datetime(2024, 2, 5, 9, 0)  # 08:00Z in Berlin
    assert weekly.timezone == "Europe/Berlin"
    assert weekly.restrictions == (WeeklyRange(0, time(9), 4, time(17)),)
    [daily] = nights.layers
    assert daily.members == (BOB, NOBODY_MEMBER, NOBODY_MEMBER)  # none, then a team
    assert daily.rotation == timedelta(days=2)
    assert daily.until == at("2024-12-31T17:00:00Z")
    assert daily.restrictions == tuple(
        WeeklyRange(d, time(17), (d + 1) % 7, time(9)) for d in range(7)
    )

    [override] = team.overrides  # scoped to 'Business hours': that schedule only
    assert (override.schedule_id, override.user_id) == (business.id, ALICE)
    assert (override.start, override.end) == (
        at("2024-02-10T00:00:00Z"),
        at("2024-02-11T00:00:00Z"),
    )

    [policy] = team.policies
    assert policy.levels == (
        SourceLevel(timedelta(0), (Target("schedule", business.id), Target("schedule", nights.id))),
        SourceLevel(timedelta(minutes=10), (Target("user", ALICE),)),
    )
    assert (policy.repeat, policy.repeat_after) == (2, timedelta(minutes=10))

    assert [(s.source_kind, s.source_id, s.why) for s in team.skipped] == [
        (
            "rotation",
            NIGHTS,
            "Platform_schedule / Nights: turn 3 is a team participant 'Payments'; opsdesk "
            "turns are one person, so that turn is empty",
        ),
        (
            "escalation",
            "9a441alp-2a2c-4e52-9d4e-5f6a7b8c9d0e",
            "'Platform_escalation' rule 2: notifyType 'next' (not the on-call schedule "
            "itself) has no opsdesk equivalent",
        ),
        (
            "escalation",
            "9a441alp-2a2c-4e52-9d4e-5f6a7b8c9d0e",
            "'Platform_escalation' rule 4: condition 'if-not-closed' keeps paging after an "
            "acknowledgement; opsdesk stops at the acknowledgement",
        ),
        (
            "escalation",
            "9a441alp-2a2c-4e52-9d4e-5f6a7b8c9d0e",
            "'Platform_escalation': resetRecipientStates; opsdesk stops repeating once anyone "
            "acknowledges",
        ),
    ]


def test_endpoints_page_as_opsgenie_pages() -> None:
    window = Window(at("2027-03-21T23:00:00Z"), at("2027-04-04T23:00:00Z"))
    endpoints = {e.key: e for e in OG.endpoints(window)}
    assert (endpoints["users"].pagination, endpoints["users"].next_key) == (
        "next_url",
        "paging.next",
    )
    assert dict(endpoints["schedules"].params) == {"expand": "rotation"}
    assert dict(endpoints["timeline"].params) == {
        "date": "2027-03-21T23:00:00Z",
        "interval": "14",
        "intervalUnit": "days",
    }
    assert "timeline" not in {e.key for e in OG.endpoints(None)}
    assert OG.auth_headers("k") == {"Authorization": "GenieKey k"}


@pytest.mark.parametrize("name", case_names("opsgenie"))
def test_consistent_case_verifies_with_no_difference(name: str) -> None:
    case = load_case("opsgenie", name)
    window = case_window(case)
    team = OG.parse(bundle(opsgenie_api(case)), window)
    plan = plan_import(team, None)
    result = verify(plan, team, window)
    assert [d.line() for d in result.differences] == []
    assert result.schedules and not result.unchecked
    assert not [s for s in plan.skipped if s.source_kind != "escalation_policy"]


@pytest.mark.parametrize("name", case_names("opsgenie"))
def test_consistent_case_verifies_from_a_saved_folder(name: str, tmp_path: Path) -> None:
    case = load_case("opsgenie", name)
    window = case_window(case)
    save(MemoryBundle(opsgenie_api(case, per_page=1)), tmp_path, "opsgenie", window)
    team = OG.parse(FolderBundle(tmp_path), window)
    assert [d.line() for d in verify(plan_import(team, None), team, window).differences] == []


def test_rotations_that_never_overlap_stay_one_schedule() -> None:
    team = OG.parse(bundle(opsgenie_api(load_case("opsgenie", "span-weekend"))), None)
    [schedule] = team.schedules
    assert [layer.name for layer in schedule.layers] == ["Weekdays", "Weekend"]
    weekend = schedule.layers[1]
    assert weekend.restrictions == (WeeklyRange(4, time(17), 0, time(9)),)


def test_overlapping_rotations_are_split_and_paged_together() -> None:
    case = load_case("opsgenie", "overlap-split")
    team = OG.parse(bundle(opsgenie_api(case)), None)
    assert [s.name for s in team.schedules] == ["Ops / Business", "Ops / Nights"]
    plan = plan_import(team, None)
    [policy] = [p for p in plan.policies if p.service == "Ops"]
    assert [(lv.after, lv.schedule) for lv in policy.levels] == [
        (timedelta(minutes=2), "Ops / Business"),
        (timedelta(minutes=2), "Ops / Nights"),
    ]
    [override] = plan.overrides
    assert (override.schedule, override.login) == ("Ops / Business", "jane")


def test_escalation_delays_are_exact_and_rules_at_one_delay_are_one_level() -> None:
    team = OG.parse(bundle(opsgenie_api(load_case("opsgenie", "nights-cross-midnight"))), None)
    [policy] = team.policies
    assert [level.delay for level in policy.levels] == [timedelta(seconds=90), timedelta(hours=1)]
    team = OG.parse(bundle(opsgenie_api(load_case("opsgenie", "weekly-dst"))), None)
    [policy] = team.policies
    assert policy.levels[1] == SourceLevel(
        timedelta(minutes=7), (Target("user", "u-carol"), Target("schedule", "s-week"))
    )
    assert (policy.repeat, policy.repeat_after) == (2, timedelta(minutes=13))


def test_teams_become_services_paged_by_their_default_routing_rule() -> None:
    plan = plan_import(
        OG.parse(bundle(opsgenie_api(load_case("opsgenie", "weekly-dst"))), None), None
    )
    assert [s.name for s in plan.services] == ["Platform"]
    [integration] = plan.integrations
    assert (integration.kind, integration.service) == ("alertmanager", "Platform")
    # a default rule that notifies a schedule: a policy of one level, at once
    plan = plan_import(
        OG.parse(bundle(opsgenie_api(load_case("opsgenie", "business-hours-weekend"))), None), None
    )
    [policy] = plan.policies
    assert (policy.service, [(lv.after, lv.schedule) for lv in policy.levels]) == (
        "Service desk",
        [(timedelta(0), "Service_desk")],
    )


def test_an_altered_timeline_is_named_difference_by_difference() -> None:
    case = load_case("opsgenie", "overlap-split")
    nights = case["timelines"]["s-ops"]["finalTimeline"]["rotations"][1]["periods"]
    nights[0]["recipient"] = {"id": "u-bob", "type": "user", "name": "bob@example.com"}
    nights[2]["endDate"] = "2027-03-19T09:00:00Z"  # as if the window ran to 10:00 local
    window = case_window(case)
    team = OG.parse(bundle(opsgenie_api(case)), window)
    lines = [d.line() for d in verify(plan_import(team, None), team, window).differences]
    assert lines == [
        "Ops / Nights: 2027-03-15 16:00–2027-03-16 08:00 UTC (960 min): source has bob, "
        "opsdesk has carol",
        "Ops / Nights: 2027-03-19 08:00–2027-03-19 09:00 UTC (60 min): source has carol, "
        "opsdesk has nobody",
    ]


def test_merging_overlapping_rotations_would_be_caught() -> None:
    """Proof the split matters: verify the split case's timeline against ONE schedule
    holding both rotations, and every weeknight where both are on call is named."""
    case = load_case("opsgenie", "overlap-split")
    window = case_window(case)
    team = OG.parse(bundle(opsgenie_api(case)), window)
    business, nights = team.schedules
    merged = type(business)("s-ops", "Ops", business.timezone, business.layers + nights.layers)
    team.schedules = [merged]
    team.final_shifts = {"s-ops": team.final_shifts[business.id] + team.final_shifts[nights.id]}
    team.overrides = []
    team.policies = []
    lines = [d.line() for d in verify(plan_import(team, None), team, window).differences]
    assert len(lines) >= 4
    assert all("source has alice, carol" in line or "source has alice, bob" in line or
               "source has jane" in line for line in lines)  # fmt: skip


def reasons(team_skipped: list[Any], kind: str) -> list[str]:
    return [f"{s.source_id}: {s.why}" for s in team_skipped if s.source_kind == kind]


def test_unknown_time_zone_is_one_line_naming_the_schedule() -> None:
    case = load_case("opsgenie", "weekly-dst")
    case["schedules"][0]["timezone"] = "Mars/Olympus_Mons"
    team = OG.parse(bundle(opsgenie_api(case)), None)
    assert team.schedules == []
    assert reasons(team.skipped, "schedule") == [
        "s-week: 'Platform_weekly': unknown time zone 'Mars/Olympus_Mons'"
    ]


def test_schedule_with_no_rotations_is_one_line() -> None:
    case = load_case("opsgenie", "nights-cross-midnight")
    case["schedules"][0]["rotations"] = []
    team = OG.parse(bundle(opsgenie_api(case)), None)
    assert reasons(team.skipped, "schedule") == ["s-night: 'Nights' has no rotations"]


@pytest.mark.parametrize(
    ("restriction", "why"),
    [
        ({"type": "monthly"}, "timeRestriction type 'monthly'"),
        (
            {"type": "weekday-and-time-of-day", "restrictions": [{"startDay": "funday"}]},
            "needs startDay/endDay and hours and minutes",
        ),
        (
            {"type": "time-of-day", "restriction": {"startHour": 25, "startMin": 0,
                                                     "endHour": 8, "endMin": 0}},
            "needs startHour, startMin, endHour, endMin",
        ),
    ],
)  # fmt: skip
def test_a_restriction_that_cannot_be_read_skips_its_rotation(
    restriction: dict[str, Any], why: str
) -> None:
    case = load_case("opsgenie", "nights-cross-midnight")
    case["schedules"][0]["rotations"][0]["timeRestriction"] = restriction
    team = OG.parse(bundle(opsgenie_api(case)), None)
    [line] = reasons(team.skipped, "rotation")
    assert line.startswith("r-night: Nights / Nights: ") and why in line


def test_a_truncated_saved_file_is_one_line_naming_it(tmp_path: Path) -> None:
    case = load_case("opsgenie", "weekly-dst")
    save(MemoryBundle(opsgenie_api(case)), tmp_path, "opsgenie", None)
    saved = tmp_path / "schedules.json"
    saved.write_text(saved.read_text()[:300])
    with pytest.raises(BundleError) as caught:
        OG.parse(FolderBundle(tmp_path), None)
    assert "\n" not in str(caught.value)
    assert str(saved) in str(caught.value) and "cut short" in str(caught.value)


def test_a_timeline_of_the_wrong_shape_names_the_file() -> None:
    case = load_case("opsgenie", "weekly-dst")
    api = opsgenie_api(case)
    api["timeline/s-week"] = [{"data": {"rotations": []}}]
    with pytest.raises(BundleError, match=r"^timeline/s-week\.json: no data\.finalTimeline"):
        OG.parse(bundle(api), case_window(case))


def test_disabled_schedule_and_scoped_override_on_a_merged_schedule_are_reported() -> None:
    case = load_case("opsgenie", "span-weekend")
    case["overrides"]["s-span"] = [
        {"alias": "ov-1", "user": {"type": "user", "id": "u-bob"},
         "startDate": "2027-03-20T00:00:00Z", "endDate": "2027-03-20T06:00:00Z",
         "rotations": [{"id": "r-weekend"}]}
    ]  # fmt: skip
    team = OG.parse(bundle(opsgenie_api(case)), None)
    assert reasons(team.skipped, "override") == [
        "ov-1: Storage: applies to rotation(s) r-weekend only; an opsdesk override covers "
        "the whole schedule"
    ]
    case["schedules"][0]["enabled"] = False
    team = OG.parse(bundle(opsgenie_api(case)), None)
    assert reasons(team.skipped, "schedule") == ["s-span: 'Storage' is disabled in Opsgenie"]


def test_users_are_read_across_pages() -> None:
    case = load_case("opsgenie", "overlap-split")
    api = opsgenie_api(case, per_page=1)
    assert len(api["users"]) == 4 and "next" not in api["users"][-1]["paging"]
    assert json.dumps(api["users"][0]).count("offset=1") == 1
    assert [u.id for u in OG.parse(bundle(api), None).users] == [
        "u-alice",
        "u-bob",
        "u-carol",
        "u-jane",
    ]


def test_a_user_with_no_mapping_is_skipped_and_shows_in_verify() -> None:
    case = load_case("opsgenie", "weekly-dst")
    window = case_window(case)
    team = OG.parse(bundle(opsgenie_api(case)), window)
    plan = plan_import(team, {"alice@example.com": "alice", "bob@example.com": "bob"})
    assert [(s.source_kind, s.source_id) for s in plan.skipped][:1] == [("user", "u-carol")]
    lines = [d.line() for d in verify(plan, team, window).differences]
    assert lines == [
        "Platform_weekly: 2027-03-22 08:00–2027-03-29 07:00 UTC (10020 min): source has "
        "?u-carol, opsdesk has nobody",
    ]
