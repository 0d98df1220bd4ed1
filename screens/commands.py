"""The command palette's opsdesk commands (ctrl+p): go to a screen, queue quick filters,
open an incident, a change or a problem by key, open a vendor, and the actions of the screen the
palette was opened on (only those that apply now).

Every hit is drawn as `Content` built from plain text (names come from config and keys
from what was typed), never parsed as markup; help lines are fixed text of ours. The
commands run through the app's `:` command line (`run_command`), so the palette, `:`
and the keys do the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from opsdesk.console.domain.text import one_line

SCREENS = (
    ("queue", "Queue"),
    ("oncall", "On-call"),
    ("vendors", "Vendors"),
    ("changes", "Changes"),
    ("problems", "Problems"),
    ("review", "Review"),
)
QUICK_FILTERS = (
    ("open", "open incidents"),
    ("mine", "open incidents assigned to me"),
    ("unassigned", "open incidents nobody has taken"),
    ("breached", "open incidents past an SLA due time"),
    ("urgent", "open P1 and P2 incidents"),
    ("all", "every incident, any state"),
)
INCIDENT_KEY = re.compile(r"(?:inc[- ]?)?(\d{1,9})$", re.IGNORECASE)
CHANGE_KEY = re.compile(r"chg[- ]?(\d{1,9})$", re.IGNORECASE)
PROBLEM_KEY = re.compile(r"prb[- ]?(\d{1,9})$", re.IGNORECASE)

Command = tuple[str, str, Callable[[], Any]]


class OpsdeskCommands(Provider):
    """Go to, quick filters, INC-n / CHG-n / PRB-n, vendors, and this screen's actions."""

    def _run(self, line: str) -> Callable[[], Any]:
        def go() -> None:
            run = getattr(self.app, "run_command", None)
            if run is not None:
                run(line)

        return go

    def _commands(self) -> Iterator[Command]:
        for mode, label in SCREENS:
            yield f"Go to: {label}", f"Switch to the {label} screen", self._run(mode)
        for name, what in QUICK_FILTERS:
            yield f"Queue filter: {name}", f"Show {what}", self._run(name)
        config = getattr(self.app, "config", None)
        for vendor in getattr(config, "vendors", ()):
            yield f"Vendor: {vendor.name}", "Open the vendor", self._run(f"vendor {vendor.name}")
        yield from self._screen_actions()

    def _screen_actions(self) -> Iterator[Command]:
        """The keys of the screen the palette was opened on that apply now (from the key
        table: bindings with an id), so nothing here runs what the keys would refuse."""
        screen, app = self.screen, self.app
        seen: set[str] = set()
        for namespace, bindings_map in screen._modal_binding_chain:
            if namespace is app:
                continue  # the app's keys are the go-to and help commands above
            for group in bindings_map.key_to_bindings.values():
                for binding in group:
                    if not binding.id or binding.id in seen or not binding.description:
                        continue
                    seen.add(binding.id)
                    if not app._check_action_state(binding.action, namespace):
                        continue
                    key = app.get_key_display(binding)

                    def run(action: str = binding.action, node: Any = namespace) -> None:
                        app.call_later(app.run_action, action, node)

                    yield f"Action: {binding.description} ({key})", f"Key {binding.id}", run

    def _by_key(self, query: str) -> Iterator[Command]:
        text = query.strip()
        problem = PROBLEM_KEY.match(text)
        if problem:
            key = f"PRB-{int(problem.group(1))}"
            yield f"Open problem {key}", "Open the problem by its key", self._run(f"prb {key}")
            return
        change = CHANGE_KEY.match(text)
        if change:
            key = f"CHG-{int(change.group(1))}"
            yield f"Open change {key}", "Open the change by its key", self._run(f"chg {key}")
            return
        incident = INCIDENT_KEY.match(text)
        if incident:
            key = f"INC-{int(incident.group(1))}"
            yield f"Open incident {key}", "Open the incident by its key", self._run(f"inc {key}")
            key = f"CHG-{int(incident.group(1))}"
            yield f"Open change {key}", "Open the change by its key", self._run(f"chg {key}")
            key = f"PRB-{int(incident.group(1))}"
            yield f"Open problem {key}", "Open the problem by its key", self._run(f"prb {key}")

    async def discover(self) -> Hits:
        for title, help_text, command in self._commands():
            yield DiscoveryHit(Content(one_line(title, limit=100)), command, title, help_text)

    async def search(self, query: str) -> Hits:
        for rank, (title, help_text, command) in enumerate(self._by_key(query)):
            score = 1.0 - rank / 100  # an incident before a change with the same number
            yield Hit(score, Content(one_line(title, limit=100)), command, title, help_text)
        matcher = self.matcher(query)
        for title, help_text, command in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, self._highlight(matcher, title), command, title, help_text)

    def _highlight(self, matcher: Any, title: str) -> Content:
        """The title with the matched letters styled: `Content` from plain text (the
        matcher's own `highlight` parses its argument as markup)."""
        title = one_line(title, limit=100)
        content = Content(title)
        _, offsets = matcher.fuzzy_search.match(matcher.query, title)
        for offset in offsets:
            if offset < len(title) and not title[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
        return content
