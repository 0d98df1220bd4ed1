"""The demo's learning loop: problems, a known error, post-incident reviews and action
items, made through the same operations a team uses, on the incidents the demo built.

The demo's incidents recur (the same symptoms on the same services), so the candidate
rule finds problems in them. The largest becomes a known error with its workaround (and a
new incident that matches it, so its view shows the workaround at once), the next is
under investigation, and the rest stay candidates to accept in the console. The latest
major incidents get reviews: one accepted with its action items (one done, one overdue),
one in draft, and the rest still owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from opsdesk.console.config.model import Config
from opsdesk.console.domain.lifecycle import OPEN_STATES
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.problems import ProblemOps
from opsdesk.console.ops.reviews import ReviewOps
from opsdesk.store import Store
from opsdesk.store.records import IncidentFilter, IncidentOrder

LEAD = "ana"  # a lead in the demo team: may accept reviews and close problems
# What the team found out, by the service the known error is on (the demo's titles).
FINDINGS = {
    "git": (
        "The Git front ends buffer whole pushes in memory; pushes over 2 GB hit the limit.",
        "Push large repositories over SSH (git@git.internal), which streams; or split "
        "the push by branch.",
    ),
    "chat": (
        "The bot's OAuth token is rotated by the vault but cached for 24 h by the bot.",
        "Restart the bot deployment after a rotation (runbook RB-7).",
    ),
    "search": (
        "The indexer stops when a document exceeds the 100 MB field limit.",
        "Skip the document with `indexer skip <id>` and restart the indexer.",
    ),
    "email": (
        "A shared IP range of the mail provider is on a block list.",
        "Switch receipts to the dedicated IP pool in the provider console.",
    ),
}
GENERIC = (
    "A retry storm after each deploy exhausts the connection pool.",
    "Restart the pool's workers one at a time (runbook RB-12); the symptom clears within "
    "two minutes.",
)


@dataclass(frozen=True)
class DemoLearning:
    problems: list[str]
    known_error: str | None
    matching_incident: str | None
    reviews: list[str]
    actions: list[str]


async def seed_learning(store: Store, config: Config, now: datetime) -> DemoLearning:
    lead = actor_for(config, LEAD)
    problems = ProblemOps(store, config, lead)
    reviews = ReviewOps(store, config, lead)
    made: list[str] = []
    known = matching = None
    found = await problems.candidates(now)
    if found:
        # The largest candidate with an incident still open: that newest open one stays
        # out of the problem, a new occurrence the team has not linked yet, whose view
        # shows the known error's workaround at once.
        first, linked, fresh = found[0], [], None
        for candidate in found:
            incidents = [await store.incidents.get(key) for key in candidate.incidents]
            still_open = [i for i in incidents if i.state in OPEN_STATES]
            if still_open:
                first, linked, fresh = candidate, incidents, still_open[-1]
                break
        if not linked:
            linked = [await store.incidents.get(key) for key in first.incidents]
        keep = [i.key for i in linked if fresh is None or i.key != fresh.key]
        services = list(dict.fromkeys(i.service for i in linked))
        problem = await problems.create(
            first.title, services, now - timedelta(days=6), owner=LEAD, incidents=keep,
            why=f"accepted candidate {first.id}: {first.reason}",
        )  # fmt: skip
        made.append(problem.key)
        known = problem.key
        await problems.move(problem.key, "under_investigation", now - timedelta(days=6))
        cause, workaround = FINDINGS.get(first.service, GENERIC)
        await problems.update(
            problem.key, now - timedelta(days=5), root_cause=cause, workaround=workaround
        )
        await problems.move(problem.key, "root_cause_known", now - timedelta(days=5))
        await problems.move(problem.key, "known_error", now - timedelta(days=4))
        matching = fresh.key if fresh is not None else None
    others = [c for c in found if c.id != first.id] if found else []
    if others:
        second = await problems.accept_candidate(others[0], now - timedelta(days=2), owner="dana")
        await problems.move(second.key, "under_investigation", now - timedelta(days=1))
        await problems.note(
            second.key, "Correlates with the nightly batch window; collecting traces.", now
        )
        made.append(second.key)
    # The latest major incidents that are over: the reviews a team writes first.
    majors = await store.incidents.find(
        IncidentFilter(states=("resolved", "closed"), priorities=("P1", "P2")),
        limit=2, order=IncidentOrder(by="age"),
    )  # fmt: skip
    reviewed: list[str] = []
    actions: list[str] = []
    if majors:
        accepted = majors[0].key
        await reviews.save(
            accepted, now - timedelta(days=1),
            summary="Card payments failed for 38 minutes after a certificate expired.",
            customers="About 4% of checkouts failed; retries succeeded after the fix.",
            duration_minutes=38, sla_breached=False,
            root_cause="The payment gateway's client certificate expired unnoticed.",
            contributing_factors="No expiry alert; the renewal owner had left the team.",
            went_well="The on-call engineer found the expired certificate within 10 minutes.",
            lucky="It happened off-peak.",
        )  # fmt: skip
        await reviews.accept(accepted, now - timedelta(days=1))
        done = await reviews.add_action(
            "Alert 30 days before any certificate expires", "detect", LEAD,
            now - timedelta(days=1), incident=accepted, due=(now + timedelta(days=7)).date(),
        )  # fmt: skip
        await reviews.update_action(done.key, now, state="done")
        late = await reviews.add_action(
            "Name an owner for every certificate in the inventory", "process", "dana",
            now - timedelta(days=1), incident=accepted, due=(now - timedelta(days=2)).date(),
        )  # fmt: skip
        reviewed.append(accepted)
        actions += [done.key, late.key]
    if len(majors) > 1:
        draft = majors[1].key
        await reviews.save(
            draft, now - timedelta(hours=3),
            summary="Checkout slowed for an hour during the sale; root cause still open.",
        )  # fmt: skip
        reviewed.append(draft)
    return DemoLearning(made, known, matching, reviewed, actions)
