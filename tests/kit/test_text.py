"""The text rule at the edge: controls, bidirectional controls, lone surrogates; escaping for logs."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.kit.text import escape_controls, text_problem


@pytest.mark.parametrize(
    ("value", "multiline", "problem"),
    [
        ("Aanslag 2027", False, None),
        ("Ĳsselmeer — café «ok» 東京 😀", False, None),
        ("مرحبا بالعالم", False, None),  # right-to-left text needs no control characters
        ("regel 1\nregel 2\ttab\r\n", True, None),
        ("regel 1\nregel 2", False, "may not contain a line break or tab (U+000A)"),
        ("tab\there", False, "may not contain a line break or tab (U+0009)"),
        ("line\u2028sep", False, "may not contain a line break or tab (U+2028)"),
        ("factuur\u202efdp.exe", False, "may not contain the bidirectional control character U+202E"),
        ("a\u2066b", True, "may not contain the bidirectional control character U+2066"),
        ("a\u202ab", True, "may not contain the bidirectional control character U+202A"),
        ("bell\x07", True, "may not contain the control character U+0007"),
        ("esc\x1b]0;title", True, "may not contain the control character U+001B"),
        ("del\x7f", False, "may not contain the control character U+007F"),
        ("c1\x85", True, "may not contain the control character U+0085"),
        ("nul\x00", True, "may not contain the control character U+0000"),
        ("lone \ud800 surrogate", True, "may not contain a lone surrogate (U+D800)"),
    ],
)
def test_text_problem(value, multiline, problem):
    assert text_problem(value, multiline=multiline) == problem


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))))
def test_text_without_controls_passes(value):
    value = "".join(c for c in value if c not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert text_problem(value) is None


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("/api/v1/messages", "/api/v1/messages"),
        ("/api/v1/nope\x1b]0;pwned\x07", "/api/v1/nope\\x1b]0;pwned\\x07"),
        ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
        ("factuur\u202efdp.exe", "factuur\\u202efdp.exe"),
        ("lone\ud800", "lone\\ud800"),
        ("café 東京", "café 東京"),
    ],
)
def test_escape_controls(raw, escaped):
    assert escape_controls(raw) == escaped


@given(st.text())
def test_escaped_text_is_one_printable_line(value):
    out = escape_controls(value)
    assert "\n" not in out and "\r" not in out and "\x1b" not in out
    assert text_problem(out) is None
