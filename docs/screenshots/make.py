"""Regenerate the README screenshots: python docs/screenshots/make.py [NAME...] (writes
SVGs here, and review-report.png, the HTML service review as Debian's chromium draws it;
names pick some: queue oncall vendors changes review review-report)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from opsdesk.console.domain.review_period import month_period, team_zone
from opsdesk.console.ops.demo import build_demo
from opsdesk.console.ops.review_html import render_review_html
from opsdesk.console.ops.service_review import build_review
from opsdesk.console.ops.session import Options, open_session
from opsdesk.console.tui.app import OpsdeskApp

HERE = Path(__file__).parent
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def main(wanted: set[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.db"
        await build_demo(store, incidents=5000, seed=7, now=NOW, creator="ana")
        for keys, name in (
            ([], "queue"),
            (["2"], "oncall"),
            (["3"], "vendors"),
            (["4"], "changes"),
            (["6", "s"], "review"),  # its Service levels section: bars and breaches
        ):
            if wanted and name not in wanted:
                continue
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
        if not wanted or "review-report" in wanted:
            await review_report(store, Path(folder))


async def review_report(store: Path, folder: Path) -> None:
    """The HTML service review of the demo's month, drawn by a headless chromium."""
    browser = shutil.which("chromium")
    if browser is None:
        print("chromium is not installed: review-report.png not made")
        return
    session = await open_session(Options(store=str(store)), login="ana")
    try:
        period = month_period(f"{NOW:%Y-%m}", team_zone(session.config))
        review = await build_review(session.store, session.config, period, NOW)
    finally:
        await session.close()
    page = folder / "review.html"
    page.write_text(render_review_html(review), encoding="utf-8")
    await asyncio.to_thread(shoot, browser, page, folder)


def shoot(browser: str, page: Path, folder: Path) -> None:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={folder / 'chromium'}", "--hide-scrollbars",
         "--window-size=1000,1500", f"--screenshot={HERE / 'review-report.png'}",
         page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
