"""Problems: the lifecycle (refusals name the allowed moves), candidate rules with their
explainable reasons and thresholds, known-error matching, and the store and ops layers
on a real store with a pinned clock, on both backends (`store_location`; on PostgreSQL each
person acts through their own login holding TEAM's roles): links, versions, roles, audit
rows, one-transaction acceptance, and untrusted text in every field."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.config.model import Config, ProblemsConfig
from opsdesk.console.domain.problem_rules import (
    ProblemRefused,
    allowed_moves,
    candidates,
    check_move,
    known_error_match,
    similarity,
    title_words,
)
from opsdesk.console.errors import ConfigError
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.problems import Invalid, ProblemOps, Refused
from opsdesk.store import (
    Incident,
    InvalidOperation,
    NewIncident,
    PermissionDenied,
    StaleWrite,
    Store,
)
from opsdesk.store.problem_records import Problem
from tests.store_backends import people

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

TEAM = """
[[people]]
login = "ana"
[[people]]
login = "leo"
[[people]]
login = "sam"
[roles]
lead = ["leo"]
[[services]]
name = "checkout"
[[services]]
name = "wiki"
"""

LATENCY = [
    "Checkout latency p95 above 2s on web-1",
    "checkout latency p95 above 2s (web-2)",
    "Checkout latency p95 above 2s on web-7",
    "High checkout latency p95 above 2s",
]


def team(extra: str = "") -> Config:
    return parse_text(TEAM + extra, "team")


def incident(
    number: int,
    title: str,
    service: str = "checkout",
    days_ago: float = 1,
    source: str = "manual",
    dedup_key: str | None = None,
    state: str = "resolved",
) -> Incident:
    at = NOW - timedelta(days=days_ago)
    return Incident(
        id=number, title=title, description="", service=service, impact=2, urgency=2,
        priority="P3", state=state, hold_reason=None, assignee=None, reporter="ana",
        source=source, dedup_key=dedup_key, created_at=at, acknowledged_at=None,
        resolved_at=None, closed_at=None, resolution_code=None, resolution_note=None,
        csat=None, version=1, updated_at=at, updated_by="ana",
    )  # fmt: skip


def problem(state: str, **fields: object) -> Problem:
    values: dict[str, object] = dict(
        id=1, title="Checkout latency p95", description="", services=("checkout",),
        state=state, owner=None, root_cause="", workaround="", fix_change_id=None,
        created_at=NOW, created_by="ana", resolved_at=None, closed_at=None, version=1,
        updated_at=NOW, updated_by="ana",
    )  # fmt: skip
    values.update(fields)
    return Problem(**values)  # type: ignore[arg-type]


# -- the lifecycle ------------------------------------------------------------------------


def test_lifecycle_moves_and_refusals_name_the_allowed_moves() -> None:
    assert allowed_moves("new") == ("under_investigation", "closed")
    assert check_move(problem("new"), "under_investigation") == "under_investigation"
    with pytest.raises(ProblemRefused) as caught:
        check_move(problem("new"), "resolved")
    assert str(caught.value) == (
        "PRB-1 is new; cannot move it to resolved. Allowed: under_investigation, closed"
    )
    with pytest.raises(ProblemRefused, match="Allowed: nothing \\(it is closed\\)"):
        check_move(problem("closed"), "under_investigation")
    with pytest.raises(ProblemRefused, match="not a problem state"):
        check_move(problem("new"), "fixed")
    # back-moves: a root cause that was wrong, a fix that did not hold
    assert "under_investigation" in allowed_moves("root_cause_known")
    assert "under_investigation" in allowed_moves("resolved")


def test_states_need_their_text_before_they_are_entered() -> None:
    with pytest.raises(ProblemRefused, match="needs a root cause before it is root cause known"):
        check_move(problem("under_investigation"), "root_cause_known")
    with pytest.raises(ProblemRefused, match="needs a workaround before it is known error"):
        check_move(problem("root_cause_known", root_cause="pool"), "known_error")
    assert check_move(problem("root_cause_known", workaround="restart"), "known_error")


# -- similarity and candidates ------------------------------------------------------------


def test_title_words_keep_what_happened_and_drop_filler_numbers_and_ids() -> None:
    assert title_words("Checkout latency p95 above 2s on web-12") == (
        "checkout", "latency", "p95", "above", "2s",
    )  # fmt: skip
    assert (
        title_words("Disk full on db-12") == title_words("disk FULL on db-31") == ("disk", "full")
    )
    assert title_words("INC 4411 7f3a9c0e11") == ("inc",)
    assert similarity(("a", "b"), ("a", "b")) == 1.0
    assert similarity(("a", "b"), ("c",)) == 0.0
    assert similarity((), ()) == 0.0


def test_alike_titles_on_one_service_make_an_explained_candidate() -> None:
    found = [
        incident(1, LATENCY[0], days_ago=20),
        incident(2, LATENCY[1], days_ago=9),
        incident(3, "Wiki search slow", service="wiki", days_ago=3),
        incident(4, LATENCY[2], days_ago=2),
        incident(5, LATENCY[3], days_ago=1),
        incident(6, LATENCY[0], days_ago=45),  # outside the window
        incident(7, "Checkout latency p95 above 2s", service="wiki"),  # another service
    ]
    (candidate,) = candidates(found, ProblemsConfig(), NOW)
    assert candidate.incidents == ("INC-1", "INC-2", "INC-4", "INC-5")
    assert candidate.reason == (
        "4 incidents on checkout in 30 days whose titles share 'checkout latency p95 above 2s'"
    )
    assert (candidate.id, candidate.kind, candidate.service) == ("C-1", "title", "checkout")
    assert candidate.title == LATENCY[3]  # the latest wording
    assert candidate.first_at == NOW - timedelta(days=20)


def test_candidate_thresholds_come_from_config() -> None:
    found = [incident(n, LATENCY[n % 4], days_ago=n) for n in range(1, 5)]
    assert len(candidates(found, ProblemsConfig(), NOW)) == 1
    assert candidates(found, ProblemsConfig(min_incidents=5), NOW) == []
    assert candidates(found, ProblemsConfig(window=timedelta(days=2)), NOW) == []
    (short,) = candidates(found, ProblemsConfig(window=timedelta(days=2), min_incidents=2), NOW)
    assert short.reason.startswith("2 incidents on checkout in 2 days")
    # every word in common: only identical word sets are alike ("high" is a word)
    (exact,) = candidates(found, ProblemsConfig(title_similarity=1.0), NOW)
    assert exact.incidents == ("INC-4", "INC-2", "INC-1")  # not INC-3, "High ..."
    assert candidates(found, ProblemsConfig(title_similarity=1.0, min_incidents=4), NOW) == []
    unlike = [incident(n, t, days_ago=n) for n, t in enumerate(["disk full", "dns lag", "tls"])]
    assert candidates(unlike, ProblemsConfig(min_incidents=2, title_similarity=0.1), NOW) == []


def test_the_same_alert_makes_a_candidate_whatever_its_titles() -> None:
    found = [
        incident(n, title, days_ago=n, source="alertmanager", dedup_key="HighErrorRate/checkout")
        for n, title in enumerate(["5xx on checkout", "Errors spike", "Cart API failing"], 1)
    ]
    (candidate,) = candidates(found, ProblemsConfig(), NOW)
    assert candidate.kind == "fingerprint"
    assert candidate.fingerprint == ("alertmanager", "HighErrorRate/checkout")
    assert candidate.reason == (
        "3 incidents on checkout in 30 days from the same alert "
        "(alertmanager: HighErrorRate/checkout)"
    )
    assert candidate.incidents == ("INC-3", "INC-2", "INC-1")  # oldest first


# -- known errors -------------------------------------------------------------------------


def test_known_error_match_by_alert_or_alike_title_on_its_service() -> None:
    rules = ProblemsConfig()
    known = problem("known_error", workaround="restart the pool")
    linked = [incident(1, LATENCY[0], source="am", dedup_key="lat")]
    by_alert = incident(9, "Something else", source="am", dedup_key="lat")
    match = known_error_match(by_alert, [(known, linked)], rules)
    assert match is not None and match.problem.workaround == "restart the pool"
    assert match.reason == "the same alert (am: lat) as INC-1, a known error of PRB-1"
    by_title = incident(9, "checkout latency p95 above 2s again")
    match = known_error_match(by_title, [(known, linked)], rules)
    assert match is not None
    assert match.reason == (
        "on checkout, its title shares 'checkout latency p95 above 2s' with INC-1, "
        "a known error of PRB-1"
    )
    elsewhere = incident(9, LATENCY[0], service="wiki")
    assert known_error_match(elsewhere, [(known, linked)], rules) is None
    investigating = problem("under_investigation")
    assert known_error_match(by_title, [(investigating, linked)], rules) is None


# -- store and ops on a real store --------------------------------------------------------


PEOPLE: dict[str, Store] = {}
"""The store as each of TEAM's people opened it, for the running test (`store` below)."""


