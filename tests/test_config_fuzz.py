"""Hypothesis-generated configs: documents shaped like ours (known sections and field
names with values of every TOML type) and plain garbage. `opsdesk config check` either
accepts them or exits 2 with one line naming the file and the key: never a traceback,
never an "internal error"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsdesk.console.cli import run

SECTIONS = ["store", "ui", "keys", "people", "roles", "priority", "sla", "queue", "services",
            "vendors", "sources", "schedules", "escalation_policies", "freeze_windows",
            "changes", "plugins"]  # fmt: skip
FIELDS = ["login", "name", "email", "timezone", "members", "rotation", "start", "restrict",
          "days", "from", "to", "layers", "plugin", "url", "interval", "timeout", "retries",
          "vendor", "service", "token_env", "token_header", "matrix", "respond", "resolve",
          "calendar", "holidays", "tier", "vendors", "levels", "schedule", "after", "person",
          "type", "risk", "cab", "lead", "admin", "theme", "mouse", "path", "group", "end",
          "reopen_days", "auto_assign", "contract", "renewal", "notice", "cost", "priorities",
          "approval_rules", "risk_questions", "id", "weight", "files", "services",
          "open_incidents", "expect_status", "P1", "business"]  # fmt: skip

scalars = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["1h", "30m", "UTC", "America/New_York", "mon", "09:00", "P1", "statuspage",
                     "http://127.0.0.1:9", "ana", "2026-01-05T09:00", "low", "normal", ""]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.just(dt.UTC) | st.none()),
    st.times(),
)  # fmt: skip
keys = st.sampled_from(FIELDS) | st.text(min_size=1, max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
sections = st.dictionaries(
    st.sampled_from(SECTIONS) | st.text(min_size=1, max_size=6),
    st.dictionaries(keys, values, max_size=5)
    | st.lists(st.dictionaries(keys, values, max_size=5), max_size=3),
    max_size=5,
)


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--config", str(path), "--store", str(path.with_suffix(".db")), "config", "check"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    if code == 0:
        return
    assert code == 2, (code, captured.err)
    assert captured.err.count("\n") == 1 and captured.err.startswith("opsdesk: "), captured.err
    assert str(path) in captured.err or path.name in captured.err, captured.err


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=sections)
def test_config_shaped_documents_give_one_line_or_pass(
    document: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fuzz.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    check(path, capsys)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_garbage_configs_give_one_line(
    raw: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "garbage.toml"
    path.write_bytes(raw)
    check(path, capsys)
