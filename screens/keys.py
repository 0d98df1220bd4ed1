"""Textual bindings built from the key table in `opsdesk.console.config.keymap`, so the
screens and the config check read one list of binding ids."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from opsdesk.console.config.keymap import KEYS


def bindings(group: str) -> list[BindingType]:
    """The bindings of one group of the key table, as Textual `Binding`s with their ids."""
    return [
        Binding(k.keys, k.action, k.description, show=k.show, priority=k.priority, id=k.id)
        for k in KEYS[group]
    ]
