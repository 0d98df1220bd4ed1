"""Modal screens: help, the `:` command line, confirmation, and the banner form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, Label, Static

from opsdesk.console.domain.metrics import QueueMetrics, short, table_rows
from opsdesk.console.domain.text import clean, one_line
from opsdesk.screens.keys import bindings
from opsdesk.store.records import HandoffNote


class HelpRow(NamedTuple):
    """One key on the help screen: `applies` is False when it does nothing right now,
    and `why` then says why (from the screen's `explain_action`, when it has one)."""

    key: str
    does: str
    id: str
    applies: bool = True
    why: str = ""


def explain(namespace: DOMNode, action: str) -> str:
    """Why `action` (an action string of `namespace`) does not apply now, or ""."""
    target, name, parameters = namespace.app._parse_action(action, namespace)
    why = getattr(target, "explain_action", None)
    return str(why(name, parameters)) if callable(why) else ""


def binding_rows(screen: Screen[object]) -> list[HelpRow]:
    """Every key of `screen` (the screen's, the app's, then the focused widget's): opsdesk's
    own first, from the key table (they have ids and can be rebound), including those that
    do not apply now (`applies` False, with why); then the widgets' built-in keys that work
    now. Where two bindings share a key, the one listed first is the one that runs."""
    app = screen.app
    ours: dict[str, HelpRow] = {}
    theirs: dict[tuple[str, str], HelpRow] = {}
    chain = screen._modal_binding_chain  # the focused widget first, then the screen, the app
    ranked = sorted(chain, key=lambda link: 0 if link[0] is screen else 1 if link[0] is app else 2)
    for namespace, bindings_map in ranked:
        for key, group in bindings_map.key_to_bindings.items():
            for binding in group:
                if binding.system or not binding.description:
                    continue
                state = app._check_action_state(binding.action, namespace)
                label = app.get_key_display(binding) or key
                if binding.id:
                    row = ours.get(binding.id)
                    if row is not None:
                        if label not in row.key.split(" "):
                            ours[binding.id] = row._replace(key=f"{row.key} {label}")
                        continue
                    why = "" if state else explain(namespace, binding.action)
                    ours[binding.id] = HelpRow(label, binding.description, binding.id,
                                               bool(state), why)  # fmt: skip
                elif state and (label, binding.description) not in theirs:
                    theirs[(label, binding.description)] = HelpRow(label, binding.description, "")
    return [*ours.values(), *theirs.values()]


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen underneath, with its id for `[keys]` in config; keys
    that do not apply now are greyed, with the reason."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("help")

    def __init__(self, rows: Sequence[HelpRow | tuple[str, str, str]], extra: list[str]) -> None:
        super().__init__()
        self._rows = rows
        self._extra = extra

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(Text("Keys on this screen (dim: does not apply now)", style="bold"))
            table: DataTable[str] = DataTable(id="help-table", cursor_type="row")
            table.add_columns(
                Text("Key"), Text("Does"), Text("Binding id ([keys])"), Text("Why not now")
            )
            for row in self._rows:
                applies = not isinstance(row, HelpRow) or row.applies
                why = row.why if isinstance(row, HelpRow) and not applies else ""
                style = "" if applies else "dim"
                parts = (row[0], row[1], row[2], why or ("" if applies else "does not apply now"))
                cells = [
                    Text(one_line(p, limit=n), style=style)
                    for p, n in zip(parts, (20, 40, 40, 200), strict=True)
                ]
                table.add_row(*cells)  # type: ignore[arg-type]
            yield table
            yield Static(Text(""), id="help-why")
            yield Static(Text("\n".join(self._extra)), id="help-extra")
            yield Label(Text("Esc closes", style="dim"))

    @on(DataTable.RowHighlighted, "#help-table")
    def _show_why(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted key's reason in full (the table's last column may be cut)."""
        row = self._rows[event.cursor_row] if 0 <= event.cursor_row < len(self._rows) else None
        why = ""
        if isinstance(row, HelpRow) and not row.applies:
            why = f"{row.key}: {row.why or 'does not apply now'}"
        line = self.query_one("#help-why", Static)
        line.update(Text(one_line(why, limit=300), "italic"))
        line.display = bool(why)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


class MetricsScreen(ModalScreen[None]):
    """MTTA and MTTR (mean, median, p90), attainment and CSAT over 7 and 30 days."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("metrics")

    def __init__(self, metrics: QueueMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def compose(self) -> ComposeResult:
        backlog = self._metrics.backlog
        with Vertical(id="help-box"):
            yield Label(Text("Queue metrics", style="bold"))
            yield Label(
                Text(
                    f"open {backlog.open:,} · breached now {backlog.breached:,} · "
                    f"oldest open {short(backlog.oldest_age)}"
                )
            )
            table: DataTable[Text] = DataTable(id="help-table", cursor_type="row")
            table.add_columns(Text("Measure"), Text("Last 7 days"), Text("Last 30 days"))
            for row in table_rows(self._metrics):
                table.add_row(*(Text(part) for part in row))
            yield table
            yield Label(
                Text(
                    "MTTA: created → acknowledged. MTTR: created → resolved. Esc closes",
                    style="dim",
                )
            )

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


COMMAND_NAMES = (
    "queue", "oncall", "vendors", "changes", "problems", "inc", "chg", "prb", "vendor", "help",
    "banner", "theme", "quit", "metrics", "mine", "breached", "unassigned", "urgent", "open", "all",
)  # fmt: skip
"""The `:` commands Tab completes (console/tui/app.py `run_command` runs them)."""
TAKES_ARGUMENT = frozenset({"inc", "chg", "prb", "vendor", "theme"})
COMMANDS = [
    "queue", "oncall", "vendors", "changes", "problems", "review", "inc ", "chg ", "prb ",
    "vendor ",
    "help", "banner",
    "theme light", "theme dark", "quit", "metrics", "mine", "breached", "unassigned", "urgent",
    "open", "all",
]  # fmt: skip


def complete(text: str, vendors: Sequence[str] = ()) -> tuple[str, list[str]]:
    """Tab completion of a `:` line: the completed text and the candidates it chose from.
    Completes the command name, then a vendor name after `vendor ` (or a theme)."""
    verb, space, argument = text.lstrip(":").lstrip().partition(" ")
    if not space:
        names = [n for n in COMMAND_NAMES if n.startswith(verb.lower())]
        if verb.lower() in TAKES_ARGUMENT and verb.lower() in names and len(names) > 1:
            names = [verb.lower()]  # Tab again on "vendor" (not "vendors"): its argument
        if len(names) == 1:
            return names[0] + (" " if names[0] in TAKES_ARGUMENT else ""), names
        return (_common_prefix(names) or verb) if names else text, names
    pool: Sequence[str] = ()
    if verb.lower() == "vendor":
        pool = vendors
    elif verb.lower() == "theme":
        pool = ("light", "dark")
    wanted = argument.strip().casefold()
    found = [v for v in pool if v.casefold().startswith(wanted)]
    if len(found) == 1:
        return f"{verb} {found[0]}", found
    if found:
        return f"{verb} {_common_prefix(found) or argument.strip()}", found
    return text, []


def _common_prefix(words: Sequence[str]) -> str:
    if not words:
        return ""
    first, last = min(words, key=str.casefold), max(words, key=str.casefold)
    size = 0
    while size < min(len(first), len(last)) and first[size].casefold() == last[size].casefold():
        size += 1
    return first[:size]


class CommandLine(ModalScreen[str | None]):
    """k9s-style `:` prompt at the bottom: `:queue`, `:oncall`, `:inc INC-12`, `:chg CHG-3`,
    `:vendor NAME`, `:q`. Tab completes command (and vendor) names; up and down go through
    the commands run before in this session (`history`, newest last)."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("command_line")

    def __init__(self, history: list[str] | None = None, vendors: Sequence[str] = ()) -> None:
        super().__init__()
        self._history = history if history is not None else []
        self._vendors = list(vendors)
        self._at = len(self._history)
        self._draft = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="command-hint")
        yield Input(
            placeholder="queue | oncall | inc INC-12 | chg CHG-3 | vendor NAME | help | quit (Tab)",
            suggester=SuggestFromList(
                [*COMMANDS, *(f"vendor {v}" for v in self._vendors)], case_sensitive=False
            ),
            id="command-input",
        )

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    def _hint(self, text: str) -> None:
        self.query_one("#command-hint", Static).update(Text(one_line(text, limit=400), "dim"))

    def action_complete(self) -> None:
        box = self.input
        completed, candidates = complete(box.value, self._vendors)
        box.value = completed
        box.cursor_position = len(completed)
        if len(candidates) > 1:
            self._hint("  ".join(candidates))
        elif not candidates:
            self._hint("no completion")
        else:
            self._hint("")

    def action_history(self, step: int) -> None:
        """Up (-1) and down (+1) through this session's commands; past the newest, back
        to what was being typed."""
        if not self._history:
            return
        if self._at == len(self._history):
            self._draft = self.input.value
        self._at = max(0, min(len(self._history), self._at + step))
        value = self._history[self._at] if self._at < len(self._history) else self._draft
        self.input.value = value
        self.input.cursor_position = len(value)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """Yes/no question; `y` or Enter on "Yes" confirms, `n` or Esc declines. The question
    wraps to as many lines as it needs."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(one_line(self._question, limit=2000)), id="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class BannerForm(ModalScreen[str | None]):
    """Edit the team banner. Returns the new text ("" clears it) or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("banner_form")

    def __init__(self, current: str) -> None:
        super().__init__()
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Team banner (shown on every console; empty clears it)", style="bold"))
            yield Input(value=self._current, max_length=200, id="banner-input")
            yield Label(Text("Enter saves · Esc cancels", style="dim"))

    def has_unsaved_input(self) -> bool:
        return self.query_one("#banner-input", Input).value != self._current

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class HandoffNotesScreen(ModalScreen[bool]):
    """Handoff notes left for you; closing it marks them read."""

    BINDINGS: ClassVar[list[BindingType]] = bindings("handoff_notes")

    def __init__(self, notes: list[HandoffNote]) -> None:
        super().__init__()
        self._notes = notes

    def compose(self) -> ComposeResult:
        body = Text()
        for note in self._notes:
            body.append(
                f"{one_line(note.schedule, limit=40)} · from {one_line(note.author, limit=24)} · ",
                style="bold",
            )
            body.append(f"{note.created_at:%Y-%m-%d %H:%M}Z\n", style="dim")
            body.append(clean(note.text, limit=4000))
            body.append("\n\n")
        with Vertical(id="help-box"):
            yield Label(Text(f"Handoff notes for you ({len(self._notes)})", style="bold"))
            with VerticalScroll():
                yield Static(body, id="handoff-body")
            yield Label(Text("Enter or Esc marks them read", style="dim"))

    def action_done(self) -> None:
        self.dismiss(True)
