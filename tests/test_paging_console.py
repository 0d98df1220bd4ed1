"""The incident view in the console shows its notification log: who was paged how and
when, delivered or failed with why, and which link acknowledged it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.session import Options, open_session
from opsdesk.screens.incident import IncidentScreen
from opsdesk.store.records import NewNotification
from tests.conftest import FIXED_NOW
from tests.test_app import SIZE, make_app, settle


async def test_the_incident_view_lists_pages_delivered_failed_and_acknowledged(
    demo_store: Path,
) -> None:
    session = await open_session(Options(store=str(demo_store)), login="ana")
    try:
        store = session.store
        incident = await IncidentOps(store, session.config, session.actor).create(
            "card auth [b]down[/b]", "wiki", FIXED_NOW, impact=1, urgency=1
        )
        pages = [
            NewNotification(incident.key, login, method, "addr", "high", "level 1 of 2",
                            incident.title, "body", FIXED_NOW)
            for login, method in (("ben", "ntfy"), ("cruz", "email"))
        ]  # fmt: skip
        first, second = await store.notifications.queue(pages, FIXED_NOW, "opsdesk")
        later = FIXED_NOW + timedelta(seconds=5)
        await store.notifications.claim("w", later, later + timedelta(minutes=1))
        await store.notifications.delivered(first, "w", "HTTP 200", later)
        await store.notifications.mark_acknowledged(first, "ntfy link", later)
        await store.notifications.attempt_failed(second, "w", "[red]refused[/red]", later, None)
    finally:
        await session.close()
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.push_screen(IncidentScreen(incident.key))
        await settle(app, pilot)
        shown = str(app.screen.query_one("#pages").render())
        assert "ben by ntfy (level 1 of 2)  delivered: acknowledged via ntfy link" in shown
        assert "cruz by email (level 1 of 2)  failed: [red]refused[/red]" in shown  # literal
        timeline = str(app.screen.query_one("#timeline").render())
        assert "notifying cruz by email failed after 1 attempt:" in timeline
