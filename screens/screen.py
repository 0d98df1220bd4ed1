"""Screen bases: every opsdesk screen reaches the console through `ops`; pushed detail
screens share one layout and keep themselves current from the live feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Static

from opsdesk.console.domain.text import one_line
from opsdesk.screens.widgets import StatusHeader

if TYPE_CHECKING:
    from opsdesk.console.tui.app import OpsdeskApp


class OpsScreen(Screen[None]):
    """A screen of the opsdesk console (store, config, actor and clock via `ops`)."""

    WATCHES: ClassVar[tuple[str, ...] | None] = None
    """The store tables this screen shows: a change elsewhere (a lease renewed, a status
    poll recorded) does not reload it. None: any change reloads it."""

    def store_moved(self, loaded_generation: int) -> bool:
        """Whether a table this screen shows changed since it loaded at that generation."""
        return self.ops.changed_since(loaded_generation, self.WATCHES)

    @property
    def ops(self) -> OpsdeskApp:
        return self.app  # type: ignore[return-value]


class ExplainingScreen(OpsScreen):
    """A screen whose keys that do not apply now say why when pressed (`check_action`
    returns None for them, so the footer and `?` show them greyed rather than hiding
    them), with the reason `explain_action` gives: the screen's own, or the app's for
    the app's keys."""

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        """Why `action` does not apply now, in words ("" when it does)."""
        return ""

    def on_key(self, event: events.Key) -> None:
        why = self._why_key_does_nothing(event.key)
        if why:
            event.stop()
            event.prevent_default()
            self.notify(one_line(why, limit=200), severity="warning", markup=False)

    def _why_key_does_nothing(self, key: str) -> str:
        disabled: list[tuple[Binding, DOMNode]] = []
        for namespace, bindings_map in self._modal_binding_chain:
            for binding in bindings_map.key_to_bindings.get(key, ()):
                if self.app._check_action_state(binding.action, namespace):
                    return ""  # something handles this key
                disabled.append((binding, namespace))
        for binding, namespace in disabled:
            target, name, parameters = self.app._parse_action(binding.action, namespace)
            explain = getattr(target, "explain_action", None)
            why = str(explain(name, parameters)) if callable(explain) else ""
            if why:
                return f"{self.app.get_key_display(binding)}: {why}"
        return ""

    def read_only_reason(self) -> str:
        """Why nothing can be changed here ("" when it can)."""
        if not self.ops.store.read_only:
            return ""
        reason = self.ops.store.read_only_reason
        return f"the store is read-only{f' ({reason})' if reason else ''}"


class LiveDetailScreen(OpsScreen):
    """Header, a scrolling body of Static parts named in `PARTS`, footer. It loads when
    mounted and again whenever the store changes; subclasses implement `load()` (a
    worker) and `header_title()`."""

    PARTS: ClassVar[tuple[str, ...]] = ()

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        with VerticalScroll(id="detail"):
            for part in self.PARTS:
                yield Static(id=part)
        yield Footer(compact=True)

    _seen_generation = -1

    def on_mount(self) -> None:
        self.watch(self.app, "data_generation", self._store_changed, init=False)
        self.update_header()
        self._seen_generation = self.ops.data_generation
        self.load()

    def _store_changed(self, generation: int) -> None:
        if self.store_moved(self._seen_generation):
            self._seen_generation = generation
            self.load()

    def update_header(self) -> None:
        self.ops.paint_header(self, self.header_title())

    def header_title(self) -> str:
        raise NotImplementedError

    def load(self) -> object:
        raise NotImplementedError
