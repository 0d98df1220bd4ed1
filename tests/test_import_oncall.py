"""`opsdesk import grafana-oncall`: from a real HTTP server on 127.0.0.1 paginated as
OnCall pages (a `next` URL), and from a saved folder; verify against hand-written rotas;
the skipped-items report; bad input, one line each."""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from opsdesk.console.cli import imports as cli_imports
from opsdesk.console.cli import run
from opsdesk.console.domain.imports.common import MemoryBundle
from opsdesk.console.domain.imports.grafana_oncall import GrafanaOnCall
from opsdesk.console.domain.imports.mapping import day_windows, plan_import
from opsdesk.console.domain.imports.model import Skipped, WeeklyRange, Window
from opsdesk.console.errors import InputError
from opsdesk.console.ops.importing import read_map
from opsdesk.store.store import Store
from tests import import_cases as cases
from tests.import_server import ApiServer, api_server

Capture = pytest.CaptureFixture[str]
TOKEN = "oncall-secret-token"
FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "grafana-oncall"


@pytest.fixture
def team_config(tmp_path: Path, me: str) -> Path:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[roles]\nadmin = ["{me}"]\n[[people]]\nlogin = "{me}"\n')
    return config


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_imports, "now", lambda: cases.NOW)


@pytest.fixture
def oncall(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiServer]:
    monkeypatch.setenv("ONCALL_TOKEN", TOKEN)
    with api_server(token=TOKEN) as server:
        cases.serve(server)
        yield server


def opsdesk(config: Path, tmp_path: Path, *argv: str) -> int:
    return run(["--config", str(config), "--store", str(tmp_path / "s.db"), *argv])


def from_api(server: ApiServer) -> list[str]:
    return ["import", "grafana-oncall", "--url", server.base, "--token-env", "ONCALL_TOKEN"]


