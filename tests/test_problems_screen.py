"""The Problems screen and its detail screens driven with Pilot at 80x24 on the demo store:
opening it, accepting a candidate, moving a problem, role rules shown as greyed keys with
their reason, a review edited in its form and accepted by a lead, untrusted markup drawn
literally, the incident view's known error with its workaround, and the queue's review
marks. Data is made through the same ops the CLI uses, on a real SQLite file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from textual.widgets import Input, Static

from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.problems import ProblemOps
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.dialogs import Confirm
from opsdesk.screens.forms import Choose
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.problem_detail import ProblemDetailScreen
from opsdesk.screens.problem_forms import ReviewForm
from opsdesk.screens.problems import ProblemsScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.review_detail import ReviewDetailScreen
from opsdesk.screens.table import OpsTable
from opsdesk.store import Store
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, make_app, rendered
from tests.waits import Messages, settle

HOSTILE_TITLE = "[b]x[/b] [@click=app.quit]boom[/] oops [/b]"
HOSTILE_CAUSE = "[b]bold?[/b] [@click=app.quit]quit[/]"


@dataclass
class Seeded:
    candidate: str  # a candidate made of three "zebra" incidents
    problem: str  # a known error with a workaround and hostile text
    linked: str  # an incident in that problem
    lookalike: str  # a new incident alike to it, in no problem
    review_incident: str  # a resolved P1 whose review is overdue


async def seed(store: Path, login: str) -> Seeded:
    session = await open_session(Options(store=str(store)), login=login)
    try:
        incidents = IncidentOps(session.store, session.config, session.actor)
        problems = ProblemOps(session.store, session.config, session.actor)
        zebras = [
            await incidents.create(f"Zebra cache eviction storm on node-{n}", "wiki", FIXED_NOW
                                   - timedelta(days=n))
            for n in (1, 2, 3)
        ]  # fmt: skip
        found = await problems.candidates(FIXED_NOW)
        candidate = next(c for c in found if zebras[0].key in c.incidents)
        quokkas = [
            await incidents.create(f"Quokka queue backlog over limit q{n}", "payments",
                                   FIXED_NOW - timedelta(days=n))
            for n in (4, 5)
        ]  # fmt: skip
        problem = await problems.create(
            HOSTILE_TITLE, ["payments"], FIXED_NOW, incidents=[q.key for q in quokkas]
        )
        await problems.update(
            problem.key, FIXED_NOW, root_cause=HOSTILE_CAUSE, workaround="drain [b]q[/b] by hand"
        )
        await problems.move(problem.key, "under_investigation", FIXED_NOW)
        await problems.move(problem.key, "known_error", FIXED_NOW)
        lookalike = await incidents.create("Quokka queue backlog over limit q9", "payments",
                                           FIXED_NOW)  # fmt: skip
        opened = FIXED_NOW - timedelta(days=12)
        p1 = await incidents.create("Checkout down for everyone", "checkout", opened,
                                    impact=1, urgency=1)  # fmt: skip
        await incidents.transition(p1.key, "resolve", opened + timedelta(hours=2),
                                   code="fixed", note="rolled back")  # fmt: skip
        return Seeded(candidate.id, problem.key, quokkas[0].key, lookalike.key, p1.key)
    finally:
        await session.close()


async def open_problems(app, pilot) -> ProblemsScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("5")
    await settle(app, pilot)
    assert isinstance(app.screen, ProblemsScreen)
    return app.screen


async def to_section(app, pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    screen = app.screen
    for _ in range(4):
        if screen.current.name == name:
            return
        await pilot.press("s")
        await settle(app, pilot)
    raise AssertionError(f"no section {name}")


async def filter_to(app, pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("slash", *text, "enter")
    await settle(app, pilot)


def rows(screen: ProblemsScreen) -> list[str]:
    return [" ".join(str(c) for c in row.cells) for row in screen.table.loaded_rows()]


async def test_five_and_the_command_line_open_problems(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_problems(app, pilot)
        summary = rendered(screen.query_one("#summary"))
        async with await Store.open(demo_store) as store:
            open_problems_count = len(await store.problems.find(None))  # the demo's, and ours
        assert f"Problems {open_problems_count}" in summary
        assert "Candidates" in summary and "Actions" in summary
        assert any(seeded.problem in row for row in rows(screen))
        await pilot.press("1")
        await settle(app, pilot)
        assert isinstance(app.screen, QueueScreen)
        await pilot.press("colon", *"prb", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ProblemsScreen)
        await pilot.press("colon", *f"prb {seeded.problem.lower()}", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ProblemDetailScreen)
        assert app.screen.key == seeded.problem


async def test_a_candidate_is_accepted_and_becomes_a_problem(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_problems(app, pilot)
        assert screen.check_action("accept_candidate", ()) is None  # greyed off Candidates
        await to_section(app, pilot, "candidates")
        await filter_to(app, pilot, "zebra")
        assert rows(screen)[0].startswith(seeded.candidate)
        assert "titles share" in rows(screen)[0]
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen is screen
        assert not any("zebra" in row.casefold() for row in rows(screen))  # no candidate now
        await pilot.press("escape")
        await to_section(app, pilot, "problems")
        await settle(app, pilot)
        made = [row for row in rows(screen) if "Zebra" in row]
        assert made and made[0].startswith("PRB-") and " 3 " in made[0]


async def test_enter_opens_a_problem_and_m_moves_it(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_problems(app, pilot)
        screen.table.move_to_key(seeded.problem)
        await pilot.press("enter")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, ProblemDetailScreen)
        body = rendered(detail.query_one("#problem-body"))
        assert "known error" in body and seeded.linked in body
        await pilot.press("m")
        await settle(app, pilot)
        assert isinstance(app.screen, Choose)
        await pilot.press(*"resolved", "enter")
        await settle(app, pilot)
        assert app.screen is detail
        assert detail.view is not None and detail.view.problem.state == "resolved"
        assert "resolved" in rendered(detail.query_one("#problem-body"))


async def test_an_engineer_sees_close_greyed_with_why(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    session = await open_session(Options(store=str(demo_store)), login=me)
    try:  # a problem an engineer may move but not close: resolved
        await ProblemOps(session.store, session.config, session.actor).move(
            seeded.problem, "resolved", FIXED_NOW
        )
    finally:
        await session.close()
    app = make_app(demo_store, login="ben")
    messages = Messages()
    async with app.run_test(size=SIZE, message_hook=messages) as pilot:
        await settle(app, pilot)
        app.run_command(f"prb {seeded.problem}")
        await settle(app, pilot)
        detail = app.screen
        assert isinstance(detail, ProblemDetailScreen)
        assert detail.check_action("close", ()) is None  # greyed, not hidden
        assert "needs the lead role" in detail.explain_action("close", ())
        assert detail.check_action("move", ()) is True
        await pilot.press("x")
        await settle(app, pilot)
        assert app.screen is detail  # no confirmation: nothing to confirm
        assert any("x: closing a problem needs the lead role" in m for m in messages.said())
    app = make_app(demo_store, login="ana")  # a lead
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.run_command(f"prb {seeded.problem}")
        await settle(app, pilot)
        assert app.screen.check_action("close", ()) is True
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert app.screen.view.problem.state == "closed"  # type: ignore[attr-defined]


async def test_a_review_is_written_in_its_form_and_accepted_by_a_lead(
    demo_store: Path, me: str
) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store, login="ben")  # an engineer writes it
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_problems(app, pilot)
        await to_section(app, pilot, "reviews")
        overdue = [row for row in rows(screen) if row.startswith(seeded.review_incident)]
        assert overdue and "OVERDUE" in overdue[0]
        assert "late" in rendered(screen.query_one("#summary"))
        screen.table.move_to_key(seeded.review_incident)
        await pilot.press("enter")
        await settle(app, pilot)
        review = app.screen
        assert isinstance(review, ReviewDetailScreen)
        assert "OVERDUE" in rendered(review.query_one("#review-status"))
        assert review.check_action("accept", ()) is None
        assert "needs the lead role" in review.explain_action("accept", ())
        await pilot.press("e")
        await settle(app, pilot)
        form = app.screen
        assert isinstance(form, ReviewForm)
        form.query_one("#summary", Input).value = "Checkout [b]was[/b] down for two hours"
        form.query_one("#duration_minutes", Input).value = "125"
        form.query_one("#went_well", Input).value = "the rollback was fast"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is review
        written = rendered(review.query_one("#review-written"))
        assert "Checkout [b]was[/b] down" in written and "125m" in written
    app = make_app(demo_store, login="ana")  # a lead accepts it
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(ReviewDetailScreen(seeded.review_incident))
        await settle(app, pilot)
        review = app.screen
        assert review.check_action("accept", ()) is True
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await settle(app, pilot)
        assert "accepted" in rendered(review.query_one("#review-status"))
        assert review.check_action("edit", ()) is None  # final now


async def test_untrusted_markup_in_a_problem_is_drawn_literally(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_problems(app, pilot)
        assert any(HOSTILE_TITLE in row for row in rows(screen))
        screen.table.move_to_key(seeded.problem)
        await pilot.press("enter")
        await settle(app, pilot)
        body = rendered(app.screen.query_one("#problem-body"))
        assert HOSTILE_TITLE in body and HOSTILE_CAUSE in body
        await pilot.click(Static, offset=(20, 1))  # on the title: nothing may run
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, ProblemDetailScreen)


async def test_the_incident_view_shows_a_known_errors_workaround(demo_store: Path, me: str) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.run_command(f"inc {seeded.lookalike}")
        await settle(app, pilot)
        assert isinstance(app.screen, IncidentScreen)
        part = app.screen.query_one("#known-error", Static)
        text = rendered(part)
        assert part.display and "KNOWN ERROR" in text and seeded.problem in text
        assert "Workaround: drain [b]q[/b] by hand" in text and "title shares" in text
        assert "Pages" in rendered(app.screen.query_one("#pages"))  # the Pages part stays
        await pilot.press("escape")
        app.run_command(f"inc {seeded.linked}")
        await settle(app, pilot)
        text = rendered(app.screen.query_one("#known-error", Static))
        assert text.startswith("Problem ") and "drain [b]q[/b] by hand" in text
        await pilot.press("escape")
        app.run_command("inc INC-1")
        await settle(app, pilot)
        assert not app.screen.query_one("#known-error", Static).display


async def test_the_queue_marks_resolved_incidents_whose_review_is_overdue(
    demo_store: Path, me: str
) -> None:
    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.run_command("all")
        await settle(app, pilot)
        await filter_to(app, pilot, seeded.review_incident)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        state = str(queue.table.loaded_rows()[0].cells[2])
        assert state == "resolved R!"
        style = queue.table.loaded_rows()[0].cells[2].spans[-1].style
        assert "reverse" in str(style)


async def test_the_palette_offers_problems_by_key(demo_store: Path, me: str) -> None:
    from opsdesk.screens.commands import OpsdeskCommands

    seeded = await seed(demo_store, me)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        provider = OpsdeskCommands(app.screen)
        titles = [str(hit.text) async for hit in provider.search(seeded.problem)]
        assert f"Open problem {seeded.problem}" in titles
        found = [str(hit.text) async for hit in provider.discover()]
        assert "Go to: Problems" in found
        assert isinstance(app.screen.query_one(OpsTable), OpsTable)
