"""The Textual app: four screens as modes, a header, the live feed, global keys.

The app opens its own store connection (aiosqlite is bound to the event loop that
created it), polls the change feed, and gives the screens `store`, `config`, `actor`
and `now()`. Screens never see SQL or HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from opsdesk.console import collection
from opsdesk.console.config.model import Config
from opsdesk.console.domain.lifecycle import OPEN_STATES
from opsdesk.console.domain.text import one_line
from opsdesk.console.errors import OpsdeskError
from opsdesk.console.ops.feed import DEFAULT_INTERVAL, Changed, ChangeFeed
from opsdesk.console.ops.incidents import IncidentOps
from opsdesk.console.ops.oncall import OncallOps
from opsdesk.console.ops.pager import ESCALATION_LEASE
from opsdesk.console.ops.poller import Poller
from opsdesk.console.ops.session import Options, Session, open_session
from opsdesk.screens.change_detail import ChangeDetailScreen
from opsdesk.screens.changes import ChangesScreen
from opsdesk.screens.commands import OpsdeskCommands
from opsdesk.screens.dialogs import (
    BannerForm,
    CommandLine,
    Confirm,
    HandoffNotesScreen,
    HelpScreen,
    binding_rows,
)
from opsdesk.screens.incident import IncidentScreen
from opsdesk.screens.keys import bindings
from opsdesk.screens.oncall import OncallScreen
from opsdesk.screens.problem_detail import ProblemDetailScreen
from opsdesk.screens.problems import ProblemsScreen
from opsdesk.screens.queue import QueueScreen
from opsdesk.screens.vendor_detail import VendorDetailScreen
from opsdesk.screens.vendors import VendorsScreen
from opsdesk.store import Actor, Store, StoreError
from opsdesk.store.records import IncidentFilter

ESCALATE_EVERY = 30.0  # seconds between checks for unacknowledged incidents to escalate
QUIET_TABLES = frozenset({"leases"})
"""Tables whose changes no screen shows: a lease renewed reloads nothing."""
POLL_TICK = 5.0  # seconds between looks for status sources that are due (each has its interval)

SCREEN_ALIASES = {
    "queue": ("queue", "incidents", "inc", "incident", "1"),
    "oncall": ("oncall", "on-call", "oc", "2"),
    "vendors": ("vendors", "vendor", "v", "3"),
    "changes": ("changes", "change", "chg", "cr", "4"),
    "problems": ("problems", "problem", "prb", "5"),
    "review": ("review", "service-review", "sr", "6"),
}
QUIT_ALIASES = ("q", "q!", "quit", "exit")
COMMAND_HISTORY = 200  # `:` lines kept for up/down
QUICK_FILTER_ALIASES = {
    "mine": "mine", "unassigned": "unassigned", "breached": "breached", "urgent": "urgent",
    "p1": "urgent", "open": "open", "all": "all",
}  # fmt: skip
COMMAND_HELP = [
    ":queue :oncall :vendors :changes :problems :review (1-6)  :inc INC-12",
    ":chg CHG-3  :prb PRB-2  :vendor NAME  :mine :unassigned :breached",
    ":urgent :open :all (f)  :metrics (m)  :banner  :theme light|dark",
    ":help  :q    in :  Tab completes, up/down history;  ctrl+p palette",
]


class TerminalWatch:
    """Notices a terminal that vanished without a SIGHUP (an SSH session dropped under
    `sudo -u`, `runuser` or `su`: the pty's other end is closed but nobody signals us).
    Textual's input thread then reads EOF forever and spins a core; this thread waits
    in `poll()` for a hang-up or error on the console's input and output descriptors,
    costs nothing while the terminal lives, and calls `gone` (on the app's loop) once."""

    def __init__(self, fds: list[int], gone: Callable[[], None]) -> None:
        self._fds = fds
        self._gone = gone
        self._loop = asyncio.get_running_loop()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="terminal-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        poller = select.poll()
        for fd in self._fds:
            poller.register(fd, 0)  # hang-up, error and invalid are always reported
        poller.register(self._wake_r, select.POLLIN)
        try:
            while True:
                events = poller.poll()
                if any(fd == self._wake_r for fd, _ in events):
                    return  # the console is closing by itself
                if events:
                    with contextlib.suppress(RuntimeError):  # the loop already closed
                        self._loop.call_soon_threadsafe(self._gone)
                    return
        finally:
            os.close(self._wake_r)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        os.close(self._wake_w)

    @classmethod
    def for_terminal(cls, gone: Callable[[], None]) -> TerminalWatch | None:
        """A watch on stdin and stderr (Textual draws on stderr) where they are open."""
        if not hasattr(select, "poll"):
            return None  # Windows: its driver reads the console differently
        fds = []
        for stream in (sys.__stdin__, sys.__stderr__):
            with contextlib.suppress(AttributeError, ValueError, OSError):
                if stream is not None:
                    fds.append(stream.fileno())
        return cls(fds, gone) if fds else None


def _service_review() -> Screen[None]:
    """The Review screen, imported when it is first shown: its model, sections and charts
    would otherwise cost every console ~20 ms of its start (bench.metrics)."""
    from opsdesk.screens.service_review import ServiceReviewScreen

    return ServiceReviewScreen()


class OpsdeskApp(App[int]):
    """The opsdesk console."""

    CSS_PATH = str(resources.files("opsdesk.screens").joinpath("app.tcss"))
    TITLE = "opsdesk"
    MODES: ClassVar[dict[str, Callable[[], Screen[None]]]] = {  # type: ignore[assignment]
        "queue": QueueScreen,
        "oncall": OncallScreen,
        "vendors": VendorsScreen,
        "changes": ChangesScreen,
        "problems": ProblemsScreen,
        "review": _service_review,
    }
    DEFAULT_MODE = "queue"
    COMMANDS = App.COMMANDS | {OpsdeskCommands}
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")

    data_generation: reactive[int] = reactive(0)

    def __init__(
        self,
        options: Options,
        *,
        clock: Callable[[], datetime] | None = None,
        feed_interval: float = DEFAULT_INTERVAL,
        escalate_interval: float = ESCALATE_EVERY,
        poll_interval: float = POLL_TICK,
        handle_hangup: bool = True,
        login: str | None = None,
    ) -> None:
        super().__init__()
        self.options = options
        self._clock = clock or (lambda: datetime.now(UTC))
        self._feed_interval = feed_interval
        self._escalate_interval = escalate_interval
        self._poll_interval = poll_interval
        self._poller: Poller | None = None
        self._handle_hangup = handle_hangup
        self._login = login
        self._session: Session | None = None
        self._holder = f"console:{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._holds_escalation = False
        self.table_generations: dict[str, int] = {}
        """Per table, the `data_generation` at which the feed last saw it change."""
        self.unknown_generation = 0
        """The last `data_generation` at which something changed that is not known."""
        self._terminal_watch: TerminalWatch | None = None
        self._last_clock = ""
        self._newest_seen_id = 0
        self._said_read_only = False
        self._live_problem: str | None = None
        self.command_history: list[str] = []
        """The `:` lines run in this session, oldest first (up/down in the command line)."""

    # What screens use -------------------------------------------------------------

    @property
    def session(self) -> Session:
        assert self._session is not None, "the store is opened in on_load"
        return self._session

    @property
    def store(self) -> Store:
        return self.session.store

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def actor(self) -> Actor:
        return self.session.actor

    @property
    def incidents(self) -> IncidentOps:
        """Incident operations as this console's user (same rules as the CLI)."""
        return IncidentOps(self.store, self.config, self.actor)

    @property
    def oncall(self) -> OncallOps:
        """Overrides, handoffs and who is on call, as the On-call screens use them."""
        return OncallOps(self.store, self.config, self.actor)

    def now(self) -> datetime:
        return self._clock()

    def paint_header(self, screen: Screen[Any], title: str) -> None:
        from opsdesk.screens.widgets import StatusHeader

        roles = (
            ", ".join(r for r in ("admin", "lead", "cab") if r in self.actor.roles) or "engineer"
        )
        clock = self.now().astimezone().strftime("%H:%M %Z") if self.config.ui.clock else ""
        self._last_clock = clock
        for header in screen.query(StatusHeader):
            header.show(
                screen=title,
                login=self.actor.login,
                roles=roles,
                store=self.store.location.name,
                read_only=self.store.read_only,
                clock=clock,
            )

    # Life cycle -------------------------------------------------------------------

    async def on_load(self) -> None:
        self._session = await open_session(self.options, create=True, login=self._login)
        self._feed = ChangeFeed(
            self.store.change_token,
            self._store_changed,
            counts=self.store.leases.change_counts,
            quiet=QUIET_TABLES,
        )
        await self._feed.prime()
        newest = await self.store.incidents.recent(1)
        self._newest_seen_id = newest[0].id if newest else 0
        ui = self.config.ui
        self.theme = ui.theme
        self.animation_level = "full" if ui.animations else "none"
        self.set_keymap(self.config.keys)
        if self._handle_hangup:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._terminal_gone)

    def on_mount(self) -> None:
        self.call_after_refresh(collection.resume)  # paused by `opsdesk` as it started
        if not self.is_headless:
            self._terminal_watch = TerminalWatch.for_terminal(self._terminal_gone)
            if self._terminal_watch is not None:
                self._terminal_watch.start()
        for warning in self.session.warnings:  # role grants ignored, as the CLI says them
            self.notify(warning, title="Config", severity="warning", markup=False, timeout=20)
        self.show_handoff_notes()
        self.set_interval(self._feed_interval, self._feed_tick, name="change-feed")
        if self.config.ui.clock:
            self.set_interval(5, self._tick_clock, name="clock")
        if self.config.queue.auto_escalate and not self.store.read_only:
            self.set_interval(self._escalate_interval, self.escalate_due, name="escalate")
        if self.config.sources and self._poll_interval > 0 and not self.store.read_only:
            self._poller = Poller(self.store, self.config, self.actor, self.now)
            self.poll_sources()
            self.set_interval(self._poll_interval, self.poll_sources, name="status-poll")

    async def _shutdown(self) -> None:
        """Stop the screens' workers before Textual takes the screens apart: a reload
        still waiting on the store would otherwise wake up to a screen without its
        widgets (`NoMatches '#filter-status'`)."""
        await self.stop_screen_workers()
        await super()._shutdown()

    async def stop_screen_workers(self) -> None:
        workers = [w for w in self.workers if w.node is not self and not w.is_finished]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(worker.wait(), timeout=1.0)

    async def on_unmount(self) -> None:
        if self._terminal_watch is not None:
            self._terminal_watch.stop()
        if self._holds_escalation and self._session is not None:
            with contextlib.suppress(StoreError, OpsdeskError, ValueError):
                await self.store.leases.release(ESCALATION_LEASE, self._holder)
        if self._poller is not None:
            await self._poller.close()
        if self._handle_hangup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._session is not None:
            await self._session.close()

    @work(group="handoff", exit_on_error=False)
    async def show_handoff_notes(self) -> None:
        """Notes the previous on-call person left for you, once, when the console opens."""
        try:
            notes = await self.store.handoffs.unseen_for(self.actor.login)
        except StoreError:
            return
        if not notes:
            return

        def read(_: bool | None) -> None:
            if not self.store.read_only:
                self.mark_handoffs_read([n.id for n in notes])

        self.push_screen(HandoffNotesScreen(notes), read)

    @work(group="handoff", exit_on_error=False)
    async def mark_handoffs_read(self, ids: list[int]) -> None:
        try:
            await self.store.handoffs.mark_seen(self.actor, ids, self.now())
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)

    def _terminal_gone(self) -> None:
        """SIGHUP, or a hang-up seen on the terminal itself: the SSH session or terminal
        went away; leave cleanly."""
        self.exit(0)

    def check_feed(self) -> Worker[None]:
        """Look at the live change feed now: what the `feed_interval` timer does on each
        tick. Returns the worker doing the look, so a caller (the tests) can wait for it
        instead of for the next tick."""
        worker = self._check_feed()
        self._say_store_state()
        return worker

    async def _feed_tick(self) -> None:
        """The timer's look at the feed, awaited in the timer's own task: no worker is
        made per tick (the feed ticks five times a second on every console). The feed
        never raises; it logs and tries again next tick."""
        await self._feed.check()
        self._say_store_state()

    def _say_store_state(self) -> None:
        """What each look at the feed may have to say: the store turned read-only, or
        changes from other hosts stopped or started arriving again."""
        if self.store.read_only and not self._said_read_only:
            self._say_read_only()
        self._say_live_problem()

    def _say_live_problem(self) -> None:
        """A PostgreSQL server that went away (restarted, network cut): say so once, and
        once more when the feed is back (it reloads everything then, so nothing changed
        meanwhile is missed)."""
        problem = self.store.live_problem
        if problem == self._live_problem:
            return
        if problem is not None:
            self.notify(f"{problem}; reconnecting", title="Store", severity="error",
                        markup=False, timeout=30)  # fmt: skip
        else:
            self.notify("live updates are back; reloaded", title="Store", markup=False)
        self._live_problem = problem

    @work(group="feed", exit_on_error=False)
    async def _check_feed(self) -> None:
        """One look at the feed, as a worker started by the tick (no coroutine is made in
        advance, so a console closing between ticks leaves none un-awaited)."""
        await self._feed.check()

    def _say_read_only(self) -> None:
        """The store is read-only without anyone asking (its file or folder is not
        writable, or a write found it so): say why once, and stop offering changes."""
        self._said_read_only = True
        reason = self.store.read_only_reason
        if reason:
            self.notify(f"read-only: {reason}; nothing can be changed", title="Read-only",
                        severity="warning", markup=False, timeout=15)  # fmt: skip
        for screen in self.screen_stack:
            update = getattr(screen, "update_header", None)
            if update is not None:
                update()
        self.screen.refresh_bindings()

    def _store_changed(self) -> None:
        tables: Changed = self._feed.changed
        generation = self.data_generation + 1
        if tables is None:
            self.unknown_generation = generation
        else:
            for table in tables:
                self.table_generations[table] = generation
        self.data_generation = generation
        if tables is None or "incidents" in tables:
            self.watch_for_new_p1()

    def changed_since(self, generation: int, tables: Iterable[str] | None) -> bool:
        """Whether any of `tables` (None: any table) changed after `data_generation` was
        `generation`: what a screen loaded then asks before reloading."""
        if generation < 0 or tables is None or self.unknown_generation > generation:
            return generation != self.data_generation
        return any(self.table_generations.get(t, 0) > generation for t in tables)

    @work(group="p1-watch", exclusive=True, exit_on_error=False)
    async def watch_for_new_p1(self) -> None:
        """Toast (and ring the bell, unless `ui.bell = false`) for each P1 opened since the
        console started, whichever screen is showing."""
        try:
            p1s = await self.store.incidents.find(
                IncidentFilter(states=OPEN_STATES, priorities=("P1",)), limit=200
            )
        except StoreError:
            return
        fresh = [i for i in p1s if i.id > self._newest_seen_id]
        self._newest_seen_id = max([self._newest_seen_id, *(i.id for i in p1s)])
        for incident in sorted(fresh, key=lambda i: i.id):
            self.notify(
                f"{incident.key} {one_line(incident.title, limit=80)} ({incident.service})",
                title="New P1",
                severity="error",
                markup=False,
                timeout=20,
            )
        if fresh and self.config.ui.bell:
            self.bell()

    @work(group="status-poll", exclusive=False, exit_on_error=False)
    async def poll_sources(self) -> None:
        """Poll the status sources that are due and that no other console has claimed.
        The round runs on the poller's own thread and loop (with its own store
        connection), so key presses are not kept waiting while hundreds of answers are
        parsed; the screens see the results through the change feed."""
        if (
            self._poller is None
            or self.store.read_only
            or any(
                w.group == "status-poll" and w.is_running and w is not get_current_worker()
                for w in self.workers
            )
        ):
            return  # no poller, nothing may be written, or the last round is still waiting
        try:
            await self._poller.off_loop().poll()
        except (StoreError, OpsdeskError) as exc:
            self.log.warning(f"status poll failed: {exc}")

    @work(group="escalate", exclusive=True, exit_on_error=False)
    async def escalate_due(self) -> None:
        """Move unacknowledged incidents on to their next escalation level when it is due,
        for everyone, if this console holds the escalation lease: `opsdesk serve` takes it
        when it runs, else the first console to claim it keeps it while it lives (a
        console that dies hands it on within three escalation intervals)."""
        if self.store.read_only:
            return
        try:
            ttl = timedelta(seconds=self._escalate_interval * 3)
            held = await self.store.leases.claim(ESCALATION_LEASE, self._holder, self.now(), ttl)
            self._holds_escalation = held
            if not held:
                return
            escalated = await self.incidents.escalate_due(self.now())
        except (StoreError, OpsdeskError) as exc:
            self.log.warning(f"automatic escalation failed: {exc}")
            return
        for incident in escalated:
            self.notify(
                f"{incident.key} → level {incident.escalation_level}: "
                f"{incident.assignee or 'nobody on call'}",
                title="Escalated (not acknowledged)",
                severity="warning",
                markup=False,
            )

    def _tick_clock(self) -> None:
        clock = self.now().astimezone().strftime("%H:%M %Z")
        if clock != self._last_clock:
            update = getattr(self.screen, "update_header", None)
            if update is not None:
                update()

    # Actions ----------------------------------------------------------------------

    def action_show_screen(self, name: str) -> None:
        if name in self.MODES:
            self.switch_mode(name)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(binding_rows(self.screen), COMMAND_HELP))

    def action_command_line(self) -> None:
        vendors = [vendor.name for vendor in self.config.vendors]
        self.push_screen(CommandLine(self.command_history, vendors), self.run_typed_command)

    def run_typed_command(self, text: str | None) -> None:
        """A line typed after `:`: kept in this session's history (up/down), then run."""
        line = (text or "").strip()
        if line and (not self.command_history or self.command_history[-1] != line):
            self.command_history.append(line)
            del self.command_history[:-COMMAND_HISTORY]
        self.run_command(line)

    def run_command(self, text: str | None) -> None:
        """Run a `:` command line (k9s grammar)."""
        if not text:
            return
        verb, _, argument = text.strip().lstrip(":").strip().partition(" ")
        verb, argument = verb.lower(), argument.strip()
        if verb in ("inc", "incident") and argument:
            self.open_incident(argument)
            return
        if verb in ("chg", "change", "cr") and argument:
            self.open_change(argument)
            return
        if verb in ("prb", "problem") and argument:
            self.open_problem(argument)
            return
        if verb == "vendor" and argument:
            self.open_vendor(argument)
            return
        if verb in QUICK_FILTER_ALIASES:
            self.switch_mode("queue")
            queue = self.screen
            if isinstance(queue, QueueScreen):
                queue.set_quick_filter(QUICK_FILTER_ALIASES[verb])
            return
        for mode, aliases in SCREEN_ALIASES.items():
            if verb in aliases:
                self.switch_mode(mode)
                return
        if verb in QUIT_ALIASES:
            self.action_quit_console()
        elif verb in ("help", "?"):
            self.action_help()
        elif verb == "metrics":
            self.switch_mode("queue")
            if isinstance(self.screen, QueueScreen):
                self.screen.action_metrics()
        elif verb == "banner":
            self.action_edit_banner()
        elif verb == "theme":
            self.set_theme(argument)
        else:
            self.notify(
                f"unknown command: {one_line(text, limit=40)}", severity="error", markup=False
            )

    def set_theme(self, name: str) -> None:
        wanted = {"light": "textual-light", "dark": "textual-dark"}.get(name, name)
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(
                f"unknown theme: {one_line(name, limit=40)}", severity="error", markup=False
            )

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    @work(group="open-incident", exit_on_error=False)
    async def open_incident(self, key: str) -> None:
        try:
            incident = await self.store.incidents.get(key)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(IncidentScreen(incident.key))

    @work(group="open-change", exit_on_error=False)
    async def open_change(self, key: str) -> None:
        try:
            change = await self.store.changes.get(key.upper())
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(ChangeDetailScreen(change.key))

    @work(group="open-problem", exit_on_error=False)
    async def open_problem(self, key: str) -> None:
        try:
            problem = await self.store.problems.get(key.upper())
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.push_screen(ProblemDetailScreen(problem.key))

    def open_vendor(self, name: str) -> None:
        names = {vendor.name.casefold(): vendor.name for vendor in self.config.vendors}
        found = names.get(name.casefold())
        if found is None:
            self.notify(f"no vendor named {one_line(name, limit=40)}", severity="error",
                        markup=False)  # fmt: skip
            return
        self.push_screen(VendorDetailScreen(found))

    def action_quit_console(self) -> None:
        if any(getattr(s, "has_unsaved_input", lambda: False)() for s in self.screen_stack):
            self.push_screen(
                Confirm("You have unsaved input. Quit anyway?"),
                lambda yes: self.exit(0) if yes else None,
            )
        else:
            self.exit(0)

    async def action_quit(self) -> None:
        """ctrl+q (Textual's quit key) asks about unsaved input too."""
        self.action_quit_console()

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        """Once quitting, keys typed after `q` (in one burst over a slow link) run nothing:
        a dialog opened on the way out would crash the exit with a traceback."""
        if self._exit:
            return True
        return await super()._check_bindings(key, priority)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if self.explain_action(action, parameters) else True

    def explain_action(self, action: str, parameters: tuple[object, ...]) -> str:
        """Why an app key does not apply now ("" when it does); `?` and the key say it."""
        if action != "edit_banner":
            return ""
        if self.store.read_only:
            reason = self.store.read_only_reason or "opened read-only"
            return f"this console is read-only ({reason}): the banner cannot be changed here"
        if not self.actor.has("lead"):
            return "editing the banner needs the lead role"
        return ""

    @work(group="banner", exit_on_error=False)
    async def action_edit_banner(self) -> None:
        if why := self.explain_action("edit_banner", ()):  # `:banner` comes here directly
            self.notify(why, severity="warning", markup=False)
            return
        current = await self.store.banner.get()

        def save(text: str | None) -> None:
            if text is not None:
                self.save_banner(text, current.version)

        self.push_screen(BannerForm(current.text), save)

    @work(group="banner", exit_on_error=False)
    async def save_banner(self, text: str, seen_version: int) -> None:
        """Save the form; a banner changed by someone else meanwhile is refused, not lost."""
        try:
            await self.store.banner.set(self.actor, text, seen_version, self.now())
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False, timeout=10)
            return
        self.notify("banner cleared" if not text else "banner saved", markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, label in (
            ("queue", "Queue"),
            ("oncall", "On-call"),
            ("vendors", "Vendors"),
            ("changes", "Changes"),
            ("problems", "Problems"),
            ("review", "Review"),
        ):
            yield SystemCommand(
                f"Screen: {label}",
                f"Switch to the {label} screen",
                lambda m=mode: self.switch_mode(m),
            )
        yield SystemCommand("Help: keys", "Every key on this screen", self.action_help)
        yield SystemCommand("Theme: toggle light/dark", "Switch theme", self.action_toggle_theme)
        if self.check_action("edit_banner", ()):
            yield SystemCommand(
                "Banner: edit", "Set or clear the team banner", self.action_edit_banner
            )
