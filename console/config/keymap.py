"""Every key opsdesk binds, as plain data: binding id, default keys, action, footer text.

The screens build their Textual bindings from this table (`opsdesk.screens.keys`), and
`config check` and start-up read the same ids to validate `[keys]`, so checking a config
never imports Textual and a typo in `[keys]` is one line with a "did you mean".
"""

from __future__ import annotations

from dataclasses import dataclass

from opsdesk.console.config.schema import suggest


@dataclass(frozen=True)
class Key:
    """One binding: `keys` is Textual's comma-separated key list, `action` its action string."""

    id: str
    keys: str
    action: str
    description: str
    show: bool = True
    priority: bool = False


# Grouped by the screen (or widget) that declares them; a group's bindings are active
# while that screen has focus, in the order given (the footer shows them in this order).
KEYS: dict[str, tuple[Key, ...]] = {
    "app": (
        Key("screen.queue", "1", "show_screen('queue')", "Queue", show=False),
        Key("screen.oncall", "2", "show_screen('oncall')", "On-call", show=False),
        Key("screen.vendors", "3", "show_screen('vendors')", "Vendors", show=False),
        Key("screen.changes", "4", "show_screen('changes')", "Changes", show=False),
        Key("screen.problems", "5", "show_screen('problems')", "Problems", show=False),
        Key("screen.review", "6", "show_screen('review')", "Review", show=False),
        Key("command_line", "colon", "command_line", "Cmd"),
        Key("help", "question_mark", "help", "Help"),
        Key("banner", "b", "edit_banner", "Banner", show=False),
        Key("quit", "q", "quit_console", "Quit"),
    ),
    "list": (
        Key("filter", "slash", "filter", "Filter"),
        Key("back", "escape", "back", "Back", show=False),
        Key("copy", "y", "copy", "Copy key", show=False),
    ),
    "incident": (
        Key("incident.back", "escape", "app.pop_screen", "Back"),
        Key("incident.copy", "y", "copy", "Copy key"),
    ),
    "table": (
        Key("table.up", "up,k", "cursor_up", "Up", show=False),
        Key("table.down", "down,j", "cursor_down", "Down", show=False),
        Key("table.page_up", "pageup,ctrl+b", "page_up", "Page up", show=False),
        Key("table.page_down", "pagedown,ctrl+f", "page_down", "Page down", show=False),
        Key("table.top", "home,g", "scroll_top", "Top", show=False),
        Key("table.bottom", "end,G", "scroll_bottom", "Bottom", show=False),
        Key("table.select", "enter", "select", "Open", show=False),
    ),
    "help": (Key("help.close", "escape,question_mark,q", "dismiss", "Close"),),
    "command_line": (
        Key("command_line.cancel", "escape", "cancel", "Cancel"),
        Key("command_line.complete", "tab", "complete", "Complete", priority=True),
        Key("command_line.previous", "up", "history(-1)", "Previous command", show=False),
        Key("command_line.next", "down", "history(1)", "Next command", show=False),
    ),
    "confirm": (
        Key("confirm.yes", "y", "answer(True)", "Yes"),
        Key("confirm.no", "n,escape", "answer(False)", "No"),
    ),
    "banner_form": (Key("banner_form.cancel", "escape", "cancel", "Cancel"),),
    "incident_actions": (
        Key("incident.ack", "a", "incident('acknowledge')", "Ack"),
        Key("incident.take", "t", "take", "Take"),
        Key("incident.resolve", "r", "resolve", "Resolve"),
        Key("incident.new", "n", "new_incident", "New"),
        Key("incident.assign", "A", "assign", "Assign", show=False),
        Key("incident.note", "c", "note", "Note", show=False),
        Key("incident.hold", "h", "hold", "Hold", show=False),
        Key("incident.resume", "u", "incident('resume')", "Resume", show=False),
        Key("incident.start", "w", "incident('start')", "Start work", show=False),
        Key("incident.reopen", "R", "incident('reopen')", "Reopen", show=False),
        Key("incident.close", "x", "incident('close')", "Close", show=False),
        Key("incident.priority", "p", "priority", "Impact/urgency", show=False),
        Key("incident.csat", "s", "csat", "CSAT", show=False),
        Key("incident.escalate", "E", "escalate", "Escalate", show=False),
    ),
    "handoff_notes": (Key("handoff.done", "escape,enter", "done", "Mark read"),),
    "ask": (Key("form.cancel", "escape", "cancel", "Cancel"),),
    "choose": (
        Key("form.cancel", "escape", "cancel", "Cancel"),
        Key("choose.up", "up", "move(-1)", "Previous choice", show=False),
        Key("choose.down", "down", "move(1)", "Next choice", show=False),
    ),
    "metrics": (Key("metrics.close", "escape,m,q", "dismiss", "Close"),),
    "timeline": (Key("timeline.back", "escape,v", "app.pop_screen", "Back"),),
    "change_detail": (
        Key("change.back", "escape", "app.pop_screen", "Back"),
        Key("change.submit", "S", "step('submit')", "Submit"),
        Key("change.approve", "a", "decide('approve')", "Approve"),
        Key("change.reject", "X", "decide('reject')", "Reject"),
        Key("change.start", "w", "step('start')", "Start"),
        Key("change.complete", "C", "step('complete')", "Complete"),
        Key("change.fail", "F", "step('fail')", "Fail"),
        Key("change.rollback", "B", "step('rollback')", "Roll back"),
        Key("change.close", "x", "step('close')", "Close"),
        Key("change.edit", "e", "edit", "Edit"),
    ),
    "change_calendar": (
        Key("calendar.back", "escape,v", "app.pop_screen", "Back"),
        Key("calendar.toggle", "t", "toggle_span", "14/30 days"),
    ),
    "vendor_detail": (Key("vendor.back", "escape", "app.pop_screen", "Back"),),
    "form": (
        Key("form.cancel", "escape", "cancel", "Cancel"),
        Key("form.save", "ctrl+s", "save", "Save", priority=True),
        # Priority: run as Enter arrives, before keys queued behind it (screens/forms.py).
        Key("form.next", "enter", "next_field", "Next field", show=False, priority=True),
    ),
    "queue": (
        Key("queue.mark", "space", "mark", "Mark", show=False),
        Key("queue.quick_filter", "f", "quick_filter", "Quick filter", show=False),
        Key("queue.metrics", "m", "metrics", "Metrics", show=False),
        Key("queue.sort", "o", "sort", "Sort", show=False),
    ),
    "oncall": (
        Key("oncall.override_add", "o", "add_override", "Override"),
        Key("oncall.timeline", "v", "timeline", "Timeline"),
        Key("oncall.handoff", "n", "handoff", "Handoff note"),
        Key("oncall.override_remove", "d", "remove_override", "Remove override", show=False),
    ),
    "vendors": (Key("vendors.repoll", "r", "repoll", "Re-poll"),),
    "problems": (
        Key("problems.section", "s", "section(1)", "Section"),
        Key("problems.section_back", "S", "section(-1)", "Previous section", show=False),
        Key("problem.accept", "a", "accept_candidate", "Accept"),
        Key("action.done", "d", "action_done", "Done"),
    ),
    "problem_detail": (
        Key("problem.back", "escape", "app.pop_screen", "Back"),
        Key("problem.move", "m", "move", "Move"),
        Key("problem.edit", "e", "edit", "Edit"),
        Key("problem.note", "n", "note", "Note"),
        Key("problem.assign", "A", "assign", "Assign", show=False),
        Key("problem.close", "x", "close", "Close"),
        Key("action.add", "t", "add_action", "Add action", show=False),
        Key("action.done", "d", "action_done", "Action done", show=False),
    ),
    "review_detail": (
        Key("review.back", "escape", "app.pop_screen", "Back"),
        Key("review.edit", "e", "edit", "Edit"),
        Key("review.accept", "a", "accept", "Accept"),
        Key("action.add", "t", "add_action", "Add action"),
        Key("action.done", "d", "action_done", "Action done", show=False),
    ),
    "service_review": (
        Key("service_review.section", "s", "section(1)", "Section"),
        Key("service_review.section_back", "S", "section(-1)", "Previous section", show=False),
        Key("service_review.this_month", "t", "period('this')", "This month"),
        Key("service_review.last_month", "l", "period('last')", "Last month"),
        Key("service_review.choose_period", "p", "choose_period", "Period"),
        Key("service_review.earlier", "left_square_bracket", "shift(-1)", "Earlier", show=False),
        Key("service_review.later", "right_square_bracket", "shift(1)", "Later", show=False),
        Key("service_review.write_html", "w", "write_html", "HTML report"),
    ),
    "changes": (
        Key("changes.filter", "f", "quick_filter", "Quick filter"),
        Key("changes.calendar", "v", "calendar", "Calendar"),
        Key("changes.new", "n", "new_change", "New"),
    ),
}

