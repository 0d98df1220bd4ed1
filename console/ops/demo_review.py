"""The demo's month under review: what makes `opsdesk report review` on the demo read like
a real month rather than uniform noise.

A service review is about what went wrong, so the demo's review month has a story:
a bad week on checkout. It starts with a failed release (a change, linked to the first
P1 it caused), the CDN checkout depends on (Cloudflare) has a major outage mid-week,
and a load-balancer move late in the week is rolled back (linked to its incident).
Meanwhile one in eight incidents opened that week is a checkout P1 or P2 that is
answered and fixed far more slowly than usual, so many breach. The worst one has an
accepted post-incident review.

The review month is the current month once half of it has passed, else the one before
it (a review is written at the start of a month about the month before); the 90 days of
history give the month before the review month too, for the comparison. Everything is
decided from `now` and the incident's index, without drawing from the demo's random
stream, so the rest of a seed's data is the same as without the story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opsdesk.console.config.model import Config
from opsdesk.console.domain.review_period import month_to_review
from opsdesk.console.ops.changes import ChangeOps
from opsdesk.console.ops.identity import actor_for
from opsdesk.console.ops.reviews import ReviewOps
from opsdesk.store import Incident, Store
from opsdesk.store.records import IncidentFilter, IncidentOrder

SERVICE = "checkout"
"""The service of the bad week: tier 1, and it depends on Cloudflare (demo_team.py)."""
VENDOR_SOURCE = "cloudflare"
OUTAGE_MINUTES = 160
MINUTE = timedelta(minutes=1)
SLOW = 2.5
"""How much slower than usual the bad week's checkout incidents are answered and fixed:
about half of them breach a clock (a quarter do in an ordinary week)."""
EVERY = 8  # one incident in EVERY opened in the bad week is one of its checkout P1/P2s
LEAD = "ana"  # who links the changes and accepts the review (a lead in the demo team)
FAILED_TITLE = "Deploy checkout release 2026.{month}"
ROLLED_BACK_TITLE = "Move checkout traffic to the new load balancer"
BAD_WEEK_TITLES = (
    "Checkout latency p95 above 900 ms",
    "Checkout returns 502 for {region} customers",
    "Basket totals wrong for promo codes",
)


@dataclass(frozen=True)
class Story:
    """When the review month's events happen, as UTC instants."""

    month_start: datetime
    month_end: datetime
    week_start: datetime
    week_end: datetime
    outage_at: datetime
    failed_change_at: datetime
    rolled_back_at: datetime

    @property
    def outage_end(self) -> datetime:
        return self.outage_at + timedelta(minutes=OUTAGE_MINUTES)


def _month_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def story(now: datetime) -> Story:
    """The review month for a demo built at `now`, and its bad week (its second week)."""
    first = month_to_review(now.astimezone(UTC).date())  # what the Review screen opens on
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    end = _month_start(start + timedelta(days=32))
    week = start + timedelta(days=7)
    return Story(
        month_start=start,
        month_end=end,
        week_start=week,
        week_end=week + timedelta(days=7),
        outage_at=week + timedelta(days=2, hours=14, minutes=35),
        failed_change_at=week + timedelta(days=1, hours=20),
        rolled_back_at=week + timedelta(days=4, hours=21),
    )


