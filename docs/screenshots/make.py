"""Regenerate the README screenshots: python docs/screenshots/make.py (writes SVGs here)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.session import Options
from opsdesk.console.tui.app import OpsdeskApp

HERE = Path(__file__).parent
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.db"
        await build_demo(store, incidents=5000, seed=7, now=NOW, creator="ana")
        for keys, name in (
            ([], "queue"),
            (["2"], "oncall"),
            (["3"], "vendors"),
            (["4"], "changes"),
        ):
            app = OpsdeskApp(
                Options(store=str(store)),
                clock=lambda: NOW,
                handle_hangup=False,
                poll_interval=0,
                login="ana",
            )
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause()
                await app.workers.wait_for_complete()
                for key in keys:
                    await pilot.press(key)
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                await pilot.pause()
                app.save_screenshot(filename=f"{name}.svg", path=str(HERE))


if __name__ == "__main__":
    asyncio.run(main())
