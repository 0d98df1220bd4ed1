"""The service review laid out as titled tables of plain text cells, in the report's order.

The CLI's text summary and the Markdown for a wiki are two drawings of these same tables
(console/cli/report.py, console/ops/review_markdown.py), so both say the same thing in the
same words. Cells hold untrusted text (ticket titles) as it is: each drawing makes it
literal its own way (cleaned for a terminal, escaped for Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.service_review import ServiceReview, Volume

RAG_WORDS = {"green": "GREEN", "amber": "AMBER", "red": "RED", "none": "no data"}


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""  # what the table is, when a section holds several


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...] = ()  # figures stated in a sentence each
    tables: tuple[Table, ...] = field(default=())


def trend(volume: Volume) -> str:
    """The change against the previous period, as the HTML and the screen write it."""
    return fmt.trend(volume.count, volume.previous)


def _when(at: datetime | None, zone: str) -> str:
    if at is None:
        return "—"
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def sections(review: ServiceReview) -> list[Section]:
    """The nine sections, each as sentences and tables of text."""
    zone = review.period.timezone
    before = review.period.previous.label if review.period.previous else "the period before"
    levels, inc, team = review.service_levels, review.incidents, review.team
    changes, vendors, cost, imp = (
        review.changes,
        review.vendors,
        review.outage_cost,
        review.improvement,
    )
    result = [
        Section(
            "1. Summary",
            tables=(
                Table(
                    ("service", "status", "SLA attainment", "MTTR median", "CSAT", "why"),
                    tuple(
                        (
                            r.service,
                            RAG_WORDS[r.status],
                            *(
                                f"{fmt.measure_value(m)} (target {fmt.measure_value(m, m.target)})"
                                for m in r.measures
                            ),
                            "; ".join(r.reasons),
                        )
                        for r in review.rag
                    ),
                ),
            ),
        ),
        Section(
            "2. Service levels",
            lines=(
                f"SLA attainment {fmt.share(levels.overall.achieved)}"
                f" against {fmt.share(levels.target)}: {levels.overall.met:,} of the"
                f" {levels.overall.judged:,} incidents resolved in the period met every clock;"
                f" {levels.overall.judged - levels.overall.met:,} missed"
                f" {levels.breaches_total:,} clocks in all (respond and resolve);"
                f" {levels.open_breached:,} still open past a due time at the end.",
                "(`incident list --breached --from/--to` lists the incidents opened in the"
                " period that breached, open or resolved.)",
            ),
            tables=(
                Table(
                    (
                        "priority",
                        "respond in",
                        "resolve in",
                        "respond met",
                        "resolve met",
                        "achieved",
                        "agreed",
                    ),
                    tuple(
                        (
                            a.name,
                            fmt.duration(a.respond_target),
                            fmt.duration(a.resolve_target),
                            f"{a.respond_met:,}/{a.respond_judged:,}",
                            f"{a.resolve_met:,}/{a.resolve_judged:,}",
                            fmt.share(a.achieved),
                            fmt.share(a.agreed),
                        )
                        for a in levels.by_priority
                    ),
                    "By priority",
                ),
                Table(
                    ("service", "met", "judged", "achieved", "agreed"),
                    tuple(
                        (
                            a.name,
                            f"{a.met:,}",
                            f"{a.judged:,}",
                            fmt.share(a.achieved),
                            fmt.share(a.agreed),
                        )
                        for a in levels.by_service
                    ),
                    "By service",
                ),
                Table(
                    ("incident", "service", "priority", "clock", "late by", "held", "why", "title"),
                    tuple(
                        (
                            b.key,
                            b.service,
                            b.priority,
                            b.clock,
                            fmt.duration(b.late_by),
                            fmt.duration(b.held) if b.held else "—",
                            b.reason,
                            b.title,
                        )
                        for b in levels.breaches
                    ),
                    "Breaches, most overdue first"
                    if len(levels.breaches) == levels.breaches_total
                    else f"Breaches, the {len(levels.breaches)} most overdue of "
                    f"{levels.breaches_total:,}",
                ),
            ),
        ),
        Section(
            "3. Incidents",
            lines=(
                f"{inc.total:,} opened ({_against(inc.total, inc.previous_total, before)}),"
                f" {inc.resolved:,} resolved, {inc.open_at_end:,} open at the end.",
            ),
            tables=(
                Table(
                    ("service", "opened", "previous", "trend"),
                    tuple(
                        (v.name, f"{v.count:,}", f"{v.previous:,}", trend(v))
                        for v in inc.by_service
                    ),
                    "By service",
                ),
                Table(
                    (
                        "priority",
                        "opened",
                        "previous",
                        "trend",
                        "MTTA median",
                        "MTTA p90",
                        "MTTR median",
                        "MTTR p90",
                    ),
                    tuple(
                        (
                            t.priority,
                            f"{v.count:,}" if v else f"{inc.total:,}",
                            f"{v.previous:,}" if v else f"{inc.previous_total:,}",
                            trend(v or Volume("all", inc.total, inc.previous_total)),
                            fmt.duration(t.mtta.median),
                            fmt.duration(t.mtta.p90),
                            fmt.duration(t.mttr.median),
                            fmt.duration(t.mttr.p90),
                        )
                        for t in inc.times
                        for v in [next((v for v in inc.by_priority if v.name == t.priority), None)]
                    ),
                    "By priority",
                ),
                Table(
                    ("service", "times", "latest", "title"),
                    tuple(
                        (r.service, str(r.count), f"INC-{r.last_id}", r.title)
                        for r in inc.recurring
                    ),
                    "Recurring",
                ),
                Table(
                    ("incident", "service", "opened", "lasted", "review", "title"),
                    tuple(
                        (
                            m.key,
                            m.service,
                            _when(m.created_at, zone),
                            fmt.duration(m.duration) if m.duration else f"open ({m.state})",
                            m.review_state or "none",
                            m.title,
                        )
                        for m in inc.major
                    ),
                    "Major incidents (P1)",
                ),
            ),
        ),
        Section(
            "4. Customers",
            tables=(
                Table(
                    (
                        "service",
                        "CSAT",
                        "target",
                        "responses",
                        "response rate",
                        "1",
                        "2",
                        "3",
                        "4",
                        "5",
                    ),
                    tuple(
                        (
                            c.service,
                            fmt.score(c.average),
                            fmt.score(c.target),
                            f"{c.responses:,}",
                            fmt.share(c.response_rate),
                            *(f"{n:,}" for n in c.distribution),
                        )
                        for c in review.customers
                    ),
                ),
            ),
        ),
        Section(
            "5. The team",
            lines=(
                f"{fmt.hours(team.total_oncall_hours)} on call; balance {_balance(team.balance)}"
                " (the most-loaded person's hours over the mean of the"
                f" {sum(p.oncall_hours > 0 for p in team.people):,} people on call; 1.00 is"
                " even).",
                f"{team.pages_total:,} pages, {team.pages_out_of_hours:,} out of hours."
                if team.paging_log
                else "No pages in the store: paging is not done through opsdesk.",
            ),
            tables=(
                Table(
                    (
                        "person",
                        "on call",
                        "out of hours",
                        "share",
                        "incidents resolved",
                        "pages",
                        "pages out of hours",
                    ),
                    tuple(
                        (
                            p.name,
                            fmt.hours(p.oncall_hours),
                            fmt.hours(p.off_hours),
                            fmt.share(p.share, 0),
                            f"{p.incidents_handled:,}",
                            f"{p.pages:,}",
                            f"{p.pages_out_of_hours:,}",
                        )
                        for p in team.people
                    ),
                ),
            ),
        ),
        Section(
            "6. Changes",
            lines=(
                f"{changes.total:,} changes"
                f" ({_against(changes.total, changes.previous_total, before)});"
                f" success rate {fmt.share(changes.success_rate)} of {changes.finished:,} finished;"
                f" {changes.failed:,} failed, {changes.rolled_back:,} rolled back;"
                f" emergency {fmt.share(changes.emergency_ratio)};"
                f" {changes.linked_to_incidents:,} linked to incidents.",
                "By type: " + ", ".join(f"{t} {n:,}" for t, n in changes.by_type) + ".",
            ),
            tables=(
                Table(
                    ("change", "type", "outcome", "services", "planned", "incidents", "title"),
                    tuple(
                        (
                            c.key,
                            c.type,
                            c.outcome.replace("_", " "),
                            ", ".join(c.services),
                            _when(c.planned_start, zone),
                            ", ".join(f"INC-{i}" for i in c.incidents) or "—",
                            c.title,
                        )
                        for c in changes.unsuccessful
                    ),
                    "Failed and rolled back",
                ),
            ),
        ),
        Section(
            "7. Vendors",
            lines=(
                "Annual spend: "
                + (", ".join(fmt.money(a, c) for c, a in vendors.annual_spend) or "—")
                + f"; {_n(vendors.renewals_due, 'contract')} with a renewal or notice"
                " deadline in the next 90 days.",
            ),
            tables=(
                Table(
                    (
                        "vendor",
                        "availability",
                        "contracted",
                        "met",
                        "downtime",
                        "services",
                        "incidents",
                        "cost",
                        "annual",
                        "budget",
                        "renewal",
                        "notice by",
                    ),
                    tuple(
                        (
                            v.vendor,
                            fmt.share(v.availability, 3),
                            fmt.share(v.contracted, 2),
                            "—" if v.met is None else ("yes" if v.met else "NO"),
                            fmt.duration(v.downtime) if v.downtime else "—",
                            ", ".join(v.services) or "—",
                            f"{v.incidents:,}",
                            f"{fmt.money(v.spend.cost, v.spend.currency)} {v.spend.period}"
                            if v.spend
                            else "—",
                            fmt.money(v.spend.annual, v.spend.currency) if v.spend else "—",
                            fmt.money(v.spend.budget, v.spend.currency) if v.spend else "—",
                            f"{v.renewal.renewal} (in {v.renewal.days_to_renewal}d)"
                            if v.renewal
                            else "—",
                            f"{v.renewal.notice_deadline} ({_days(v.renewal.days_to_notice)})"
                            if v.renewal
                            else "—",
                        )
                        for v in vendors.vendors
                    ),
                ),
            ),
        ),
        Section(
            "8. What outages cost",
            lines=(
                f"{fmt.duration(cost.total_minutes * 60)} of downtime; cost"
                f" {fmt.money(cost.total_cost, cost.currency)}.",
            ),
            tables=(
                Table(
                    ("service", "downtime", "incidents", "cost per hour", "cost"),
                    tuple(
                        (
                            o.service,
                            fmt.duration(o.downtime_minutes * 60),
                            f"{o.incidents:,}",
                            fmt.money(o.cost_per_hour, o.currency),
                            fmt.money(o.cost, o.currency),
                        )
                        for o in cost.services
                    ),
                ),
            ),
        ),
        Section(
            "9. Improvement",
            lines=(
                f"{_n(imp.actions_open, 'open action item')} ({imp.actions_overdue:,} overdue),"
                f" {imp.actions_done_in_period:,} done in the period;"
                f" {_n(imp.problems_open, 'open problem')} ({imp.problems_opened_in_period:,}"
                f" opened, {imp.problems_resolved_in_period:,} resolved in the period);"
                f" {_n(imp.reviews_overdue, 'post-incident review')} overdue.",
            ),
            tables=(
                Table(
                    ("action", "owner", "due", "overdue", "title"),
                    tuple(
                        (a.key, a.owner, str(a.due or "—"), "yes" if a.overdue else "", a.title)
                        for a in imp.actions
                    ),
                    "Open action items",
                ),
                Table(
                    ("problem", "state", "incidents", "age", "services", "title"),
                    tuple(
                        (
                            p.key,
                            p.state.replace("_", " "),
                            f"{p.incidents:,}",
                            f"{p.age_days}d",
                            ", ".join(p.services),
                            p.title,
                        )
                        for p in imp.problems
                    ),
                    "Open problems",
                ),
            ),
        ),
    ]
    return result


def _n(count: int, thing: str) -> str:
    """ "1 open problem", "2 open problems" """
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


def _days(days: int) -> str:
    """A deadline from today: "in 14d", "today", "passed 44d ago"."""
    return f"in {days}d" if days > 0 else "today" if days == 0 else f"passed {-days}d ago"


def _balance(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _against(now: int, before: int, label: str) -> str:
    """ "3 in October 2026: +2 (+67 %)" (no trend when there is nothing to compare)."""
    said = f"{before:,} in {label}"
    if not before:
        return said if not now else f"{said}: new"
    return f"{said}: {fmt.trend(now, before)}"


def heading(review: ServiceReview) -> str:
    period = review.period
    previous = period.previous.label if period.previous else "—"
    said = (
        f"Service review: {period.label} ({period.timezone}); compared with {previous}."
        f" Generated {_when(review.generated_at, period.timezone)}."
    )
    if review.generated_at < period.end:
        said += f" {NOT_OVER}"
    return said


NOT_OVER = "The period is not over yet: its figures count up to when this was generated."
