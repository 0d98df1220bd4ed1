"""store/pg/search.py: typed filter text as a to_tsquery('simple', ...) string (pure; the
queries themselves run against PostgreSQL in tests/test_pg_schema.py)."""

from __future__ import annotations

import pytest

from opsdesk.store.pg.search import MAX_SEARCH_WORDS, quote_lexeme, tsquery_text, words


@pytest.mark.parametrize(
    ("text", "query"),
    [
        ("disk ful", "'disk':* & 'ful':*"),
        ("db-01.example.com", "'db':* & '01':* & 'example':* & 'com':*"),
        ("lb_eu-west", "'lb':* & 'eu':* & 'west':*"),  # '_' separates, as in unicode61
        ("Zoë DÉJÀ", "'Zoë':* & 'DÉJÀ':*"),  # case is to_tsquery's to fold, as the column's
        ("a & b | !c <-> (d):*", "'a':* & 'b':* & 'c':* & 'd':*"),
        ("it's", "'it':* & 's':*"),
        ("", ""),
        ("  -- '' \\ ", ""),
    ],
)
def test_words_become_anded_prefix_lexemes_and_syntax_stays_text(text: str, query: str) -> None:
    assert tsquery_text(text) == query


def test_at_most_sixteen_words_and_long_words_are_cut() -> None:
    assert len(words(" ".join(f"w{i}" for i in range(40)))) == MAX_SEARCH_WORDS
    assert words("x" * 5000) == ["x" * 200]


def test_a_lexeme_is_quoted_with_its_quote_and_backslash_escaped() -> None:
    # words() never yields these characters; quote_lexeme holds on its own anyway.
    assert quote_lexeme("a'b\\c") == "'a''b\\\\c'"
