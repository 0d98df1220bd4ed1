"""Key rebinding: `[keys]` in config maps binding ids to keys (Textual keymaps).

Ids are collected from the App and every screen class, so a typo in config is caught
at start with a "did you mean" instead of being silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.binding import Binding
from textual.dom import DOMNode

from opsdesk.console.schema import suggest


def _bindable_classes() -> list[type[DOMNode]]:
    from opsdesk.console.app import OpsdeskApp
    from opsdesk.screens.base import StoreScreen
    from opsdesk.screens.change_calendar import ChangeCalendarScreen
    from opsdesk.screens.change_detail import ChangeDetailScreen
    from opsdesk.screens.change_form import NewChangeForm
    from opsdesk.screens.dialogs import (
        BannerForm,
        CommandLine,
        Confirm,
        HandoffNotesScreen,
        HelpScreen,
        MetricsScreen,
    )
    from opsdesk.screens.forms import Ask, Choose, NewIncidentForm, OverrideForm, ValidatedForm
    from opsdesk.screens.incident import IncidentScreen
    from opsdesk.screens.incident_actions import IncidentActions
    from opsdesk.screens.oncall_timeline import OncallTimelineScreen
    from opsdesk.screens.table import OpsTable
    from opsdesk.screens.vendor_detail import VendorDetailScreen

    screens = list(OpsdeskApp.MODES.values())
    classes: list[type[DOMNode]] = [OpsdeskApp, StoreScreen, IncidentScreen, OpsTable]
    classes += [HelpScreen, CommandLine, Confirm, BannerForm, IncidentActions, HandoffNotesScreen]
    classes += [Ask, Choose, NewIncidentForm, MetricsScreen, OverrideForm, OncallTimelineScreen]
    classes += [NewChangeForm, ChangeDetailScreen, ChangeCalendarScreen, VendorDetailScreen]
    classes += [ValidatedForm]
    classes += [s for s in screens if isinstance(s, type)]
    return classes


def all_bindings() -> Iterator[Binding]:
    """Every Binding that opsdesk declares (not Textual's own widget bindings)."""
    for cls in _bindable_classes():
        for item in cls.__dict__.get("BINDINGS", []):
            if isinstance(item, Binding):
                yield item


def binding_ids() -> set[str]:
    return {b.id for b in all_bindings() if b.id}


def validate_keymap(keys: dict[str, str]) -> str | None:
    """None when every id in `keys` exists, else "<id>: unknown binding id (did you mean ...)"."""
    known = binding_ids()
    for binding_id, key in keys.items():
        if binding_id not in known:
            hint = suggest(binding_id, known)
            return f"{binding_id}: unknown binding id{hint}; press ? in the console for the ids"
        if not key.strip():
            return f"{binding_id}: empty key"
    return None