@pytest.fixture
async def store(store_location: str) -> AsyncIterator[Store]:
    """The store as ana opened it; `ops(store, login)` acts through login's own."""
    config = team()
    roles = {login: actor_for(config, login).roles for login in ("ana", "leo", "sam")}
    async with people(store_location, roles) as opened:
        PEOPLE.update(opened)
        try:
            yield opened["ana"]
        finally:
            PEOPLE.clear()


def ops(store: Store, login: str = "ana", config: Config | None = None) -> ProblemOps:
    config = config or team()
    return ProblemOps(PEOPLE.get(login, store), config, actor_for(config, login))


async def open_incident(
    store: Store,
    title: str,
    *,
    service: str = "checkout",
    at: datetime = NOW,
    source: str = "manual",
    dedup_key: str | None = None,
) -> Incident:
    config = team()
    new = NewIncident(title, service, 2, 2, "P3", source=source, dedup_key=dedup_key)
    return await store.incidents.create(actor_for(config, "ana"), new, at)


async def test_create_link_unlink_note_assign_with_timeline_and_audit(store: Store) -> None:
    one = await open_incident(store, "Checkout latency")
    two = await open_incident(store, "Checkout latency again")
    made = await ops(store).create("Checkout latency", ["checkout"], NOW, incidents=[one.key])
    assert (made.key, made.state, made.version) == ("PRB-1", "new", 1)
    await ops(store).link(made.key, two.key, NOW)
    with pytest.raises(InvalidOperation, match="INC-2 is already linked to this problem"):
        await ops(store).link(made.key, two.key, NOW)
    other = await ops(store).create("Another", ["wiki"], NOW)
    with pytest.raises(InvalidOperation, match="INC-1 is already linked to PRB-1"):
        await ops(store).link(other.key, one.key, NOW)
    assert (await store.problems.for_incident(two.key)) == await store.problems.get("PRB-1")
    await ops(store).unlink(made.key, two.key, NOW)
    with pytest.raises(InvalidOperation, match="INC-2 is not linked to PRB-1"):
        await ops(store).unlink(made.key, two.key, NOW)
    await ops(store).note(made.key, "looks like the connection pool", NOW)
    owned = await ops(store).assign(made.key, "sam", NOW)
    assert owned.owner == "sam" and owned.version == 2
    with pytest.raises(Invalid, match="unknown login 'nobody'"):
        await ops(store).assign(made.key, "nobody", NOW)
    view = await ops(store).view(made.key)
    assert [i.key for i in view.incidents] == ["INC-1"]
    assert [e.kind for e in view.events] == ["created", "linked", "unlinked", "note", "assigned"]
    summaries = await ops(store).find()
    assert [(s.problem.key, s.incidents) for s in summaries] == [("PRB-2", 0), ("PRB-1", 1)]
    rows = await store.audit.entries(entity="problem")
    assert {e.action for e in rows} >= {
        "problem.create", "problem.link", "problem.unlink", "problem.note", "problem.assign",
    }  # fmt: skip
    assert all(e.actor == "ana" for e in rows)