class BadWeek:
    """Turns the demo generator's incidents opened in the bad week into its cluster: the
    generator asks `hit` for each incident (one comparison outside the week) and, for a
    hit, takes service, title, impact, urgency and slower response times from `shape`."""

    def __init__(self, at: Story) -> None:
        self.start = at.week_start.timestamp()
        self.end = at.week_end.timestamp()

    def hit(self, index: int, created: float) -> bool:
        return self.start <= created < self.end and index % EVERY == 3

    @staticmethod
    def shape(index: int, region: str) -> tuple[str, str, int, int]:
        """(service, title, impact, urgency) of a bad-week incident: widespread, P1 one
        time in three, else P2."""
        nth = index // EVERY
        title = BAD_WEEK_TITLES[(nth + nth // 3) % len(BAD_WEEK_TITLES)].format(region=region)
        urgency = 1 if nth % 3 == 0 else 2
        return SERVICE, title, 1, urgency

    @staticmethod
    def times(
        created: float, acked: float, resolved: float, respond: float, resolve: float
    ) -> tuple[float, float]:
        """(acknowledged, resolved) of a bad-week incident: the times drawn for its usual
        priority rescaled to its new one (`respond`, `resolve`: the ratio of the two
        priorities' targets), then SLOW times as long."""
        ack_at = created + (acked - created) * respond * SLOW
        return ack_at, ack_at + (resolved - acked) * resolve * SLOW


def change_slots(at: Story, start: float, span: float, count: int) -> dict[int, str]:
    """Which of the generator's `count` changes (planned evenly over `span` seconds from
    `start`) become the failed and the rolled-back change: the ones planned nearest to
    those moments, always two different ones."""
    if count < 2:
        return {}

    def nearest(moment: datetime) -> int:
        return min(max(int((moment.timestamp() - start) * count / span), 0), count - 1)

    failed, rolled = nearest(at.failed_change_at), nearest(at.rolled_back_at)
    if rolled == failed:
        rolled = failed + 1 if failed + 1 < count else failed - 1
    return {failed: "failed", rolled: "rolled_back"}


def story_change(at: Story, outcome: str) -> dict[str, Any]:
    """The fields of the failed or rolled-back change (planned times as UTC instants)."""
    if outcome == "failed":
        begin = at.failed_change_at
        title = FAILED_TITLE.format(month=at.month_start.month)
    else:
        begin, title = at.rolled_back_at, ROLLED_BACK_TITLE
    return {
        "title": title,
        "type": "normal",
        "risk": "medium",
        "services": [SERVICE],
        "planned_start": begin,
        "planned_end": begin + timedelta(hours=2),
        "state": outcome,
    }


@dataclass(frozen=True)
class DemoMonth:
    """What the story left in the store, for tests and the demo's exit message."""

    story: Story
    linked: dict[str, str]  # change key -> incident key
    reviewed: str | None


async def seed_month(store: Store, config: Config, now: datetime) -> DemoMonth:
    """Link the failed and rolled-back changes to the first checkout P1 each caused (a P2
    when there is none), and accept a post-incident review of the first, through the
    operations a team uses (audited as the lead)."""
    at = story(now)
    lead = actor_for(config, LEAD)
    changes = ChangeOps(store, config, lead)
    linked: dict[str, str] = {}
    for outcome in ("failed", "rolled_back"):
        fields = story_change(at, outcome)
        found = await store.changes.find(
            states=(outcome,), services=(SERVICE,), limit=1,
            window_from=fields["planned_start"], window_before=fields["planned_end"],
        )  # fmt: skip
        caused: list[Incident] = []
        for priorities in (("P1",), ("P1", "P2")):  # a major incident if there is one
            caused = caused or await store.incidents.find(
                IncidentFilter(
                    services=(SERVICE,), priorities=priorities,
                    opened_from=fields["planned_start"], opened_before=at.week_end,
                ),
                limit=1, order=IncidentOrder("key"),
            )  # fmt: skip
        if found and caused:
            await changes.link(found[0].key, caused[0].key, fields["planned_end"])
            linked[found[0].key] = caused[0].key
    reviewed = None
    first = next(iter(linked.values()), None)
    if first is not None:
        incident = await store.incidents.get(first)
        if incident.state in ("resolved", "closed"):
            reviews = ReviewOps(store, config, lead)
            written = max(incident.resolved_at or at.week_end, at.week_end)
            lasted = round(((incident.resolved_at or written) - incident.created_at) / MINUTE)
            breached = incident.response_met is False or incident.resolve_met is False
            await reviews.save(
                first, written,
                summary=f"Checkout failed for a third of customers for {lasted} minutes after "
                f"release 2026.{at.month_start.month}; the Cloudflare outage two days later "
                "made a slow week worse.",
                customers="About a third of checkouts failed; support answered 400 tickets.",
                duration_minutes=lasted, sla_breached=breached,
                root_cause="The release changed the session cookie's domain; the canary "
                "only covered logged-in web users.",
                contributing_factors="Canary too narrow; no rollback rehearsal for "
                "cookie changes; the on-call engineer was new to checkout.",
                went_well="The failed change was found within 20 minutes from its link.",
                lucky="It happened late in the evening, off-peak.",
            )  # fmt: skip
            await reviews.accept(first, written)
            reviewed = first
    return DemoMonth(at, linked, reviewed)
