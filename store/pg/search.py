"""What a person typed in the queue filter, as a PostgreSQL text-search query.

The PostgreSQL counterpart of store/incidents.py `fts_query` (FTS5): every word must
appear, each as a word prefix ("disk ful" finds "Disk full"), in any of the incident's
title, description, service and assignee. It is used as

    search @@ to_tsquery('simple', %s)

against the `incidents.search` column (store/pg/migrations/0001_schema.sql). Words are
what FTS5's unicode61 tokenizer and that column's regexp_replace split on: runs of
letters and digits, so punctuation in the input ("db-01.example.com", "a&b", "x:*",
quotes, backslashes, parentheses) is only ever a word boundary, never tsquery syntax.
Each word is written as a quoted lexeme anyway, its quote and backslash escaped, so no
text can make to_tsquery raise a syntax error.
"""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+")
"""Letters and digits (Unicode), as unicode61 tokenizes: '_' separates words there too."""
MAX_SEARCH_WORDS = 16
"""As store/incidents.py: the words after the 16th are ignored."""
MAX_WORD_CHARS = 200
"""A longer word is searched by its first 200 characters (still a prefix of itself), well
under PostgreSQL's 2,047-byte lexeme limit, which would otherwise be an error."""


def words(text: str) -> list[str]:
    """The words of `text` a search looks for, in order, at most MAX_SEARCH_WORDS."""
    return [word[:MAX_WORD_CHARS] for word in WORD.findall(text)[:MAX_SEARCH_WORDS]]


def quote_lexeme(word: str) -> str:
    """`word` as a quoted tsquery lexeme: inside quotes, a quote is doubled and a
    backslash escaped, so the word is only ever text."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(text: str) -> str:
    """The to_tsquery('simple', ...) text for `text`: its words ANDed, each a prefix
    ("disk ful" gives "'disk':* & 'ful':*"). Text without words gives "", the empty
    query: `search @@ to_tsquery('simple', '')` is false for every row (PostgreSQL says
    so in a NOTICE), as FTS5's '""' matches nothing."""
    return " & ".join(f"{quote_lexeme(word)}:*" for word in words(text))