async def test_the_lifecycle_through_ops_and_closing_needs_the_configured_role(
    store: Store,
) -> None:
    made = await ops(store).create("Checkout latency", ["checkout"], NOW)
    with pytest.raises(Refused, match="Allowed: under_investigation, closed"):
        await ops(store).move(made.key, "known_error", NOW)
    with pytest.raises(Invalid, match="not a problem state"):
        await ops(store).move(made.key, "fixed", NOW)
    await ops(store).move(made.key, "under_investigation", NOW)
    with pytest.raises(Refused, match="needs a root cause"):
        await ops(store).move(made.key, "root_cause_known", NOW)
    await ops(store).update(made.key, NOW, root_cause="pool too small", workaround="restart")
    await ops(store).move(made.key, "root_cause_known", NOW)
    known = await ops(store).move(made.key, "known_error", NOW, note="documented")
    with pytest.raises(Refused, match="known error: it keeps its workaround"):
        await ops(store).update(made.key, NOW, workaround="  ")
    resolved = await ops(store).move(made.key, "resolved", NOW + timedelta(days=1))
    assert resolved.resolved_at == NOW + timedelta(days=1) and known.resolved_at is None
    assert not ops(store, "ana").may_close() and ops(store, "leo").may_close()
    with pytest.raises(PermissionDenied, match="needs the lead role; ana does not have it"):
        await ops(store, "ana").close(made.key, NOW)
    closed = await ops(store, "leo").close(made.key, NOW, note="fix deployed")
    assert closed.state == "closed" and closed.closed_at == NOW and closed.updated_by == "leo"
    with pytest.raises(Refused, match="closed; it cannot be changed"):
        await ops(store, "leo").update(made.key, NOW, title="x")
    # config decides who closes
    anyone = team("[problems]\nclose_role = 'engineer'\n")
    second = await ops(store, "ana", anyone).create("Wiki", ["wiki"], NOW)
    assert (await ops(store, "ana", anyone).close(second.key, NOW)).state == "closed"


