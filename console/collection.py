"""Python's garbage collector, paused while opsdesk starts.

The cyclic collector walks every tracked object on each full collection, and start-up
triggers several: imports make tens of thousands of objects (none of them garbage) and the
interpreter collects again as it exits. For a quick command that was ~14 ms of its ~90 ms
of CPU, and ~20 ms of the console's first frame. So `opsdesk` pauses collection as it
starts, and resumes it once the command is loaded, or for the console once its first frame
is drawn: what start-up made is frozen (`gc.freeze`: never walked again) and everything
after is collected as usual, so the console, `serve` and `poll` run for days as before.

Only a pause this module made is resumed: the console run in tests (`run_test`) or any
other process that never paused is left alone.
"""

from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    """Stop collecting until `resume` (the `opsdesk` command calls this first)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what start-up made and collect from here on, if `pause` stopped collection."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def freeze_at_exit() -> None:
    """The process ends now: the interpreter's last collections would walk every object
    only to free memory the OS takes back whole."""
    gc.freeze()
