"""Untrusted text into Markdown that renders literally.

A review is pasted into a wiki: a title like "[click](javascript:...)", "<img onerror=...>",
"# Heading", "`code`" or "| a | b |" must show as those characters, not become a link,
HTML, a heading, code or a table. Every Markdown-active ASCII character is backslash-
escaped (CommonMark: any ASCII punctuation may be), HTML's <, > and & become entities, and
control characters, escape sequences and bidi overrides are removed first (text.clean).
"""

from __future__ import annotations

import re

from opsdesk.console.domain.text import clean

# Characters that start or end Markdown constructs anywhere in a line.
_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:=])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape_line(line: str) -> str:
    escaped = _ACTIVE.sub(r"\\\1", line)
    # Entities after backslashes, so "\&lt;" never appears as a broken escape.
    return "".join(_HTML.get(char, char) for char in escaped)


def escape(text: str) -> str:
    """`text` as Markdown showing exactly its characters, line breaks kept as hard breaks
    within one paragraph (a blank line in it still starts a new paragraph)."""
    lines = clean(text).split("\n")
    out = []
    for line in lines:
        stripped = line.strip()
        # Leading spaces would make an indented code block; trailing ones a hard break.
        out.append(_escape_line(stripped) if stripped else "")
    return "  \n".join(out).replace("  \n  \n", "\n\n")


def inline(text: str) -> str:
    """`text` as one line of literal Markdown (a table cell, a heading, a list item)."""
    return _escape_line(" ".join(clean(text, keep_newlines=False).split()))