async def test_version_conflicts_are_refused_with_who_changed_it(store: Store) -> None:
    made = await ops(store).create("Checkout latency", ["checkout"], NOW)
    await ops(store, "sam").assign(made.key, "sam", NOW)
    with pytest.raises(Refused, match="changed by sam since you looked \\(version 1, now 2\\)"):
        await ops(store).move(made.key, "under_investigation", NOW, version=1)
    with pytest.raises(StaleWrite, match="PRB-1 was changed by sam"):
        await store.problems.apply(
            actor_for(team(), "ana"), made.key, 1, {"title": "x"},
            dataclasses.replace(  # any event
                (await store.problems.events(made.key))[0], kind="updated"
            ),
            "problem.update", NOW,
        )  # fmt: skip


async def test_fix_change_must_exist(store: Store) -> None:
    made = await ops(store).create("Checkout latency", ["checkout"], NOW)
    with pytest.raises(InvalidOperation, match="no such change"):
        await ops(store).update(made.key, NOW, fix_change="CHG-99")
    with pytest.raises(Exception, match="not a change key"):
        await ops(store).update(made.key, NOW, fix_change="PRB-1")


async def test_accepting_a_candidate_creates_the_problem_with_its_incidents_at_once(
    store: Store,
) -> None:
    for days, title in zip((20, 9, 2, 1), LATENCY, strict=True):
        await open_incident(store, title, at=NOW - timedelta(days=days))
    await open_incident(store, "Wiki search slow", service="wiki")
    (candidate,) = await ops(store).candidates(NOW)
    assert candidate.id == "C-1" and len(candidate.incidents) == 4
    made = await ops(store).accept_candidate("c-1", NOW, owner="sam")
    assert made.services == ("checkout",) and made.owner == "sam"
    assert made.title == LATENCY[3]
    view = await ops(store).view(made.key)
    assert [i.key for i in view.incidents] == ["INC-1", "INC-2", "INC-3", "INC-4"]
    assert view.events[0].detail == f"accepted candidate C-1: {candidate.reason}"
    assert await ops(store).candidates(NOW) == []  # its incidents are in a problem now
    with pytest.raises(Invalid, match="no candidate 'C-1' \\(there are no candidates now\\)"):
        await ops(store).accept_candidate("C-1", NOW)


async def test_a_stale_candidate_is_refused_whole(store: Store) -> None:
    for days, title in zip((20, 9, 2, 1), LATENCY, strict=True):
        await open_incident(store, title, at=NOW - timedelta(days=days))
    (candidate,) = await ops(store).candidates(NOW)
    other = await ops(store).create("Someone was faster", ["checkout"], NOW, incidents=["INC-3"])
    with pytest.raises(InvalidOperation, match="INC-3 is already linked to PRB-1"):
        await ops(store).accept_candidate(candidate, NOW)
    assert [s.problem.key for s in await ops(store).find()] == [other.key]
    assert (await store.problems.for_incident("INC-1")) is None


