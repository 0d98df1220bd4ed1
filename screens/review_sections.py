"""The nine sections of the service review as the Review screen draws them: for each, a
few lines of figures with Unicode bars (fit for 80 columns) and the records Enter opens.

Pure functions of a `ServiceReview`: the screen (screens/service_review.py) picks the
section and shows what these return. Names and titles from the store go into `Text`
cleaned to one line, never into markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from rich.text import Text

from opsdesk.console.domain import review_format as fmt
from opsdesk.console.domain.service_review import Measure, ServiceReview
from opsdesk.console.domain.text import one_line
from opsdesk.screens.review_bars import bar_line, spark, stacked_line, zoom

RAG_STYLE = {"green": "bold green", "amber": "bold yellow", "red": "bold red", "none": "dim"}
RAG_WORD = {"green": "on target", "amber": "at risk", "red": "missed", "none": "no data"}
SHORT_MEASURE = {"sla attainment": "SLA", "mttr median": "MTTR", "csat": "CSAT"}
NAME_W = 14  # the label column of the bar charts
BAR_W = 28  # a full bar: label, bar and figure fit in 78 columns


@dataclass(frozen=True)
class Listed:
    """A row of a section's table: its cells and the record Enter opens (`kind`:
    incident, change, problem or vendor; `key`: its key, or the vendor's name)."""

    kind: str
    key: str
    cells: tuple[Text, ...]


Drawn = tuple[Text, list[Listed]]


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    draw: Callable[[ServiceReview], Drawn]
    columns: tuple[str, ...] = ()
    hint: str = ""


def _cell(text: object, limit: int = 80, style: str = "") -> Text:
    return Text(one_line(str(text), limit=limit), style=style)


def summary(r: ServiceReview) -> Drawn:
    inc, sl, oc = r.incidents, r.service_levels, r.outage_cost
    all_times = next((t for t in inc.times if t.priority == "all"), None)
    csat = next((c for c in r.customers if c.service == "all"), None)
    out = Text()
    out.append(f"Incidents {inc.total:,} {fmt.arrow(inc.total, inc.previous_total)} ", "bold")
    out.append(f"{fmt.trend(inc.total, inc.previous_total)}   ")
    out.append(f"SLA {fmt.share(sl.overall.achieved)} ", "bold")
    out.append(f"(target {fmt.share(sl.target)})   ")
    out.append(f"Missed {sl.breaches_total:,}\n", "bold red" if sl.breaches_total else "")
    out.append(f"MTTR {fmt.duration(all_times.mttr.median if all_times else None)} median")
    out.append(f"   CSAT {fmt.score(csat.average if csat else None)}")
    out.append(f"   Changes ok {fmt.share(r.changes.success_rate)}")
    if oc.total_cost is not None:
        out.append(f"   Outages {fmt.money_short(oc.total_cost, oc.currency)}\n")
    else:
        out.append(f"   Down {fmt.duration(timedelta(minutes=oc.total_minutes))}\n")
    per_day = getattr(inc, "per_day", ())
    if per_day:
        out.append("Opened per day ", "dim")
        out.append(spark([float(n) for n in per_day][-60:]))
        out.append("\n")
    out.append("\nService         Status     Off target (target)\n", "bold")
    for s in r.rag:
        out.append(f"{one_line(s.service, limit=15):<15} ")
        out.append(f"● {RAG_WORD.get(s.status, s.status):<9}", RAG_STYLE.get(s.status, ""))
        off = "; ".join(_measure(m) for m in s.measures if m.status in ("red", "amber"))
        out.append(f" {one_line(off or '—', limit=200)}\n")
    if not r.rag:
        out.append("no services reviewed\n", "dim")
    return out, []


