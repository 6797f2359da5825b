"""The text rule at the edge: controls, bidirectional controls, lone surrogates; escaping for logs."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.kit.text import BIDI_CONTROLS, LINE_BREAKS, escape_controls, text_pattern, text_problem


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


_AWKWARD = sorted(BIDI_CONTROLS | LINE_BREAKS | {"\x00", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"})


@given(
    st.text(
        alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(_AWKWARD)), max_size=12
    ),
    st.booleans(),
)
def test_the_documents_pattern_says_what_the_rule_says(value, multiline):
    # The OpenAPI document declares the rule as a pattern; a JSON Schema pattern is searched for,
    # so `$` must mean the end of the text (hence fullmatch here).
    declared = re.fullmatch(text_pattern(multiline=multiline), value) is not None
    assert declared == (text_problem(value, multiline=multiline) is None)


def test_a_long_clean_text_is_judged_at_once_and_a_late_fault_still_found():
    clean = "Geachte heer,\n\tUw aanslag. " * 50_000
    assert text_problem(clean, multiline=True) is None
    assert text_problem(clean + "\u202e", multiline=True) == (
        "may not contain the bidirectional control character U+202E"
    )