def test_a_consistent_team_imports_with_zero_differences_from_the_api(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    code = opsdesk(team_config, tmp_path, *from_api(oncall), "--verify", "--weeks", "4", "--json")
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(out)
    assert report["skipped"] == []
    assert report["verify"]["differences"] == []
    assert sorted(report["verify"]["schedules"]) == ["Nights", "Primary", "Support"]
    assert report["written"] is True
    # Paginated as OnCall pages: two items a page, following `next` links.
    assert "/api/v1/users/?page=5" in oncall.requests
    assert any(r.startswith("/api/v1/schedules/S2/final_shifts/?") for r in oncall.requests)
    assert all(a == TOKEN for a in oncall.authorizations)
    written = tomllib.loads(
        (team_config.parent / "conf.d/50-import-grafana-oncall.toml").read_text()
    )
    [policy] = written["escalation_policies"]
    assert policy["service"] == "payments"
    assert [(lv["after"], lv.get("person") or lv.get("schedule")) for lv in policy["levels"]] == [
        ("0s", "alice"), ("5m", "Primary"), ("5m", "bob"), ("5m", "carol"), ("6m30s", "Support")
    ]  # fmt: skip
    assert (policy["repeat"], policy["repeat_after"]) == (5, "0s")
    [integration] = written["integrations"]
    assert (integration["kind"], integration["service"]) == ("alertmanager", "payments")
    assert opsdesk(team_config, tmp_path, "config", "check") == 0
    # The override crossing midnight is in the store, audited as imported.
    overrides = asyncio.run(_overrides(tmp_path / "s.db"))
    assert overrides == [
        ("Support", "olga", cases.z("2026-03-18T22:00"), cases.z("2026-03-19T02:00"))
    ]
    # Importing again adds no second copy.
    capsys.readouterr()
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--json") == 0
    assert json.loads(capsys.readouterr().out)["overrides"]["already_there"] == 1


async def _overrides(path: Path) -> list[tuple[str, str, datetime, datetime]]:
    store = await Store.open(path)
    try:
        found = await store.overrides.not_ended(cases.NOW)
        audited = await store.audit.entries(entity="override")
    finally:
        await store.close()
    assert [(a.action, (a.after or {}).get("reason")) for a in audited] == [
        ("override.import", "imported from Grafana OnCall (O1)")
    ]
    return [(o.schedule, o.login, o.starts_at, o.ends_at) for o in found]


def test_a_saved_folder_imports_the_same_and_verifies_from_the_saved_window(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    saved = tmp_path / "export"
    argv = [*from_api(oncall), "--save-dir", str(saved), "--verify", "--dry-run"]
    assert opsdesk(team_config, tmp_path, *argv) == 0
    assert (saved / "final_shifts" / "S3.json").is_file()
    assert oct((saved / "users.json").stat().st_mode & 0o777) == "0o600"
    capsys.readouterr()
    requests = len(oncall.requests)
    argv = ["import", "grafana-oncall", "--from-dir", str(saved), "--verify", "--json"]
    assert opsdesk(team_config, tmp_path, *argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(oncall.requests) == requests  # nothing fetched
    assert report["verify"]["differences"] == []
    assert report["verify"]["from"] == "2026-03-16T00:00:00Z"
    assert report["written"] is True


def test_every_difference_is_named_on_an_altered_rota(
    team_config: Path,
    tmp_path: Path,
    pinned: None,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    altered = cases.finals()
    primary = list(altered["S1"])
    start, end, _ = primary[1]
    primary[1] = (start, end, "carol")  # the source says carol had bob's 167-hour week
    first = primary[0]
    primary[0] = (first[0] + timedelta(minutes=30), first[1], first[2])  # starts 30 min late
    altered["S1"] = primary
    monkeypatch.setenv("ONCALL_TOKEN", TOKEN)
    with api_server(token=TOKEN) as server:
        cases.serve(server, altered)
        code = opsdesk(team_config, tmp_path, *from_api(server), "--verify")
    out = capsys.readouterr().out
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("Primary:")]
    assert lines == [
        "Primary: 2026-03-16 08:00–2026-03-16 08:30 UTC (30 min): source has nobody, "
        "opsdesk has alice",
        "Primary: 2026-03-23 08:00–2026-03-30 07:00 UTC (10020 min): source has carol, "
        "opsdesk has bob",
    ]
    assert "nothing written: 2 differences from the source's own rota" in out
    assert not (team_config.parent / "conf.d/50-import-grafana-oncall.toml").exists()


def test_a_user_with_no_mapping_is_reported_and_their_turns_differ(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    mapping = tmp_path / "logins.toml"
    names = {uid: name for uid, name in cases.USERS.items() if name != "carol"}
    mapping.write_text(
        "[logins]\n" + "".join(f'"{n}@example.com" = "{n}"\n' for n in names.values())
    )
    argv = [*from_api(oncall), "--map", str(mapping), "--verify", "--json"]
    assert opsdesk(team_config, tmp_path, *argv) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["skipped"][0] == {
        "source_kind": "user",
        "source_id": "U3",
        "why": "carol@example.com is not in the --map file; their turns stay empty",
    }
    # --allow-partial takes the rest, but verify still fails: carol's week is named.
    assert opsdesk(team_config, tmp_path, *argv, "--allow-partial") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verify"]["differences"] == [
        {"schedule": "Primary", "from": "2026-03-30T07:00:00Z", "to": "2026-04-06T07:00:00Z",
         "minutes": 10080.0, "source": ["?U3"], "opsdesk": None}
    ]  # fmt: skip
    assert report["written"] is False


def test_the_documentation_examples_map_field_by_field_and_skip_exactly() -> None:
    def payload(name: str) -> list[Any]:
        return [json.loads((FIXTURES / f"{name}.json").read_text())["payload"]]

    web = json.loads((FIXTURES / "web-schedule-with-shifts.json").read_text())
    schedules, shifts = payload("schedules-list"), payload("on-call-shifts-list")
    schedules[0]["results"].append(web["payload"]["schedule"])
    shifts[0]["results"].extend(web["payload"]["shifts"])
    bundle = MemoryBundle(
        {"users": payload("users-list"), "schedules": schedules, "on_call_shifts": shifts,
         "escalation_chains": payload("escalation-chains-list"),
         "escalation_policies": payload("escalation-policies-list"),
         "integrations": payload("integrations-list"), "routes": payload("routes-list"),
         "final_shifts/S3Z477AHDXTMF": payload("schedule-final-shifts")}
    )  # fmt: skip
    window = Window(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 2, 1, tzinfo=UTC))
    team = GrafanaOnCall().parse(bundle, window)
    [user] = team.users
    assert (user.id, user.email, user.username, user.timezone) == (
        "U4DNY931HHJS5", "public-api-demo-user-1@grafana.com", "alex", "UTC"
    )  # fmt: skip
    calendar, web_schedule = team.schedules
    assert (calendar.name, calendar.timezone) == ("Demo schedule Calendar", "America/New_York")
    [single] = calendar.layers
    assert (single.rotation, single.handoff) == (timedelta(hours=3), datetime(2020, 9, 10, 8))
    [weekly] = web_schedule.layers
    assert weekly.members == ("U4DNY931HHJS5", "UC2CHRT5SD34X")
    assert weekly.rotation == timedelta(weeks=1) and weekly.timezone == "Europe/Berlin"
    [override] = team.overrides
    assert (override.user_id, override.start, override.end) == (
        "U7S8H84ARFTGN", datetime(2024, 2, 10, tzinfo=UTC), datetime(2024, 2, 11, tzinfo=UTC)
    )  # fmt: skip
    assert len(team.final_shifts["S3Z477AHDXTMF"]) == 12
    [service] = team.services
    assert (service.name, service.policy_id, service.integrations[0].kind) == (
        "Grafana :blush:", "F5JU6KJET33FE", "grafana"
    )  # fmt: skip
    assert team.skipped == [
        Skipped("schedule", "SBM7DV7BKFUYU", "an iCal schedule: its rota lives in the calendar "
                "at ical_url_primary, not in OnCall; rebuild it as layers by hand"),
        Skipped("on_call_shift", "O9WTH7CKM3KZW", "'Demo recurrent event': by_day with "
                "frequency 'weekly' every 2 hands off in a way opsdesk layers cannot repeat"),
        Skipped("on_call_shift", "OQ1ROTATION01", "turn 2 has 2 people at once; an opsdesk "
                "layer has one per turn (imported: UC2CHRT5SD34X)"),
        Skipped("escalation_policy", "E5JJTU52M5YM4", "round-robin paging (one person, the "
                "next each time) has no opsdesk equivalent"),
        Skipped("route", "RIYGUJXCPFHXY", "routes alerts matching 'us-(east|west)' to chain "
                "F5JU6KJET33FE; opsdesk routes by service: add an integration with a "
                "service label instead"),
    ]  # fmt: skip
    plan = plan_import(team, None)
    assert [s.source_kind for s in plan.skipped[5:]] == [
        "layer_member", "escalation_policy", "override"
    ]  # fmt: skip


def test_weekly_ranges_become_day_windows_of_at_most_a_day() -> None:
    span = day_windows(WeeklyRange(0, time(9), 4, time(17)))  # Monday 09:00 to Friday 17:00
    assert [(w.days, w.from_, w.to) for w in span] == [
        (["mon"], time(9), time(9)), (["tue"], time(9), time(9)), (["wed"], time(9), time(9)),
        (["thu"], time(9), time(9)), (["fri"], time(9), time(17)),
    ]  # fmt: skip
    night = day_windows(WeeklyRange(6, time(22), 0, time(6)))  # Sunday night into Monday
    assert [(w.days, w.from_, w.to) for w in night] == [(["sun"], time(22), time(6))]
    whole = day_windows(WeeklyRange(2, time(10), 2, time(10)))
    assert len(whole) == 7 and whole[0].days == ["wed"] and whole[-1].days == ["tue"]


# Bad input: one line each, naming what is wrong.


def one_line(capsys: Capture) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_a_wrong_token_is_one_line(
    oncall: ApiServer,
    team_config: Path,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONCALL_TOKEN", "wrong")
    assert opsdesk(team_config, tmp_path, *from_api(oncall)) == 1
    err = one_line(capsys)
    assert "the token in $ONCALL_TOKEN was refused (HTTP 401)" in err
    assert "wrong" not in err


def test_429_is_retried_after_retry_after_then_stops_with_one_line(
    oncall: ApiServer, team_config: Path, tmp_path: Path, capsys: Capture
) -> None:
    oncall.throttle = 2
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--dry-run") == 0
    assert oncall.throttled == 2
    capsys.readouterr()
    oncall.throttle = 100
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--dry-run") == 1
    assert "still rate limited (HTTP 429) after 5 tries" in one_line(capsys)
    # Asked to wait an hour, it stops at once and says so rather than sit silent.
    oncall.throttle, oncall.throttled, oncall.retry_after = 100, 0, "3600"
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--dry-run") == 1
    assert oncall.throttled == 1
    assert "rate limited (HTTP 429) for 3600s, longer than the import waits (60s)" in one_line(
        capsys
    )


def test_a_truncated_file_in_the_folder_is_named(
    oncall: ApiServer, team_config: Path, tmp_path: Path, capsys: Capture
) -> None:
    saved = tmp_path / "export"
    assert (
        opsdesk(team_config, tmp_path, *from_api(oncall), "--save-dir", str(saved), "--dry-run")
        == 0
    )
    capsys.readouterr()
    text = (saved / "on_call_shifts.json").read_text()
    (saved / "on_call_shifts.json").write_text(text[: len(text) // 2])
    argv = ["import", "grafana-oncall", "--from-dir", str(saved)]
    assert opsdesk(team_config, tmp_path, *argv) == 2
    err = one_line(capsys)
    assert f"{saved / 'on_call_shifts.json'}: not valid JSON at line" in err
    assert "was the file cut short?" in err


def test_an_unknown_zone_and_a_schedule_with_no_layers_are_reported(
    team_config: Path, tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_TOKEN", TOKEN)
    with api_server(token=TOKEN) as server:
        cases.serve(server)
        found = cases.schedules()
        found[0]["time_zone"] = "Mars/Olympus_Mons"
        found.append({"id": "S9", "name": "Empty", "type": "web", "time_zone": "UTC"})
        server.collection("/api/v1/schedules/", found)
        code = opsdesk(team_config, tmp_path, *from_api(server), "--dry-run")
    out = capsys.readouterr().out
    assert code == 1
    assert "  schedule S1: unknown time zone 'Mars/Olympus_Mons' in 'Primary'" in out
    assert "  schedule S9: 'Empty' has no rotations (layers) that map" in out
    assert "nothing written: " in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--url", "http://127.0.0.1:9"], "--url needs --token-env NAME"),
        (["--url", "http://127.0.0.1:9", "--token-env", "T", "--from-dir", "."],
         "give --url or --from-dir, not both"),
        ([], "give --url BASE --token-env NAME, or --from-dir DIR"),
        (["--url", "http://127.0.0.1:9", "--token-env", "UNSET_TOKEN_VARIABLE"],
         "--token-env UNSET_TOKEN_VARIABLE: that environment variable is empty or not set"),
    ],
)  # fmt: skip
def test_usage_mistakes_are_one_line_exit_2(
    argv: list[str], expected: str, team_config: Path, tmp_path: Path, capsys: Capture
) -> None:
    assert opsdesk(team_config, tmp_path, "import", "grafana-oncall", *argv) == 2
    assert expected in one_line(capsys)


def test_read_only_writes_neither_the_drop_in_nor_the_store(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    asyncio.run(_create_store(tmp_path / "s.db"))  # a store there, as on a team's host
    argv = ["--config", str(team_config), "--store", str(tmp_path / "s.db"), "--read-only"]
    assert run([*argv, *from_api(oncall)]) == 1
    assert "read-only (--read-only): nothing written" in one_line(capsys)
    assert not (team_config.parent / "conf.d" / "50-import-grafana-oncall.toml").exists()
    assert run([*argv, *from_api(oncall), "--dry-run"]) == 0  # looking is fine


async def _create_store(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def test_a_map_naming_something_that_is_no_login_is_refused(tmp_path: Path) -> None:
    mapping = tmp_path / "logins.toml"
    mapping.write_text('[logins]\n"alice@example.com" = "alice smith"\n')
    with pytest.raises(InputError, match="logins.alice@example.com: 'alice smith' is not a login"):
        read_map(mapping)
    mapping.write_text('[logins]\n"alice@example.com" = "alice.smith@corp"\n')  # sssd's
    assert read_map(mapping) == {"alice@example.com": "alice.smith@corp"}


def test_diff_shows_what_changes_against_the_last_import(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    assert opsdesk(team_config, tmp_path, *from_api(oncall)) == 0
    changed = cases.shifts()
    changed[0]["rolling_users"] = [["U1"], ["U3"], ["U2"]]  # carol before bob now
    oncall.collection("/api/v1/on_call_shifts/", changed)
    capsys.readouterr()
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--diff", "--dry-run") == 0
    out = capsys.readouterr().out
    assert ' "alice",\n+    "carol",\n     "bob",\n-    "carol",\n' in out
    assert "moves: Primary 2026-03-23 08:00–2026-03-30 07:00 UTC: bob -> carol" in out
    assert "moves: Primary 2026-03-30 07:00–2026-04-06 07:00 UTC: carol -> bob" in out
    assert "dry run: nothing written" in out
    # --diff alone only looks, as `oncall diff` does: the earlier import stays as it was.
    dropin = team_config.parent / "conf.d" / "50-import-grafana-oncall.toml"
    before = dropin.read_text()
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--diff") == 0
    out = capsys.readouterr().out
    assert "--diff: nothing written (run without --diff to write" in out
    assert "10 people, 3 schedules, 1 service, 1 escalation policy, 1 integration," in out
    assert "wrote " not in out and dropin.read_text() == before


def test_a_next_link_to_another_host_is_not_followed_with_the_token(
    oncall: ApiServer, team_config: Path, tmp_path: Path, capsys: Capture
) -> None:
    page = {"results": cases.users()[:1], "next": "http://198.51.100.7/api/v1/users/?page=2"}
    oncall.document("/api/v1/users/", page)
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--dry-run") == 1
    err = one_line(capsys)
    assert "a next-page link points to another host" in err
    assert "not following it with the token" in err


def test_names_from_the_source_are_made_safe_for_config_and_screens(
    oncall: ApiServer, team_config: Path, tmp_path: Path, pinned: None, capsys: Capture
) -> None:
    found = cases.schedules()
    found[0]["name"] = "Primary\x1b]52;c;aGk=\x07 [@click=app.quit]\u202e"
    oncall.collection("/api/v1/schedules/", found)
    assert opsdesk(team_config, tmp_path, *from_api(oncall), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert "Primary [@click=app.quit]" in report["schedules"]
    assert opsdesk(team_config, tmp_path, "config", "check") == 0


def test_importing_overrides_for_others_needs_a_lead_and_then_nothing_is_written(
    oncall: ApiServer, tmp_path: Path, me: str, pinned: None, capsys: Capture
) -> None:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'[[people]]\nlogin = "{me}"\n')  # nobody holds the lead role
    assert opsdesk(config, tmp_path, *from_api(oncall)) == 1
    err = one_line(capsys)
    assert "importing 1 overrides puts others on call, which needs the lead role" in err
    assert not (config.parent / "conf.d" / "50-import-grafana-oncall.toml").exists()


def test_the_wait_after_a_429_comes_from_the_products_own_header_too() -> None:
    import httpx

    from opsdesk.console.ops.import_fetch import MAX_WAIT, _retry_after, _wait_header

    assert _wait_header(httpx.Headers({"Retry-After": "7", "RateLimit-Reset": "9"})) == "7"
    assert _wait_header(httpx.Headers({"ratelimit-reset": "9"})) == "9"  # PagerDuty
    assert _wait_header(httpx.Headers({"X-RateLimit-Period-In-Sec": "60"})) == "60"  # Opsgenie
    assert _wait_header(httpx.Headers({})) is None
    assert (_retry_after("9"), _retry_after(None), _retry_after("86400")) == (9.0, 1.0, 86400.0)
    assert MAX_WAIT == 60.0  # longer waits stop the import at once (see the test above)
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_verify_names_two_people_at_once_and_merges_a_stretch() -> None:
    from opsdesk.console.domain.imports.verify import _compare

    hour = timedelta(hours=1)
    t0 = datetime(2026, 3, 16, tzinfo=UTC)
    theirs = [(t0, t0 + 10 * hour, ("a",)), (t0 + 5 * hour, t0 + 15 * hour, ("b",))]
    ours: list[tuple[datetime, datetime, str | None]] = [
        (t0, t0 + 10 * hour, "a"), (t0 + 10 * hour, t0 + 12 * hour, "b"),
        (t0 + 12 * hour, t0 + 13 * hour, "c"), (t0 + 13 * hour, t0 + 20 * hour, None),
    ]  # fmt: skip
    found = _compare("S", theirs, ours, Window(t0, t0 + 20 * hour))
    assert [(d.start - t0, d.minutes, d.source, d.opsdesk) for d in found] == [
        (5 * hour, 300, ("a", "b"), "a"),
        (12 * hour, 60, ("b",), "c"),
        (13 * hour, 120, ("b",), None),
    ]
