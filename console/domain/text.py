"""Neutralise untrusted text before it is stored or drawn.

Ticket text, vendor payloads and config values can carry terminal escape sequences
(set title, OSC 52 clipboard writes, device queries whose answers come back as
keystrokes), C0/C1 controls and bidi overrides. Textual passes those through to the
terminal, so they are removed where text enters the program and again where it is
drawn. Markup is a separate hole: render with `Content`/`Text`, never parse it.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, C1 controls, and the bidi embedding/override/isolate
# characters that can make a line read differently from what it contains.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Whole ESC/CSI/OSC sequences, so their parameters do not survive as visible noise.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|\x9d[^\x07\x9c]*(?:\x07|\x9c)?"  # 8-bit OSC
)


def clean(text: str, *, keep_newlines: bool = True, limit: int | None = None) -> str:
    """Return `text` without escape sequences, control characters or bidi overrides.

    Tabs survive as-is; newlines survive unless `keep_newlines` is false (then they
    become spaces, for single-line cells). `limit` caps the length, ending with "…".
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = _UNSAFE.sub("", text.replace("\r\n", "\n"))
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def one_line(text: str, limit: int | None = None) -> str:
    """Clean `text` for a table cell or a header: a single line, optionally capped."""
    return clean(text, keep_newlines=False, limit=limit)
