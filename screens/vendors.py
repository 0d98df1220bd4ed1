"""Vendors: each vendor, the services that depend on it, its sources and its renewal."""

from __future__ import annotations

from rich.text import Text

from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import cell
from opsdesk.screens.table import Row


class VendorsScreen(StoreScreen):
    TITLE = "Vendors"
    FLEX_COLUMN = 1
    COLUMNS = ("Vendor", "Services", "Sources", "Renewal", "Cost/yr")
    EMPTY = "no vendors in config"

    async def load(self) -> None:
        config = self.ops.config
        today = self.ops.now().date()
        summary = Text("Vendors ", style="bold")
        summary.append(f"{len(config.vendors)}  ")
        summary.append("Status sources ", style="bold")
        summary.append(f"{sum(len(v.sources) for v in config.vendors)}  ")
        rows = []
        due_soon = 0
        for vendor in config.vendors:
            services = [s.name for s in config.services if vendor.name in s.vendors]
            sources = ", ".join(s.plugin for s in config.sources if s.vendor == vendor.name) or "—"
            renewal, cost = Text("—"), Text("—")
            if vendor.contract:
                days = (vendor.contract.renewal - today).days
                in_notice = days <= vendor.contract.notice.days
                due_soon += in_notice
                renewal = cell(
                    f"{vendor.contract.renewal} {days}d{' !' if in_notice else ''}",
                    style="bold yellow" if in_notice else "",
                )
                yearly = vendor.contract.cost * (12 if vendor.contract.period == "monthly" else 1)
                cost = cell(f"{yearly:,.0f} {vendor.contract.currency}")
            rows.append(
                Row(
                    key=vendor.name,
                    cells=(
                        cell(vendor.name, limit=18),
                        cell(", ".join(services) or "—", limit=200),
                        cell(sources, limit=24),
                        renewal,
                        cost,
                    ),
                    search=" ".join([vendor.name, *services, sources]).casefold(),
                )
            )
        summary.append("Renewals inside notice (!) ", style="bold")
        summary.append(f"{due_soon}")
        self.set_summary(summary)
        self.rows = rows