def service_levels(r: ServiceReview) -> Drawn:
    sl = r.service_levels
    shown = [a for a in sl.by_service if a.achieved is not None]
    low = zoom([a.achieved or 0.0 for a in shown] + [sl.target])
    judged = sl.overall.respond_judged + sl.overall.resolve_judged
    out = Text(
        f"Deadlines met {fmt.share(sl.overall.achieved)} of {judged:,} "
        f"(target {fmt.share(sl.target)}: │) · bars from {fmt.share(low, 0)}\n"
    )
    for a in shown:
        achieved = a.achieved or 0.0
        style = "green" if achieved >= a.agreed else "red"
        line = bar_line(a.name, achieved - low, 1.0 - low, fmt.share(achieved), style=style,
                        name_width=NAME_W, bar_width=BAR_W, mark=a.agreed - low)  # fmt: skip
        out.append_text(line)
        out.append("\n")
    out.append("  ".join(f"{a.name} {fmt.share(a.achieved)}" for a in sl.by_priority) + "\n")
    out.append(f"{sl.breaches_total:,} deadlines missed", "bold")
    if sl.breaches_total > len(sl.breaches):
        out.append(f" ({len(sl.breaches)} most late listed)", "dim")
    listed = [
        Listed("incident", b.key, (
            _cell(b.key), _cell(b.service, 12), _cell(b.priority), _cell(b.clock),
            _cell(fmt.duration(b.late_by), style="red"), _cell(b.reason, 34),
        ))
        for b in sl.breaches
    ]  # fmt: skip
    return out, listed


def incidents(r: ServiceReview) -> Drawn:
    inc = r.incidents
    out = Text(
        f"{inc.total:,} opened, {fmt.trend(inc.total, inc.previous_total)} on the previous "
        f"period (│); {inc.resolved:,} resolved, {inc.open_at_end:,} open at the end\n"
    )
    volumes = [v for v in inc.by_service if v.count or v.previous]
    top = max([v.count for v in volumes] + [v.previous for v in volumes] + [1])
    for v in volumes:
        shown = f"{v.count} {fmt.arrow(v.count, v.previous)}"
        out.append_text(bar_line(v.name, v.count, top, shown, name_width=NAME_W,
                                 bar_width=BAR_W, mark=v.previous))  # fmt: skip
        out.append("\n")
    out.append("  ".join(f"{v.name} {v.count:,}" for v in inc.by_priority) + "\n")
    out.append("MTTA/MTTR median ", "bold")
    times = "  ".join(
        f"{t.priority} {fmt.duration(t.mtta.median)}/{fmt.duration(t.mttr.median)}"
        for t in inc.times
    )
    out.append(times + "\n")
    if inc.recurring:
        most = inc.recurring[0]
        out.append(f"Recurring most: {most.count}× ", "bold")
        out.append(one_line(f"{most.title} ({most.service})", limit=60) + "\n")
    out.append(f"{len(inc.major)} major incidents (P1)", "bold")
    listed = [
        Listed("incident", m.key, (
            _cell(m.key), _cell(m.service, 12),
            _cell(fmt.duration(m.duration) if m.duration else "open"),
            _cell((m.review_state or "none").replace("_", " "), 12,
                  style="" if m.review_state else "red"),
            _cell(m.title),
        ))
        for m in inc.major
    ]  # fmt: skip
    return out, listed


def customers(r: ServiceReview) -> Drawn:
    out = Text("CSAT (1 to 5) on resolved incidents and how many answered (target: │)\n")
    for c in r.customers:
        name = "all services" if c.service == "all" else c.service
        style = "red" if c.average is not None and c.average < c.target else "green"
        shown = f"{fmt.score(c.average)} · {c.responses}/{c.resolved} answered"
        out.append_text(bar_line(name, c.average or 0.0, 5.0, shown, name_width=NAME_W,
                                 bar_width=20, style=style, mark=c.target))  # fmt: skip
        out.append("\n")
    everyone = next((c for c in r.customers if c.service == "all"), None)
    if everyone is not None and everyone.responses:
        out.append("\nScores given\n", "bold")
        top = max(max(everyone.distribution), 1)
        styles = ("red", "red", "yellow", "green", "green")
        for score, count in enumerate(everyone.distribution, start=1):
            out.append_text(bar_line(str(score), count, top, str(count), name_width=3,
                                     bar_width=BAR_W, style=styles[score - 1]))  # fmt: skip
            out.append("\n")
    return out, []


