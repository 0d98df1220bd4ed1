"""Screen bases: every opsdesk screen reaches the console through `ops`; pushed detail
screens share one layout and keep themselves current from the live feed."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

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
