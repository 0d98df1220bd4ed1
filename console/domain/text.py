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
# Invisible format characters (zero-width spaces and joiners, word joiners, soft hyphen,
# byte-order mark, invisible math operators, Unicode tags): "INC\u200b-12" looks exactly
# like "INC-12", so near-duplicates would look identical. A subdivision flag (black flag
# followed by tag characters) and a joiner between two non-ASCII characters (emoji
# sequences, Persian and Indic scripts) are real text and stay.
_INVISIBLE = re.compile(
    "(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)"  # a subdivision flag: keep
    "|[\u00ad\u180e\u200b-\u200f\u2060-\u2064\u206a-\u206f\ufeff\ufff9-\ufffb"
    "\U000e0001\U000e0020-\U000e007f]"
)
_JOINERS = "\u200c\u200d"


def _drop_invisible(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(1)
    char, text, at = match.group(), match.string, match.start()
    if char in _JOINERS and 0 < at < len(text) - 1:
        before, after = text[at - 1], text[at + 1]
        if not before.isascii() and not after.isascii() and not after.isspace():
            return char
    return ""


def clean(text: str, *, keep_newlines: bool = True, limit: int | None = None) -> str:
    """Return `text` without escape sequences, control characters, bidi overrides or
    invisible format characters.

    Tabs survive as-is; newlines survive unless `keep_newlines` is false (then they
    become spaces, for single-line cells). `limit` caps the length, ending with "…".
    """
    text = _ESCAPE_SEQUENCE.sub("", text)
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    text = _UNSAFE.sub("", text.replace("\r\n", "\n"))
    text = _INVISIBLE.sub(_drop_invisible, text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def one_line(text: str, limit: int | None = None) -> str:
    """Clean `text` for a table cell or a header: a single line, optionally capped."""
    return clean(text, keep_newlines=False, limit=limit)


def words(name: str) -> str:
    """A machine name (a snake_case state, reason or code, as JSON gives it) as text and
    the console show it: `in_progress` → `in progress`, `awaiting_vendor` → `awaiting
    vendor`. One rule for every face, so a state reads the same everywhere."""
    return name.replace("_", " ")