def team(r: ServiceReview) -> Drawn:
    t = r.team
    out = Text(f"{fmt.hours(t.total_oncall_hours)} on call")
    if t.balance is not None:
        out.append(f" · most loaded {t.balance:.2f}× the average")
    if t.paging_log:
        out.append(f" · {t.pages_total} pages, {t.pages_out_of_hours} out of hours")
    out.append("\n")
    top = max([p.oncall_hours for p in t.people] + [1.0])
    for p in t.people:
        shown = f"{fmt.hours(p.oncall_hours)} ({fmt.hours(p.off_hours)} off) "
        shown += f"{p.incidents_handled} inc"
        out.append_text(bar_line(p.name, p.oncall_hours, top, shown, name_width=NAME_W,
                                 bar_width=22))  # fmt: skip
        out.append("\n")
    if not t.people:
        out.append("nobody was on call in the period\n", "dim")
    return out, []


def changes(r: ServiceReview) -> Drawn:
    ch = r.changes
    out = Text(
        f"{ch.total} changes ({fmt.trend(ch.total, ch.previous_total)}) · success "
        f"{fmt.share(ch.success_rate)} of {ch.finished} finished · emergency "
        f"{fmt.share(ch.emergency_ratio)}\n"
    )
    parts = [
        ("ok", ch.succeeded, "green"), ("failed", ch.failed, "red"),
        ("rolled back", ch.rolled_back, "yellow"),
        ("not finished", max(ch.total - ch.finished, 0), "dim"),
    ]  # fmt: skip
    out.append_text(stacked_line(parts, width=60))
    out.append("\n" + "  ".join(f"{name} {count}" for name, count in ch.by_type))
    out.append(f" · {ch.linked_to_incidents} linked to incidents\n")
    out.append(f"{len(ch.unsuccessful)} failed or rolled back", "bold")
    listed = [
        Listed("change", c.key, (
            _cell(c.key), _cell(c.type), _cell(c.outcome.replace("_", " "), style="red"),
            _cell(len(c.incidents)), _cell(c.title),
        ))
        for c in ch.unsuccessful
    ]  # fmt: skip
    return out, listed


def vendors(r: ServiceReview) -> Drawn:
    v = r.vendors
    measured = [x for x in v.vendors if x.availability is not None]
    contracted = [x.contracted for x in measured if x.contracted is not None]
    low = zoom([x.availability or 0.0 for x in measured] + contracted)
    out = Text(f"Availability against contract (│) · bars from {fmt.share(low, 0)}\n")
    for x in measured:
        available = x.availability or 0.0
        style = "dim" if x.met is None else "green" if x.met else "red"
        mark = None if x.contracted is None else x.contracted - low
        shown = fmt.share(available, 2)
        out.append_text(bar_line(x.vendor, available - low, 1.0 - low, shown, style=style,
                                 name_width=NAME_W, bar_width=BAR_W, mark=mark))  # fmt: skip
        out.append("\n")
    spend = ", ".join(fmt.money(amount, currency) for currency, amount in v.annual_spend)
    out.append(f"Spend a year: {spend or '—'} · {v.renewals_due} renewals in the next 90 days")
    listed = [
        Listed("vendor", x.vendor, (
            _cell(x.vendor, 16),
            _cell(fmt.share(x.availability, 2), style="red" if x.met is False else ""),
            _cell(fmt.share(x.contracted, 2)), _cell(x.incidents),
            _cell(fmt.money(x.spend.annual, x.spend.currency) if x.spend else "—"),
            _cell(_renewal(x.renewal.renewal, x.renewal.days_to_notice) if x.renewal else "—",
                  style="red" if x.renewal and x.renewal.days_to_notice < 14 else ""),
        ))
        for x in v.vendors
    ]  # fmt: skip
    return out, listed


