"""Rules that once could be broken by hand with no test noticing, each pinned down here:

- the requester never approves their own change, even when someone else implements it
  (the store refuses; the CLI says so);
- an on-call layer restricted to days only covers those days whole, midnight to midnight
  in the schedule's zone (a 23- or 25-hour day across a DST change), and nothing else;
- one person holding both the CAB and the lead role fills one approval seat, not two.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import time_machine

from opsdesk.console.cli import run
from opsdesk.console.config.loader import parse_text
from opsdesk.console.domain.change_rules import rule_for, still_needed
from opsdesk.console.domain.rotations import final_rota, on_call_at
from opsdesk.console.ops.changes import ChangeOps, ChangePlan, Refused
from opsdesk.console.ops.identity import actor_for
from opsdesk.store import PermissionDenied, Store
from opsdesk.store.records import ChangeApproval

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a quiet Wednesday: no conflicts
T = TypeVar("T")

TEAM = """
[[people]]
login = "{me}"
[[people]]
login = "ivan"
[[people]]
login = "carla"
[[people]]
login = "dual"
[roles]
cab = ["{me}", "carla", "dual"]
lead = ["dual"]
[[services]]
name = "wiki"
[[changes.approval_rules]]
type = "normal"
risk = ["low", "medium"]
cab = 1
[[changes.approval_rules]]
type = "normal"
risk = ["high"]
cab = 1
lead = 1
[[changes.risk_questions]]
id = "untested"
text = "Untested?"
weight = 10
[changes.risk_thresholds]
medium = 2
high = 6
"""


class Team:
    """One config file and one SQLite store, used through the CLI (as the test's own
    login) and through ChangeOps (as anyone in the team)."""

    def __init__(self, folder: Path, me: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.config_file = folder / "team.toml"
        self.config_file.write_text(TEAM.format(me=me))
        self.config = parse_text(self.config_file.read_text(), "team")
        self.store = folder / "s.db"
        self.capsys = capsys

    def cli(self, *args: str) -> tuple[int, Any]:
        code = run(["--config", str(self.config_file), "--store", str(self.store), *args])
        out, err = self.capsys.readouterr()
        if "--json" in args and code == 0:
            return code, json.loads(out)
        return code, err or out

    def as_(self, login: str, work: Callable[[ChangeOps], Awaitable[T]]) -> T:
        async def go() -> T:
            async with await Store.open(self.store) as opened:
                return await work(ChangeOps(opened, self.config, actor_for(self.config, login)))

        return asyncio.run(go())

    def approvals(self, key: str) -> list[ChangeApproval]:
        return self.as_("carla", lambda ops: ops.store.changes.approvals(key))


@pytest.fixture
def team(tmp_path: Path, me: str, capsys: pytest.CaptureFixture[str]) -> Team:
    made = Team(tmp_path, me, capsys)
    code, _ = made.cli("incident", "new", "--title", "creates the store", "--service", "wiki")
    assert code == 0
    return made


def plan(title: str, *, risk_answers: dict[str, bool] | None = None) -> ChangePlan:
    return ChangePlan(title, "normal", ("wiki",), START, START + timedelta(hours=1),
                      "staging first", "restore snapshot", risk_answers or {})  # fmt: skip


# --- a. the requester never approves, whoever implements --------------------------------


def test_a_requester_cannot_approve_a_change_someone_else_implements(team: Team, me: str) -> None:
    with time_machine.travel(NOW, tick=False):
        code, created = team.cli(
            "change", "new", "--title", "Resize wiki volume", "--type", "normal",
            "--service", "wiki", "--start", "2026-12-02T10:00Z", "--end", "2026-12-02T11:00Z",
            "--test-plan", "staging first", "--backout", "restore snapshot",
            "--implementer", "ivan", "--json",
        )  # fmt: skip
        assert code == 0, created
        key = created["key"]
        assert (created["requester"], created["implementer"]) == (me, "ivan")
        assert team.cli("change", "submit", key)[0] == 0

        # The requester holds the CAB role, yet deciding on their own change is refused...
        code, err = team.cli("change", "approve", key, "--comment", "looks fine to me")
        assert code == 1
        assert f"{key} is your own change; someone else decides" in err
        # ... and the same through the operations the changes screen uses.
        with pytest.raises(PermissionDenied, match="is your own change; someone else decides"):
            team.as_(me, lambda ops: ops.decide(key, "approve", "", NOW))
        with pytest.raises(PermissionDenied, match="is your own change; someone else decides"):
            team.as_(me, lambda ops: ops.decide(key, "reject", "no", NOW))
        assert team.approvals(key) == []
        code, view = team.cli("change", "show", key, "--json")
        assert code == 0
        assert (view["state"], view["version"]) == ("submitted", created["version"] + 1)

        # Someone else on the CAB may approve it: the refusal was about who asked.
        done = team.as_("carla", lambda ops: ops.decide(key, "approve", "ok", NOW))
        assert done.state == "scheduled"
        assert [(a.actor, a.decision) for a in team.approvals(key)] == [("carla", "approve")]


# --- b. a days-only restriction covers whole local days ---------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
WEEKEND_ONLY = """
[[people]]
login = "ana"
[[people]]
login = "bo"
[[schedules]]
name = "weekend"
timezone = "Europe/Berlin"
[[schedules.layers]]
name = "weekend"
members = ["ana", "bo"]
rotation = "1d"
start = "2026-01-05T09:00"
restrict = { days = ["sat", "sun"] }
"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Berlin wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def covered(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) someone covers, adjacent shifts joined."""
    [schedule] = parse_text(WEEKEND_ONLY, "weekend").schedules
    spans: list[tuple[datetime, datetime]] = []
    for shift in final_rota(schedule, [], start, end):
        if shift.login is None:
            continue
        if spans and spans[-1][1] == shift.start:
            spans[-1] = (spans[-1][0], shift.end)
        else:
            spans.append((shift.start, shift.end))
    return spans


