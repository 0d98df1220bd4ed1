"""`opsdesk plugins new NAME`: a ready-to-install plugin package — pyproject with the
entry point, an adapter, a recorded payload and a test that serves it over real HTTP on
127.0.0.1 — whose own test passes as generated. The same adapter is the worked example
in docs/plugins.md."""

from __future__ import annotations

import re
from pathlib import Path

from opsdesk.console.errors import OpsdeskError, UsageError

NAME = re.compile(r"[a-z][a-z0-9_]{1,30}")

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "opsdesk-{dashed}"
version = "0.1.0"
description = "opsdesk status plugin: {name}"
requires-python = ">=3.11"
dependencies = ["opsdesk", "httpx"]

[project.entry-points."opsdesk.plugins"]
{name} = "opsdesk_{name}.adapter:{cls}"

[tool.setuptools]
packages = ["opsdesk_{name}"]

[tool.pytest.ini_options]
pythonpath = ["."]
"""

ADAPTER = '''"""opsdesk plugin `{name}`: reads a JSON health endpoint that answers
{{"status": "up" | "degraded" | "down", "message": "...", "checks": {{"db": "up", ...}}}}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from opsdesk.plugins.api import (
    Adapter,
    Component,
    Level,
    Source,
    StatusReport,
    as_dict,
    get_json,
    text,
    worst,
)

LEVELS: dict[str, Level] = {{
    "up": "operational",
    "degraded": "degraded",
    "down": "major_outage",
}}


@dataclass
class {cls}Options:
    path: str = "/health"
    """Appended to the source's url."""


class {cls}(Adapter):
    name = "{name}"
    description = "JSON health endpoint (status, message, checks)"
    Options = {cls}Options

    async def fetch(self, client: httpx.AsyncClient, source: Source) -> StatusReport:
        url = source.url.rstrip("/") + source.options.path
        return report_from(await get_json(client, source, url), url)


def report_from(data: Any, url: str) -> StatusReport:
    """Everything here came from the network: missing keys, wrong types and unknown
    values must give a report (or AdapterError), never a crash."""
    data = as_dict(data)
    components = tuple(
        Component(text(name, 100), LEVELS.get(str(value), "unknown"))
        for name, value in as_dict(data.get("checks")).items()
    )
    level = LEVELS.get(str(data.get("status")), "unknown")
    if components:
        level = worst([level, *(c.level for c in components)])
    return StatusReport(level, text(data.get("message"), 200) or level, components, link=url)
'''

PAYLOAD = """{{"status": "degraded", "message": "replica lag above 30 s",
 "checks": {{"db": "degraded", "queue": "up", "cache": "sideways"}}}}
"""

TEST = '''"""The plugin against a recorded payload served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from opsdesk.plugins.api import Source
from opsdesk_{name}.adapter import {cls}, {cls}Options, report_from

PAYLOAD = (Path(__file__).parent / "payload.json").read_bytes()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args: object) -> None:
        return


def test_recorded_payload_over_http() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{{server.server_address[1]}}"

    async def fetch():
        async with httpx.AsyncClient() as client:
            return await {cls}().fetch(client, Source("{name}", url, {cls}Options()))

    try:
        report = asyncio.run(fetch())
    finally:
        server.shutdown()
    assert report.level == "degraded"
    assert report.summary == "replica lag above 30 s"
    assert {{c.name: c.level for c in report.components}} == {{
        "db": "degraded", "queue": "operational", "cache": "unknown",
    }}


def test_garbage_is_a_report_not_a_crash() -> None:
    for data in (None, [], {{"status": 5}}, {{"checks": [1, 2]}}, {{"checks": {{"x": None}}}}):
        assert report_from(data, "http://x").level in ("unknown", "operational")
'''

README = """# opsdesk-{dashed}

An [opsdesk](https://example.invalid/opsdesk) status plugin (`{name}`).

    pip install -e .          # registers the `{name}` plugin (opsdesk plugins list)
    python -m pytest          # its test, against a recorded payload on 127.0.0.1

Use it in opsdesk's config:

    [[sources]]
    name = "billing-api"
    plugin = "{name}"
    url = "https://billing.internal"
    path = "/health"          # this plugin's own option
    interval = "1m"
"""


def scaffold(name: str, folder: Path) -> Path:
    """Write the package for plugin `name` under `folder`; return its directory."""
    if not NAME.fullmatch(name):
        raise UsageError(
            f"plugin name {name!r}: 2-31 lower-case letters, digits or _, starting with a letter"
        )
    dashed = name.replace("_", "-")
    target = folder / f"opsdesk-{dashed}"
    if target.exists():
        raise OpsdeskError(f"{target} already exists; pick another --dir or name")
    cls = "".join(part.capitalize() for part in name.split("_")) + "Adapter"
    values = {"name": name, "dashed": dashed, "cls": cls}
    files = {
        "pyproject.toml": PYPROJECT,
        f"opsdesk_{name}/__init__.py": '"""opsdesk plugin {name}."""\n',
        f"opsdesk_{name}/adapter.py": ADAPTER,
        "tests/payload.json": PAYLOAD,
        "tests/test_adapter.py": TEST,
        "README.md": README,
    }
    try:
        for relative, template in files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(template.format(**values))
    except OSError as exc:
        raise OpsdeskError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return target