BINDING_IDS: frozenset[str] = frozenset(key.id for group in KEYS.values() for key in group)

# Which groups are active together, per screen: a screen's bindings are those of its class
# and its base classes plus those of the focused widget (the table), and the app's own
# unless the screen is modal (Textual stops the chain at a modal screen).
# screens/queue.py QueueScreen(IncidentActions, StoreScreen) with an OpsTable, and so on.
ACTIVE_TOGETHER: dict[str, tuple[str, ...]] = {
    "queue": ("app", "queue", "incident_actions", "list", "table"),
    "on-call": ("app", "oncall", "list", "table"),
    "vendors": ("app", "vendors", "list", "table"),
    "changes": ("app", "changes", "list", "table"),
    "problems": ("app", "problems", "list", "table"),
    "service review": ("app", "service_review"),
    "incident": ("app", "incident", "incident_actions"),
    "change detail": ("app", "change_detail"),
    "change calendar": ("app", "change_calendar"),
    "on-call timeline": ("app", "timeline"),
    "vendor detail": ("app", "vendor_detail"),
    "problem detail": ("app", "problem_detail"),
    "review detail": ("app", "review_detail"),
    # modal screens: only their own bindings
    "help": ("help",),
    "metrics": ("metrics",),
    "command line": ("command_line",),
    "confirm": ("confirm",),
    "banner form": ("banner_form",),
    "handoff notes": ("handoff_notes",),
    "ask": ("ask",),
    "choose": ("choose",),
    "form": ("form",),
}

