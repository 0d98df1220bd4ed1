"""The sweep behind the change conflict map gives exactly what checking every change
against every other did: the old rules (copied below, verbatim but for the name) against
`conflict_map` and `ChangeOps._on_call` on random changes, services, implementers,
freezes, incidents, vendor levels and on-call rotas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.console.config.loader import parse_text
from opsdesk.console.config.model import Config
from opsdesk.console.domain.change_rules import (
    ACTIVE,
    STATES,
    Conflict,
    OpenIncident,
    _span,
    conflict_map,
    conflicts,
    overlaps,
)
from opsdesk.console.domain.rotations import final_rota
from opsdesk.console.ops.changes import ChangeOps
from opsdesk.store.records import ChangeRequest, Override

CONFIG = parse_text(
    """
[[services]]
name = "payments"
vendors = ["Stripe"]
[[services]]
name = "wiki"
[[services]]
name = "mail"
vendors = ["Stripe", "SendGrid"]
[[services]]
name = "search"
[[vendors]]
name = "Stripe"
[[vendors]]
name = "SendGrid"
[[freeze_windows]]
name = "black friday"
start = 2026-11-27T00:00:00Z
end = 2026-11-30T00:00:00Z
services = ["payments"]
[[freeze_windows]]
name = "all"
start = 2026-12-20T00:00:00Z
end = 2026-12-21T00:00:00Z
[[schedules]]
name = "ops"
timezone = "Europe/Berlin"
[[schedules.layers]]
name = "primary"
members = ["ana", "ben"]
rotation = "1d"
start = "2026-11-01T09:00"
[[schedules.layers]]
name = "weekend"
members = ["cruz"]
rotation = "1w"
start = "2026-11-01T00:00"
restrict = { days = ["sat", "sun"], from = "00:00", to = "00:00" }
[[schedules]]
name = "db"
timezone = "America/New_York"
[[schedules.layers]]
name = "primary"
members = ["ben", "dana"]
rotation = "12h"
start = "2026-11-01T08:00"
""",
    "perf",
)
BASE = datetime(2026, 11, 20, tzinfo=UTC)
SERVICES = ["payments", "wiki", "mail", "search", "unknown"]
PEOPLE = ["ana", "ben", "cruz", "dana"]

# --- The old rule, verbatim -------------------------------------------------------------


def old_conflicts(
    change: ChangeRequest,
    others: Sequence[ChangeRequest],
    config: Config,
    incidents: Sequence[OpenIncident],
    on_call: Sequence[tuple[str, str, datetime, datetime]],
    vendor_levels: dict[str, str],
    now: datetime,
) -> list[Conflict]:
    """Everything a change collides with, each with a reason a person can read.

    `on_call` is (schedule, login, start, end) shifts overlapping the window;
    `vendor_levels` the current level per vendor name."""
    found: list[Conflict] = []
    services = set(change.services)
    begin, end = change.planned_start, change.planned_end
    for other in others:
        if other.key == change.key or other.state not in ACTIVE:
            continue
        if not overlaps(begin, end, other.planned_start, other.planned_end):
            continue
        when = _span(other.planned_start, other.planned_end)
        shared = services & set(other.services)
        if shared:
            on = ", ".join(sorted(shared))
            found.append(Conflict(
                "change", f"{other.key} ({other.title[:60]}) is planned {when} on {on}"
            ))  # fmt: skip
        elif change.implementer and other.implementer == change.implementer:
            found.append(Conflict(
                "implementer_busy", f"{change.implementer} also implements {other.key} {when}"
            ))  # fmt: skip
    for window in config.freeze_windows:
        touched = services if window.services is None else services & set(window.services)
        if touched and overlaps(begin, end, window.start, window.end):
            note = " (an emergency change may go ahead)" if change.type == "emergency" else ""
            found.append(Conflict(
                "freeze",
                f"freeze {window.name!r} {_span(window.start, window.end)} covers "
                f"{', '.join(sorted(touched))}{note}",
            ))  # fmt: skip
    for incident in incidents:
        if incident.service in services and incident.priority in ("P1", "P2"):
            found.append(Conflict(
                "incident",
                f"{incident.key} ({incident.priority}, {incident.title[:60]}) is open on "
                f"{incident.service}",
            ))  # fmt: skip
    for schedule, login, start, stop in on_call:
        if login == change.implementer and overlaps(begin, end, start, stop):
            during = _span(max(start, begin), min(stop, end))
            found.append(Conflict("on_call", f"{login} is on call for {schedule} {during}"))
    for service in sorted(services):
        known = config.service(service)
        for vendor in known.vendors if known else []:
            level = vendor_levels.get(vendor, "operational")
            if level in ("degraded", "partial_outage", "major_outage"):
                found.append(Conflict(
                    "vendor", f"{vendor}, which {service} depends on, is {level.replace('_', ' ')}"
                ))  # fmt: skip
    return found


# --- Random changes ---------------------------------------------------------------------

hours = st.integers(0, 24 * 40).map(lambda h: BASE + timedelta(hours=h))


@st.composite
def change_lists(draw: st.DrawFn) -> list[ChangeRequest]:
    count = draw(st.integers(0, 40))
    made = []
    for number in range(1, count + 1):
        start = draw(hours)
        length = timedelta(hours=draw(st.integers(-3, 72)))  # some empty, some backwards
        made.append(
            ChangeRequest(
                number, f"change {number}", draw(st.sampled_from(["normal", "emergency"])),
                "low", tuple(draw(st.lists(st.sampled_from(SERVICES), max_size=3, unique=True))),
                start, start + length, draw(st.sampled_from([*PEOPLE, None, ""])), "req",
                draw(st.sampled_from(STATES)), 1,
            )
        )  # fmt: skip
    return made


incidents = st.lists(
    st.builds(
        OpenIncident,
        key=st.sampled_from(["INC-1", "INC-2", "INC-3"]),
        priority=st.sampled_from(["P1", "P2", "P3"]),
        service=st.sampled_from(SERVICES),
        title=st.just("down"),
    ),
    max_size=8,
)
on_call = st.lists(
    st.tuples(st.sampled_from(["ops", "db"]), st.sampled_from(PEOPLE), hours, hours), max_size=6
)
levels = st.dictionaries(
    st.sampled_from(["Stripe", "SendGrid"]),
    st.sampled_from(["operational", "degraded", "partial_outage", "major_outage"]),
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(change_lists(), st.data(), incidents, on_call, levels)
def test_conflict_map_equals_every_pair_checked(
    changes: list[ChangeRequest],
    data: st.DataObject,
    open_incidents: list[OpenIncident],
    shifts: list[tuple[str, str, datetime, datetime]],
    vendor_levels: dict[str, str],
) -> None:
    chosen = (
        data.draw(st.lists(st.sampled_from(changes), unique_by=lambda c: c.id)) if changes else []
    )
    others = data.draw(st.permutations(changes))
    found = conflict_map(
        chosen, others, CONFIG, open_incidents, {c.key: shifts for c in chosen}, vendor_levels, BASE
    )
    for change in chosen:
        expected = old_conflicts(
            change, others, CONFIG, open_incidents, shifts, vendor_levels, BASE
        )
        assert found[change.key] == expected
        assert (
            conflicts(change, others, CONFIG, open_incidents, shifts, vendor_levels, BASE)
            == expected
        )


@SETTINGS
@given(change_lists(), st.lists(st.tuples(hours, st.integers(1, 48), st.sampled_from(PEOPLE))))
def test_on_call_pieces_equal_a_rota_per_change(
    changes: list[ChangeRequest], covers: list[tuple[datetime, int, str]]
) -> None:
    """The old map laid out each schedule's rota over each change's window."""
    overrides = [
        Override(n, "ops" if n % 2 else "db", login, start, start + timedelta(hours=h), "", "x")
        for n, (start, h, login) in enumerate(covers, start=1)
    ]
    unique = list({c.key: c for c in changes}.values())
    found = ChangeOps(None, CONFIG, None)._on_call(unique, overrides)  # type: ignore[arg-type]
    for change in unique:
        expected = [
            (schedule.name, shift.login or "", shift.start, shift.end)
            for schedule in CONFIG.schedules
            for shift in final_rota(schedule, overrides, change.planned_start, change.planned_end)
            if shift.login == change.implementer
        ]
        assert found[change.key] == expected
