"""Adversarial text for the untrusted-text tests: what ticket text, vendor payloads and
alert labels can carry, and a check for what must never reach a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "status"

HOSTILE: dict[str, str] = {
    "markup": "[bold red]MARKUP[/] [reverse]x[/reverse]",
    "action link": "[@click=app.quit]CLICKME[/]",
    "link": "[link=https://evil.example]LINKY[/link]",
    "title OSC 0": "\x1b]0;PWNED-TITLE\x07after",
    "title OSC 2 (ST)": "\x1b]2;PWNED-TITLE\x1b\\after",
    "clipboard OSC 52": "\x1b]52;c;cm0gLXJmIH4K\x07after",
    "clear screen CSI": "\x1b[2J\x1b[H\x1b[31mRED\x1b[0m",
    "device query": "\x1b[6n\x1b[c\x1b[21t",
    "DCS": "\x1bP+q544e\x1b\\after",
    "8-bit CSI/OSC": "\x9b31m\x9d0;PWNED-TITLE\x9c",
    "C0 and NUL": "a\x00b\x01c\x07d\x08e\x0bf\x0cg\rh\x7fi",
    "bidi override": "\u202eevil.exe\u202c \u2066iso\u2069",
    "wide and emoji": "漢字テスト 🚨👩‍💻 ｗｉｄｅ",
    "right to left": "שלום עולם مرحبا",
    "long line": "L" * 100_000,
}
# Visible words each string must still show (markup printed, not applied).
LITERAL = ("[bold red]MARKUP[/]", "[@click=app.quit]CLICKME[/]", "[link=https://evil.example]")
INVALID_UTF8 = b"\xff\xfe\xc3(\xed\xa0\x80"

# Everything a terminal acts on: ESC, other C0 controls but tab and newline, DEL, C1,
# and the bidi controls that reorder what is shown.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: TOML allows no raw control character but tab, so
    they are written as escapes (which the config loader turns back into the real ones)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def unsafe_in(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text)})


def short(name: str) -> str:
    """The string capped to fit where the store caps text (titles are 300)."""
    return HOSTILE[name][:250]


def _poison(value: Any, keys: frozenset[str], strings: list[str], n: list[int]) -> Any:
    if isinstance(value, dict):
        return {
            k: (strings[(n.__setitem__(0, n[0] + 1) or n[0]) % len(strings)]
                if k in keys and isinstance(v, str) else _poison(v, keys, strings, n))
            for k, v in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        return [_poison(v, keys, strings, n) for v in value]
    return value


TEXT_KEYS = frozenset({"name", "description", "body", "summary", "title", "message", "text",
                       "alertname", "service", "team", "instance", "job"})  # fmt: skip


def poisoned_fixture(relative: str) -> bytes:
    """A real recorded payload with every human-readable string replaced by hostile text."""
    data = json.loads((FIXTURES / relative).read_bytes())
    return json.dumps(_poison(data, TEXT_KEYS, list(HOSTILE.values()), [0])).encode()


def hostile_feed() -> bytes:
    items = "".join(
        f"<item><title>{_xml(v)}</title><description>{_xml(v)}</description>"
        f"<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate><guid>{n}</guid></item>"
        for n, v in enumerate(HOSTILE.values())
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def _xml(text: str) -> str:
    """XML-escape, dropping the C0 controls XML 1.0 cannot carry at all (a feed holding
    them is refused whole, which tests/test_adapter_fuzz.py covers)."""
    text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