# A key typed as its character means the same as its Textual name.
_KEY_NAMES = {
    "?": "question_mark", "/": "slash", ":": "colon", " ": "space", ",": "comma",
    ".": "full_stop", ";": "semicolon", "!": "exclamation_mark", "#": "number_sign",
    "+": "plus", "-": "minus", "=": "equals_sign", "<": "less_than_sign",
    ">": "greater_than_sign",
}  # fmt: skip


def _key_names(keys: str) -> set[str]:
    out = set()
    for key in keys.split(","):
        key = key.strip() or key  # Textual strips each key (a lone " " stays a space)
        if key:
            out.add(_KEY_NAMES.get(key, key))
    return out


def _collisions(keys: dict[str, str]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    """Pairs of binding ids bound to one key on some screen: (first, second) in table
    order, to (the key, the screens where both are active)."""
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for screen, groups in ACTIVE_TOGETHER.items():
        bound: dict[str, str] = {}  # key name -> the first id using it here
        seen: set[str] = set()
        for group in groups:
            for key in KEYS[group]:
                if key.id in seen:
                    continue
                seen.add(key.id)
                for name in sorted(_key_names(keys.get(key.id, key.keys))):
                    other = bound.setdefault(name, key.id)
                    if other != key.id:
                        where = found.setdefault((other, key.id), (name, []))
                        where[1].append(screen)
    return found


_DEFAULT_COLLISIONS = frozenset(_collisions({}))
"""Overlaps the defaults have on purpose (escape closes a screen that also has a Back)."""


def keymap_problems(keys: dict[str, str]) -> list[tuple[str, str]]:
    """Every mistake in `[keys]`, as (binding id, what is wrong), in the order given:
    unknown ids, empty keys, control characters, and a key that another binding active
    on the same screen already uses (which would silently take that binding away)."""
    problems: list[tuple[str, str]] = []
    for binding_id, key in keys.items():
        if binding_id not in BINDING_IDS:
            hint = suggest(binding_id, BINDING_IDS)
            problems.append(
                (binding_id, f"unknown binding id{hint}; press ? in the console for the ids")
            )
        elif not key.strip():
            problems.append((binding_id, "empty key"))
        elif not key.isprintable():
            problems.append((binding_id, f"control characters are not allowed in a key ({key!r})"))
    if problems:
        return problems
    order = list(keys)
    for (first, second), (name, screens) in _collisions(keys).items():
        if (first, second) in _DEFAULT_COLLISIONS:
            continue
        rebound = second if second in keys else first
        other = first if rebound == second else second
        shown = (
            ", ".join(screens[:3]) + f" and {len(screens) - 3} more"
            if len(screens) > 6
            else " and ".join(filter(None, [", ".join(screens[:-1]), screens[-1]]))
        )
        problems.append(
            (
                rebound,
                f'"{name}" is already the key of "{other}" on the {shown} screen'
                f'{"s" if len(screens) > 1 else ""}; it would take "{other}" away: pick '
                f'another key, or rebind "{other}" too',
            )
        )
    problems.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
    return problems