async def test_known_error_for_a_new_incident_shows_its_workaround(store: Store) -> None:
    first = await open_incident(store, LATENCY[0], source="am", dedup_key="lat-checkout")
    made = await ops(store).create("Checkout latency p95", ["checkout"], NOW, incidents=[first.key])
    await ops(store).move(made.key, "under_investigation", NOW)
    await ops(store).update(made.key, NOW, workaround="Restart the pool: `kubectl rollout`")
    fresh = await open_incident(store, "checkout latency p95 above 2s", at=NOW + timedelta(hours=1))
    assert await ops(store).known_error_for(fresh.key) is None  # not a known error yet
    await ops(store).move(made.key, "known_error", NOW)
    match = await ops(store).known_error_for(fresh)
    assert match is not None and match.problem.key == "PRB-1"
    assert match.problem.workaround == "Restart the pool: `kubectl rollout`"
    assert "shares 'checkout latency p95" in match.reason
    own = await ops(store).known_error_for(first.key)
    assert own is not None and own.reason == "INC-1 is linked to PRB-1"
    unrelated = await open_incident(store, "Wiki down", service="wiki")
    assert await ops(store).known_error_for(unrelated.key) is None


HOSTILE = "\x1b]52;c;ZXZpbA==\x07[bold]x[/bold] \u202eevil\u202c [@click=app.quit]y[/] \x1b[2J"


async def test_untrusted_text_is_cleaned_and_capped_where_it_enters(store: Store) -> None:
    made = await ops(store).create(
        HOSTILE + "\nsecond line", ["checkout"], NOW, description=HOSTILE + "\nkept"
    )
    assert made.title == "[bold]x[/bold] evil [@click=app.quit]y[/]  second line"
    assert "\x1b" not in made.description and "\u202e" not in made.description
    assert made.description.endswith("\nkept")
    updated = await ops(store).update(
        made.key, NOW, root_cause=HOSTILE, workaround="\x9b31m" + HOSTILE
    )
    for text in (updated.root_cause, updated.workaround):
        assert not any(ch in text for ch in "\x1b\x07\u202e\u202c\x9b")
        assert "[@click=app.quit]" in text  # kept as text, drawn literally by the screens
    await ops(store).note(made.key, HOSTILE, NOW)
    note = (await store.problems.events(made.key))[-1]
    assert "\x1b" not in note.detail and "\u202e" not in note.detail
    long = await ops(store).update(made.key, NOW, title="x" * 5000)
    assert len(long.title) == 300 and long.title.endswith("…")
    with pytest.raises(InvalidOperation, match="root cause is 20,001 characters"):
        await ops(store).update(made.key, NOW, root_cause="y" * 20_001)
    with pytest.raises(Invalid, match="a problem needs a title"):
        await ops(store).create("\x1b[2J \u202e", ["checkout"], NOW)
    with pytest.raises(Invalid, match="unknown service 'chekout' \\(did you mean"):
        await ops(store).create("x", ["chekout"], NOW)


async def test_an_unknown_problem_key_is_a_clear_error(store: Store) -> None:
    with pytest.raises(Exception, match="'INC-3' is not a problem key"):
        await ops(store).view("INC-3")
    with pytest.raises(Exception, match="PRB-9: no such problem"):
        await ops(store).view("prb-9")


def test_config_checks_thresholds_and_calendar() -> None:
    with pytest.raises(ConfigError, match="problems.min_incidents: a recurrence needs at least 2"):
        team("[problems]\nmin_incidents = 1\n")
    with pytest.raises(ConfigError, match="problems.title_similarity: expected a share above 0"):
        team("[problems]\ntitle_similarity = 0\n")
    with pytest.raises(ConfigError, match='reviews.calendar: unknown calendar "office"'):
        team("[reviews]\ncalendar = 'office'\n")
    with pytest.raises(ConfigError, match="close_role"):
        team("[problems]\nclose_role = 'boss'\n")
    loaded = team(
        "[problems]\nwindow = '14d'\nmin_incidents = 4\n[reviews]\nrequired_for = ['P1']\n"
    )
    assert loaded.problems.window == timedelta(days=14) and loaded.problems.min_incidents == 4
    assert loaded.reviews.required_for == ["P1"] and loaded.reviews.accept_role == "lead"
