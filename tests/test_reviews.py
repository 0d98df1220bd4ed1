"""Post-incident reviews and action items on a real SQLite file with a pinned clock: the
prefill (timeline, pages, changes before it, vendor status at the time), the close gate,
who accepts (config), business-day due dates, versions, audit rows, untrusted text and
the Markdown document rendering it literally."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from opsdesk.console.config.loader import parse_text
from opsdesk.console.config.model import Config
from opsdesk.console.domain import markdown as md
from opsdesk.console.domain.problem_rules import add_business_days, review_calendar
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.reviews import Invalid, Refused, ReviewOps
from opsdesk.store import Incident, NewChange, NewIncident, PermissionDenied, StaleWrite, Store
from opsdesk.store.records import IncidentEvent, NewNotification, Outcome

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
OPENED = NOW - timedelta(hours=3)

TEAM = """
[[people]]
login = "ana"
[[people]]
login = "leo"
[roles]
lead = ["leo"]
[[services]]
name = "checkout"
vendors = ["Stripe"]
[[services]]
name = "wiki"
[[vendors]]
name = "Stripe"
[[sources]]
name = "stripe-status"
plugin = "statuspage"
url = "https://status.stripe.example"
vendor = "Stripe"
[sla.calendars.office]
timezone = "Europe/Berlin"
holidays = [2026-12-25]
"""


def team(extra: str = "") -> Config:
    return parse_text(TEAM + extra, "team")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "s.db")
    yield opened
    await opened.close()


def ops(store: Store, login: str = "ana", config: Config | None = None) -> ReviewOps:
    config = config or team()
    return ReviewOps(store, config, actor_for(config, login))


async def resolved_incident(
    store: Store, priority: str = "P1", service: str = "checkout", title: str = "Checkout down"
) -> Incident:
    actor = actor_for(team(), "ana")
    made = await store.incidents.create(actor, NewIncident(title, service, 1, 1, priority), OPENED)
    acked = await store.incidents.apply(
        actor, made.key, 1, {"state": "acknowledged", "acknowledged_at": OPENED + timedelta(minutes=4)},
        IncidentEvent(OPENED + timedelta(minutes=4), "ana", "state", "acknowledged"),
        "incident.acknowledge", OPENED + timedelta(minutes=4),
    )  # fmt: skip
    done = OPENED + timedelta(hours=2)
    return await store.incidents.apply(
        actor, made.key, acked.version,
        {"state": "resolved", "resolved_at": done, "resolution_code": "fixed",
         "resolution_note": "rolled back", "resolve_met": True, "response_met": True},
        IncidentEvent(done, "ana", "state", "resolved", "fixed: rolled back"),
        "incident.resolve", done,
    )  # fmt: skip


async def change(store: Store, title: str, services: tuple[str, ...], start: datetime) -> str:
    made = await store.changes.create(
        actor_for(team(), "ana"),
        NewChange(title, "normal", "low", services, start, start + timedelta(hours=1)),
        start - timedelta(days=1),
    )
    return made.key


async def test_prefill_gathers_timeline_pages_changes_and_vendor_status(store: Store) -> None:
    incident = await resolved_incident(store)
    page = NewNotification(
        incident.key, "ana", "email", "ana@example.com", "high", "level 1 of 2", "P1", "body",
        OPENED,
    )  # fmt: skip
    await store.notifications.queue([page], OPENED, "opsdesk")
    linked = await change(store, "Deploy cart v2", ("checkout",), OPENED - timedelta(hours=2))
    await store.changes.link(actor_for(team(), "ana"), linked, incident.id, NOW)
    before = await change(store, "DB failover test", ("checkout",), OPENED - timedelta(days=3))
    await change(store, "Wiki upgrade", ("wiki",), OPENED - timedelta(days=1))
    await change(store, "Old checkout change", ("checkout",), OPENED - timedelta(days=10))
    await store.statuses.record(
        [Outcome("stripe-status", OPENED - timedelta(days=2), NOW, "operational", "All good")]
    )
    await store.statuses.record(
        [Outcome("stripe-status", OPENED + timedelta(minutes=30), NOW, "degraded", "API errors")]
    )
    await store.statuses.record(
        [Outcome("stripe-status", NOW, NOW, "operational", "Resolved")]  # after it was resolved
    )
    facts = await ops(store).prefill(incident.key, NOW)
    assert facts.time_to_acknowledge == timedelta(minutes=4)
    assert facts.time_to_resolve == timedelta(hours=2)
    assert [e.state for e in facts.events] == ["new", "acknowledged", "resolved"]
    assert [(p.login, p.method, p.reason) for p in facts.pages] == [
        ("ana", "email", "level 1 of 2")
    ]
    assert [c.key for c in facts.linked_changes] == [linked]
    assert [c.key for c in facts.changes_before] == [before]
    (stripe,) = facts.vendor_status
    assert (stripe.source, stripe.vendor, stripe.level, stripe.summary) == (
        "stripe-status", "Stripe", "operational", "All good",
    )  # fmt: skip
    assert [(c.level, c.summary) for c in stripe.changes] == [("degraded", "API errors")]
    assert facts.sla_breached is False
    document = await ops(store).as_json(incident.key, NOW)
    assert document["time_to_acknowledge_seconds"] == 240
    assert document["vendor_status"][0]["changes"][0]["level"] == "degraded"
    assert document["linked_changes"][0]["key"] == linked
    assert document["status"]["state"] == "due" and document["review"] is None


async def test_the_close_gate_and_who_accepts(store: Store) -> None:
    incident = await resolved_incident(store, "P1")
    minor = await resolved_incident(store, "P3", title="Slow page")
    assert ops(store).review_required(incident) and not ops(store).review_required(minor)
    assert await ops(store).close_refusal(minor) is None
    reason = await ops(store).close_refusal(incident)
    assert reason == (
        "INC-1 is P1: it needs an accepted post-incident review before it closes "
        "(reviews.required_for), and it has no review yet: opsdesk review show INC-1"
    )
    with pytest.raises(Refused, match="it has no review yet"):
        await ops(store).check_close(incident)
    with pytest.raises(Refused, match="has no summary yet"):
        await ops(store).save(incident.key, NOW, root_cause="cart v2") and await ops(
            store, "leo"
        ).accept(incident.key, NOW)
    assert "its review is a draft" in (await ops(store).close_refusal(incident) or "")
    await ops(store).save(incident.key, NOW, summary="Checkout was down for 2h")
    with pytest.raises(PermissionDenied, match="needs the lead role; ana does not have it"):
        await ops(store, "ana").accept(incident.key, NOW)
    assert not ops(store, "ana").may_accept() and ops(store, "leo").may_accept()
    accepted = await ops(store, "leo").accept(incident.key, NOW)
    assert (accepted.state, accepted.accepted_by, accepted.accepted_at) == ("accepted", "leo", NOW)
    assert await ops(store).close_refusal(incident) is None
    with pytest.raises(Refused, match="accepted by leo; it is final"):
        await ops(store).save(incident.key, NOW, summary="rewrite history")
    audit = await store.audit.entries(entity="review")
    assert [e.action for e in audit] == ["review.create", "review.update", "review.accept"]
    assert audit[-1].actor == "leo" and audit[-1].after == {
        "state": "accepted", "accepted_by": "leo", "accepted_at": "2026-11-25T12:00:00Z",
        "version": 3, "updated_by": "leo",
    }  # fmt: skip
    # config decides: P3 too, and engineers accept
    relaxed = team("[reviews]\nrequired_for = ['P3']\naccept_role = 'engineer'\n")
    assert await ops(store, "ana", relaxed).close_refusal(minor) is not None
    await ops(store, "ana", relaxed).save(minor.key, NOW, summary="slow")
    await ops(store, "ana", relaxed).accept(minor.key, NOW)


async def test_a_review_is_accepted_only_once_the_incident_is_resolved(store: Store) -> None:
    actor = actor_for(team(), "ana")
    live = await store.incidents.create(actor, NewIncident("Down", "checkout", 1, 1, "P1"), NOW)
    await ops(store).save(live.key, NOW, summary="ongoing")
    with pytest.raises(Refused, match="INC-1 is new; a review is accepted once it is resolved"):
        await ops(store, "leo").accept(live.key, NOW)
    status = await ops(store).status(live, NOW)
    assert status.state == "not_yet" and status.blocks_close


async def test_review_versions_conflict(store: Store) -> None:
    incident = await resolved_incident(store)
    first = await ops(store).save(incident.key, NOW, summary="one")
    await ops(store, "leo").save(incident.key, NOW, summary="two")
    with pytest.raises(StaleWrite, match="changed by leo .*you had version 1, it is now 2"):
        await ops(store).save(incident.key, NOW, summary="three", version=first.version)
    with pytest.raises(StaleWrite, match="leo|ana already started the review"):
        await store.reviews.save(actor_for(team(), "ana"), incident.key, None, {}, NOW)
    with pytest.raises(Invalid, match="nothing to change"):
        await ops(store).save(incident.key, NOW)


def test_review_due_in_business_days() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    # no calendar: Monday to Friday in UTC, due at the end of the 5th business day
    assert add_business_days(None, friday, 5) == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    assert add_business_days(None, friday, 0) == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    office = team("[reviews]\ncalendar = 'office'\n")
    calendar = review_calendar(office)
    assert calendar is not None
    # Berlin office hours end 17:00 (16:00 UTC); Christmas is a holiday
    before_xmas = datetime(2026, 12, 22, 10, 0, tzinfo=UTC)  # Tuesday
    assert add_business_days(calendar, before_xmas, 3) == datetime(
        2026, 12, 28, 16, 0, tzinfo=UTC
    )  # Wed 23, Thu 24, (Fri 25 holiday, weekend) Mon 28


async def test_reviews_due_and_overdue(store: Store) -> None:
    incident = await resolved_incident(store, "P1")
    await resolved_incident(store, "P4", title="minor")
    (due,) = await ops(store).due(NOW)
    assert due.incident.key == incident.key and due.status.state == "due"
    assert due.status.due == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 5 weekdays after Wed
    (late,) = await ops(store).due(NOW + timedelta(days=8))
    assert late.status.state == "overdue"
    await ops(store).save(incident.key, NOW, summary="done")
    await ops(store, "leo").accept(incident.key, NOW)
    assert await ops(store).due(NOW + timedelta(days=8)) == []


async def test_action_items_register(store: Store) -> None:
    incident = await resolved_incident(store)
    item = await ops(store).add_action(
        "Alert on pool saturation", "detect", "ana", NOW, incident=incident.key,
        due=date(2026, 11, 30),
    )  # fmt: skip
    assert (item.key, item.state, item.incident_key) == ("ACT-1", "open", incident.key)
    other = await ops(store).add_action("Runbook", "process", "leo", NOW, incident=incident.key)
    with pytest.raises(Invalid, match="type is one of prevent, mitigate, detect, process"):
        await ops(store).add_action("x", "pray", "ana", NOW, incident=incident.key)
    with pytest.raises(Invalid, match="unknown login 'zed'"):
        await ops(store).add_action("x", "detect", "zed", NOW, incident=incident.key)
    with pytest.raises(Invalid, match="comes from a review"):
        await ops(store).add_action("x", "detect", "ana", NOW)
    assert [v.item.key for v in await ops(store).actions(NOW, owner="ana")] == ["ACT-1"]
    later = NOW + timedelta(days=6)
    overdue = await ops(store).actions(later, overdue=True)
    assert [(v.item.key, v.overdue) for v in overdue] == [("ACT-1", True)]
    everything = await ops(store).actions(later)
    assert [(v.item.key, v.overdue) for v in everything] == [("ACT-1", True), ("ACT-2", False)]
    done = await ops(store).update_action(item.key, later, state="done", note="shipped")
    assert done.done_at == later and done.version == 2
    with pytest.raises(Refused, match="ACT-1 is already done"):
        await ops(store).update_action(item.key, later, state="done")
    with pytest.raises(Refused, match="changed by ana since you looked"):
        await ops(store).update_action(item.key, later, version=1, owner="leo")
    assert await ops(store).actions(later, overdue=True) == []
    reopened = await ops(store).update_action(item.key, later, state="open")
    assert reopened.done_at is None
    assert [e.action for e in await store.audit.entries(entity="action")] == [
        "action.add", "action.add", "action.update", "action.update",
    ]  # fmt: skip
    assert other.owner == "leo"


HOSTILE = (
    "[click](javascript:alert(1)) <img src=x onerror=alert(1)> `rm -rf /` | cell |"
    " **bold** \x1b]52;c;ZXZpbA==\x07\u202eevil\u202c [@click=app.quit]q[/]"
)


def test_markdown_escape_renders_literally() -> None:
    text = md.inline(HOSTILE)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "<img" not in text and "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;" in text
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in text
    assert "\\`rm \\-rf /\\`" in text and "\\| cell \\|" in text and "\\*\\*bold\\*\\*" in text
    block = md.escape("# not a heading\n    not code\n\n1. not a list\n- nor this")
    assert block == ("\\# not a heading  \nnot code\n\n1\\. not a list  \n\\- nor this")


async def test_untrusted_text_in_every_review_field_and_the_markdown(store: Store) -> None:
    incident = await resolved_incident(store, title="Checkout <script>alert(1)</script> down")
    review = await ops(store).save(
        incident.key, NOW, summary=HOSTILE, customers=HOSTILE, root_cause=HOSTILE,
        contributing_factors=HOSTILE, went_well=HOSTILE, lucky=HOSTILE, duration_minutes=95,
        sla_breached=True,
    )  # fmt: skip
    for name in (
        "summary",
        "customers",
        "root_cause",
        "contributing_factors",
        "went_well",
        "lucky",
    ):
        value = getattr(review, name)
        assert not any(ch in value for ch in "\x1b\x07\u202e\u202c"), name
        assert "[@click=app.quit]" in value  # text, not markup
    await ops(store).add_action(HOSTILE, "prevent", "ana", NOW, incident=incident.key)
    with pytest.raises(Exception, match="20,000"):
        await ops(store).save(incident.key, NOW, summary="x" * 20_001)
    with pytest.raises(Invalid, match="minutes, 0 or more"):
        await ops(store).save(incident.key, NOW, duration_minutes=-5)
    document = await ops(store).markdown(incident.key, NOW)
    assert document.startswith("# Post-incident review: INC\\-1 Checkout &lt;script&gt;")
    assert "<script>" not in document and "<img" not in document
    assert "[click](" not in document and "\x1b" not in document and "\u202e" not in document
    assert "- **Duration:** 95 minutes" in document
    assert "- **SLA breached:** yes" in document
    assert "## Root cause" in document and "## Where we got lucky" in document
    assert "| ACT\\-1 |" in document
    assert document.count("\n## ") == 11
