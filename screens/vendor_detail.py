"""One vendor (or monitoring source) in full: each source's report (components that are
not operational, active incidents with their latest update, maintenances), contacts,
contract, availability over 30 and 90 days, and the recent status history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.binding import BindingType
from textual.widgets import Static

from opsdesk.console.config.durations import format_duration
from opsdesk.console.domain.availability import availability
from opsdesk.console.domain.text import clean, one_line, words
from opsdesk.screens.cells import age, level_cell
from opsdesk.screens.keys import bindings
from opsdesk.screens.screen import LiveDetailScreen
from opsdesk.store import StoreError

MAX_LISTED = 20


class VendorDetailScreen(LiveDetailScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("vendor_detail")
    PARTS = ("vendor",)

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def header_title(self) -> str:
        return f"Vendor {one_line(self.key, limit=30)}"

    @work(exclusive=True, group="vendor", exit_on_error=False)
    async def load(self) -> None:
        config, now, store = self.ops.config, self.ops.now(), self.ops.store
        vendor = next((v for v in config.vendors if v.name == self.key), None)
        sources = [
            s for s in config.sources
            if (vendor and s.vendor == vendor.name) or f"⌁ {s.name}" == self.key
        ]  # fmt: skip
        out = Text()
        out.append(f"{one_line(self.key, limit=200)}\n", style="bold")
        try:
            for source in sources:
                state = await store.statuses.get(source.name)
                out.append(f"\n{one_line(source.name, limit=80)} ", style="bold")
                plugin, every = one_line(source.plugin, limit=40), format_duration(source.interval)
                out.append(f"({plugin}, every {every}) ")  # "1h", as config writes it
                if state is None:
                    out.append("not polled yet\n", style="dim")
                    continue
                out.append_text(level_cell(state.level, state.error))
                out.append(f"  {one_line(state.summary, limit=200)}\n")
                if state.error:
                    out.append(f"last poll failed: {one_line(state.error, limit=300)}; ", "italic")
                    good = state.last_ok_at
                    out.append(f"last good report {age(good, now) + ' ago' if good else 'never'}\n")
                self._report(out, state.report or {})
                month = await store.statuses.history(source.name, now - timedelta(days=90))
                out.append("availability ", style="bold")
                for days in (30, 90):
                    share = availability(
                        [c for c in month if c.at >= now - timedelta(days=days)] or month[:1],
                        now - timedelta(days=days), now,
                    )  # fmt: skip
                    out.append(f"{days}d {'—' if share is None else f'{share:.2%}'}  ")
                out.append("\nhistory ", style="bold")
                for change in month[-8:]:
                    level = words(one_line(change.level, limit=20))
                    out.append(f"{change.at:%m-%d %H:%M} {level}  ")
                out.append("\n")
        except StoreError as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
            return
        if vendor is not None:
            support, contract = vendor.support, vendor.contract
            out.append("\nsupport ", style="bold")
            contacts = [support.phone, support.email, support.portal, support.account_manager]
            out.append(one_line(" · ".join(c for c in contacts if c) or "—", limit=300))
            if contract is not None:
                out.append("\ncontract ", style="bold")
                out.append(
                    f"{contract.cost:,.0f} {one_line(contract.currency, limit=12)} "
                    f"{contract.period}, renews {contract.renewal} (notice {contract.notice.days}d)"
                )
                if contract.sla:
                    out.append(f"; SLA: {one_line(contract.sla, limit=200)}")
            out.append("\n")
        self.query_one("#vendor", Static).update(out)

    @staticmethod
    def _report(out: Text, report: dict[str, Any]) -> None:
        trouble = [c for c in report.get("components", []) if c.get("level") != "operational"]
        for component in trouble[:MAX_LISTED]:
            group = f"{component.get('group')} / " if component.get("group") else ""
            out.append(f"  component {one_line(group + str(component.get('name')), limit=80)}: ")
            out.append(f"{one_line(str(component.get('level')), limit=20)}\n")
        for incident in report.get("incidents", [])[:MAX_LISTED]:
            out.append("  incident ", style="bold")
            out.append(f"{one_line(str(incident.get('title')), limit=120)} ")
            flags = f"[{incident.get('impact')}/{incident.get('status')}]"
            out.append(f"{one_line(flags, limit=80)}\n", style="dim")
            if incident.get("last_update"):
                out.append(f"    {clean(str(incident['last_update']), limit=400)}\n")
        for maintenance in report.get("maintenances", [])[:MAX_LISTED]:
            out.append("  maintenance ", style="bold")
            out.append(f"{one_line(str(maintenance.get('title')), limit=120)} ")
            window = f"{maintenance.get('start')} → {maintenance.get('end')}"
            out.append(f"{one_line(window, limit=80)}\n", style="dim")
