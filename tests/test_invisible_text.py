"""Invisible format characters cannot make two different titles look the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsdesk.console.domain.text import clean, one_line


@pytest.mark.parametrize(
    "raw",
    [
        "INC\u200b-12 checkout down",  # zero-width space
        "INC-12 check\u00adout down",  # soft hyphen
        "\ufeffINC-12 checkout down",  # byte-order mark
        "INC-12\u2060 checkout down",  # word joiner
        "INC-12 checkout\u200d down",  # joiner between ASCII letters
        "INC-12 check\u200eout down",  # left-to-right mark
        "INC-12 \U000e0069\U000e0067checkout down",  # tag characters ("ASCII smuggling")
        "INC-12 check\u2062out down",  # invisible times
    ],
)
def test_invisible_characters_are_removed(raw: str) -> None:
    assert clean(raw) == "INC-12 checkout down"
    assert one_line(raw) == "INC-12 checkout down"


@pytest.mark.parametrize(
    "text",
    [
        "family \U0001f468\u200d\U0001f469\u200d\U0001f467 on call",  # an emoji sequence
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: ZWNJ between letters
        "Scotland \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "price 5\u00a0€ and naïve café",
    ],
)
def test_joiners_inside_real_text_and_subdivision_flags_stay(text: str) -> None:
    assert clean(text) == text


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30))
def test_an_ascii_title_with_invisibles_sprinkled_in_reads_back_as_itself(title: str) -> None:
    sprinkled = "\u200b".join(title) + "\u2060\ufeff\u00ad"
    assert clean(sprinkled) == title
