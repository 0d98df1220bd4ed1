from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsdesk.console.config.durations import format_duration, parse_duration
from opsdesk.console.domain.text import clean, one_line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(minutes=90)),
        (" 30S ", timedelta(seconds=30)),
    ],
)
def test_valid_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["15", "m", "-5m", "1.5h", "15 minutes", "", "1y", "h1"])
def test_invalid_durations_name_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match='expected a duration like "15m"'):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_duration_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\x1b]0;pwned\x07title", "title"),
        ("\x1b]52;c;ZXZpbA==\x07copy", "copy"),
        ("\x1b[2J\x1b[31mred\x1b[0m", "red"),
        ("a\x00b\x07c\x7fd\x85e", "abcde"),
        ("left\u202eright", "leftright"),
        ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ("[@click=app.quit]x[/]", "[@click=app.quit]x[/]"),
    ],
)
def test_clean_removes_escapes_and_controls(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_one_line_and_cap() -> None:
    assert one_line("a\r\nb\nc") == "a b c"
    assert one_line("x" * 100, limit=10) == "x" * 9 + "…"


@given(st.text())
def test_cleaned_text_has_no_control_characters(text: str) -> None:
    out = clean(text)
    assert not any(ord(c) < 32 and c not in "\t\n" for c in out)
    assert not any(0x7F <= ord(c) <= 0x9F for c in out)