def outage_cost(r: ServiceReview) -> Drawn:
    oc = r.outage_cost
    priced = oc.total_cost is not None
    out = Text("Minutes down × the cost of an hour down, per service\n")
    down = [o for o in oc.services if o.downtime_minutes]
    top = max([(o.cost or 0.0) if priced else o.downtime_minutes for o in down] + [1.0])
    for o in down:
        value = (o.cost or 0.0) if priced else o.downtime_minutes
        shown = fmt.duration(timedelta(minutes=o.downtime_minutes))
        if o.cost is not None:
            shown += f" · {fmt.money(o.cost, o.currency)}"
        out.append_text(bar_line(o.service, value, top, shown, name_width=NAME_W,
                                 bar_width=BAR_W, style="red"))  # fmt: skip
        out.append("\n")
    if not down:
        out.append("no service was down in the period\n", "green")
    out.append(f"All: {fmt.duration(timedelta(minutes=oc.total_minutes))} down", "bold")
    if priced:
        out.append(f" · {fmt.money(oc.total_cost, oc.currency)}", "bold")
    else:
        out.append(" · no cost per hour configured", "dim")
    return out, []


def improvement(r: ServiceReview) -> Drawn:
    im = r.improvement
    out = Text(f"Actions: {im.actions_open} open, ")
    out.append(f"{im.actions_overdue} overdue", "bold red" if im.actions_overdue else "")
    out.append(f", {im.actions_done_in_period} done in the period\n")
    out.append(
        f"Problems: {im.problems_open} open ({im.problems_opened_in_period} opened, "
        f"{im.problems_resolved_in_period} resolved in the period)"
    )
    if im.reviews_overdue:
        out.append(f" · {im.reviews_overdue} reviews overdue", "bold red")
    out.append("\n")
    for a in [a for a in im.actions if a.overdue][:3]:
        out.append(f"! {a.key} ", "red")
        out.append(one_line(f"{a.owner}: {a.title}", limit=64) + "\n")
    listed = [
        Listed("problem", p.key, (
            _cell(p.key), _cell(p.state.replace("_", " ")), _cell(p.incidents),
            _cell(f"{p.age_days}d"), _cell(p.title),
        ))
        for p in im.problems
    ]  # fmt: skip
    return out, listed


SECTIONS = (
    Section("summary", "Summary", summary),
    Section("service_levels", "Service levels", service_levels,
            ("Incident", "Svc", "Pri", "Clock", "Late by", "Why"), "Enter opens the incident"),
    Section("incidents", "Incidents", incidents,
            ("Incident", "Svc", "Took", "Review", "Title"), "Enter opens the major incident"),
    Section("customers", "Customers", customers),
    Section("team", "Team", team),
    Section("changes", "Changes", changes,
            ("Change", "Type", "Outcome", "Inc", "Title"), "Enter opens the change"),
    Section("vendors", "Vendors", vendors,
            ("Vendor", "Avail", "Contract", "Inc", "Per year", "Renews"),
            "Enter opens the vendor"),
    Section("outage_cost", "Outage cost", outage_cost),
    Section("improvement", "Improvement", improvement,
            ("Problem", "State", "Inc", "Age", "Title"), "Enter opens the problem"),
)  # fmt: skip


def _measure(measure: Measure) -> str:
    """ "SLA 86.1 % (95.0 %)": a measure off target, short enough for 80 columns."""
    name = SHORT_MEASURE.get(measure.name.casefold(), measure.name)
    if fmt.measure_kind(measure) == "score":
        value = fmt.NONE if measure.value is None else f"{measure.value:.2f}"
        return f"{name} {value} ({measure.target:.2f})"
    return f"{name} {fmt.measure_value(measure)} ({fmt.measure_value(measure, measure.target)})"


def _renewal(renewal: date, days_to_notice: int) -> str:
    if days_to_notice < 0:
        return f"{renewal:%m-%d} notice passed"
    return f"{renewal:%m-%d} notice {days_to_notice}d"
