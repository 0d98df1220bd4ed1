"""Vendors: each vendor's live status (from its sources, as the poller last saw them), since
when, when last checked, the services that depend on it, and its renewal; then the
company's own monitoring sources. `r` re-polls the selected row's sources now."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, cast

from rich.text import Text
from textual import work
from textual.binding import BindingType

from opsdesk.console.config.model import Vendor
from opsdesk.console.domain.text import one_line, words
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.poller import Poller
from opsdesk.plugins.api import Level, worst
from opsdesk.screens.base import StoreScreen
from opsdesk.screens.cells import age, cell, level_cell
from opsdesk.screens.keys import bindings
from opsdesk.screens.table import Row
from opsdesk.screens.vendor_detail import VendorDetailScreen
from opsdesk.store import StoreError
from opsdesk.store.records import SourceState


def renewal_cell(vendor: Vendor, today: date) -> Text:
    if vendor.contract is None:
        return Text("—")
    days = (vendor.contract.renewal - today).days
    in_notice = days <= vendor.contract.notice.days
    return cell(f"{days}d{' !' if in_notice else ''}", style="bold yellow" if in_notice else "")


class VendorsScreen(StoreScreen):
    BINDINGS: ClassVar[list[BindingType]] = bindings("vendors")
    TITLE = "Vendors"
    FLEX_COLUMN = 6
    COLUMNS = ("Vendor", "Status", "Since", "Seen", "Services", "Renews", "Summary")
    EMPTY = "no vendors or status sources yet: add [[vendors]] or [[sources]] to the config"

    async def load(self) -> None:
        config, now = self.ops.config, self.ops.now()
        states = {s.source: s for s in await self.ops.store.statuses.all()}
        rows, troubled, unknown = [], 0, 0
        for vendor in config.vendors:
            sources = [s.name for s in config.sources if s.vendor == vendor.name]
            services = [s.name for s in config.services if vendor.name in s.vendors]
            row = self._row(vendor.name, sources, states, now, services, vendor)
            troubled += row.record not in ("operational", "unknown")
            unknown += row.record == "unknown"
            rows.append(row)
        for source in config.sources:
            if source.vendor is None:
                services = [source.service] if source.service else []
                rows.append(
                    self._row(f"⌁ {source.name}", [source.name], states, now, services, None)
                )
        summary = Text("Vendors ", style="bold")
        summary.append(f"{len(config.vendors)}  ")
        summary.append("Sources ", style="bold")
        summary.append(f"{len(config.sources)}  ")
        summary.append("Not operational ", style="bold")
        summary.append(f"{troubled}", style="bold reverse red" if troubled else "")
        summary.append("  Unknown ", style="bold")
        summary.append(f"{unknown}", style="bold reverse yellow" if unknown else "")
        summary.append("\n⌁ own monitoring · * last poll failed · Seen = last checked", style="dim")
        self.set_summary(summary)
        self.rows = rows

    def _row(
        self,
        name: str,
        sources: list[str],
        states: dict[str, SourceState],
        now: datetime,
        services: list[str],
        vendor: Vendor | None,
    ) -> Row:
        known = [states[s] for s in sources if s in states]
        level = worst([cast(Level, s.level) for s in known]) if known else "unknown"
        errors = [f"{s.source}: {s.error}" for s in known if s.error]
        worst_state = next((s for s in known if s.level == level), None)
        summary = errors[0] if errors else (worst_state.summary if worst_state else "")
        if not sources:
            summary = "no status source"
        elif not known:
            summary = "not polled yet"
        since = worst_state.level_since if worst_state else None
        checked = max((s.checked_at for s in known if s.checked_at), default=None)
        return Row(
            key=name,
            cells=(
                cell(name, limit=15),
                level_cell(level, errors[0] if errors else None),
                cell(age(since, now) if since else "—"),
                cell(age(checked, now) if checked else "never"),
                cell(", ".join(services) or "—", limit=14),
                renewal_cell(vendor, now.date()) if vendor else Text("—"),
                cell(summary, limit=200, style="italic" if errors else ""),
            ),
            search=" ".join([name, level, summary, *services]).casefold(),
            record=level,
        )

    def open_row(self, key: str) -> None:
        self.app.push_screen(VendorDetailScreen(key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.explain_action(action, parameters) else True

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        if action != "repoll":
            return ""
        if why := self.read_only_reason():
            return why
        if not self.ops.config.sources:
            return "no status sources are configured ([[sources]] in the config)"
        key = self.table.selected_key()
        if key is None:
            return "re-polling works on a vendor: none is selected"
        if not self._sources_of(key):
            return f"{one_line(key, limit=60)} has no status source to poll"
        return ""

    def _sources_of(self, key: str) -> list[str]:
        """The status sources behind a row: a vendor's, or the one source a row shows."""
        config = self.ops.config
        return [s.name for s in config.sources if s.vendor == key or f"⌁ {s.name}" == key]

    def action_repoll(self) -> None:
        key = self.table.selected_key()
        if key is None:
            return
        names = self._sources_of(key)
        if names:
            self.notify(one_line(f"polling {', '.join(names)}…", limit=300), markup=False)
            self._repoll(names)

    @work(group="repoll", exit_on_error=False)
    async def _repoll(self, names: list[str]) -> None:
        poller = Poller(self.ops.store, self.ops.config, self.ops.actor, self.ops.now)
        try:
            for name in names:
                for result in await poller.poll(only=name, force=True):
                    outcome = result.error or words(result.level or "") or "not modified"
                    self.notify(one_line(f"{result.source}: {outcome}", limit=400), markup=False)
        except (OpsdeskError, StoreError) as exc:
            self.notify(one_line(str(exc), limit=400), severity="error", markup=False)
        finally:
            await poller.close()