@pytest.mark.parametrize(
    ("saturday", "monday", "hours"),
    [
        ((2026, 3, 14), (2026, 3, 16), 48),  # an ordinary weekend
        ((2026, 3, 28), (2026, 3, 30), 47),  # clocks go forward on Sunday 29 March
        ((2026, 10, 24), (2026, 10, 26), 49),  # clocks go back on Sunday 25 October
    ],
)
def test_a_days_only_restriction_covers_those_days_midnight_to_midnight(
    saturday: tuple[int, int, int], monday: tuple[int, int, int], hours: int
) -> None:
    opens, closes = local(*saturday), local(*monday)
    spans = covered(opens - timedelta(days=5), closes + timedelta(days=4))
    assert spans == [(opens, closes)]
    assert closes - opens == timedelta(hours=hours)


def test_a_days_only_restriction_answers_who_is_on_call_at_the_edges() -> None:
    [schedule] = parse_text(WEEKEND_ONLY, "weekend").schedules
    second = timedelta(seconds=1)
    on_call = {
        at: on_call_at(schedule, [], at).login
        for at in (
            local(2026, 3, 27, 12),  # Friday noon
            local(2026, 3, 28) - second,  # Friday 23:59:59
            local(2026, 3, 28),  # Saturday 00:00
            local(2026, 3, 29, 1, 59),  # just before the spring-forward gap
            local(2026, 3, 29, 3, 0),  # just after it
            local(2026, 3, 30) - second,  # Sunday 23:59:59 (CEST)
            local(2026, 3, 30),  # Monday 00:00
            local(2026, 4, 1, 12),  # Wednesday noon
        )
    }
    assert [login is not None for login in on_call.values()] == [
        False, False, True, True, True, True, False, False,
    ]  # fmt: skip
    saturday_midnight = on_call_at(schedule, [], local(2026, 3, 28))
    assert saturday_midnight.since == local(2026, 3, 28)
    sunday_night = on_call_at(schedule, [], local(2026, 3, 30) - second)
    assert sunday_night.until == local(2026, 3, 30)


# --- c. one person, one seat ------------------------------------------------------------


def test_cab_and_lead_in_one_person_fill_one_seat_not_two(team: Team, me: str) -> None:
    high = rule_for(team.config, "normal", "high")
    assert (high.cab, high.lead) == (1, 1)
    both = ChangeApproval("dual", frozenset({"cab", "lead"}), "approve", "", NOW)
    after_dual = still_needed(high, [both])
    assert (after_dual.cab, after_dual.lead, after_dual.none) == (1, 0, False)

    with time_machine.travel(NOW, tick=False):
        risky = plan("Swap the wiki database", risk_answers={"untested": True})
        change = team.as_(me, lambda ops: ops.create(risky, NOW))
        assert change.risk == "high"
        key = change.key
        team.as_(me, lambda ops: ops.submit(key, NOW))

        after_one = team.as_("dual", lambda ops: ops.decide(key, "approve", "lead ok", NOW))
        assert after_one.state == "submitted"  # still short of a second person
        code, view = team.cli("change", "show", key, "--json")
        assert code == 0
        assert view["approvals_needed"] == {"cab": 1, "lead": 0, "review_after": False}
        # Still waiting for someone else on the CAB, and not for the same person again.
        waiting = team.as_("carla", lambda ops: ops.awaiting_me([after_one]))
        assert [c.key for c in waiting] == [key]
        with pytest.raises(Refused, match=f"you already approved {key}"):
            team.as_("dual", lambda ops: ops.decide(key, "approve", "cab ok too", NOW))
        assert team.as_("dual", lambda ops: ops.view(key, NOW)).change.state == "submitted"

        done = team.as_("carla", lambda ops: ops.decide(key, "approve", "cab ok", NOW))
        assert done.state == "scheduled"
        assert [a.actor for a in team.approvals(key)] == ["dual", "carla"]
