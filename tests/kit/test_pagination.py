"""Feed cursors: what the document's pattern allows is exactly what decode_cursor takes."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.errors import ValidationFailed
from postvak.kit.pagination import cursor_pattern, decode_cursor, encode_cursor

_INT63 = st.integers(min_value=0, max_value=2**63 - 1)


@given(_INT63, _INT63)
def test_a_cursor_reads_back_as_the_position_it_encodes(tx_seq, event_id):
    cursor = encode_cursor(tx_seq, event_id)
    assert re.fullmatch(cursor_pattern(2), cursor)
    assert decode_cursor(cursor, 2) == (tx_seq, event_id)


@given(st.from_regex(cursor_pattern(2), fullmatch=True))
def test_every_string_the_pattern_allows_is_a_cursor(cursor):
    assert all(0 <= part < 2**63 for part in decode_cursor(cursor, 2))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        "MTIuMzQ",  # the old base64 form
        "0" * 31,
        "0" * 33,
        "8" + "0" * 31,  # beyond a signed 64-bit column
        "0" * 16 + "F" * 16,  # upper case
        "0" * 16 + "0" * 15 + "\u0661",  # an Arabic-Indic digit
        "0" * 31 + "\n",
    ],
)
def test_anything_else_is_refused_naming_the_parameter(cursor):
    with pytest.raises(ValidationFailed, match="^after: "):
        decode_cursor(cursor, 2)
