"""Text from outside: which characters it may not carry, and how to show it safely in a log line."""

from __future__ import annotations

import re
import unicodedata

# Characters that reorder what a reader sees ("factuur\u202efdp.exe" shows as "factuurexe.pdf"):
# the embeddings and overrides, and the isolates.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\t\n\r")  # allowed only in fields that are multi-line by nature
_SEPARATORS = frozenset("\u2028\u2029")  # Unicode's own line and paragraph separators

# The same rule as JSON Schema patterns (ECMA-262), for the OpenAPI document. Lone surrogates are
# left out: a pattern cannot name them portably, and JSON carries one only as an escape ("\ud800").
_NEVER = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_BREAKS = r"\t\n\r\u2028\u2029"


def text_pattern(*, multiline: bool = False, also_refused: str = "") -> str:
    """text_problem as a JSON Schema pattern; `also_refused` adds characters (regex class syntax)."""
    return f"^[^{'' if multiline else _BREAKS}{_NEVER}{also_refused}]*$"


SINGLE_LINE_PATTERN = text_pattern()
MULTILINE_PATTERN = text_pattern(multiline=True)

# A quick scan first: nearly all text is clean, and a message's body may be a mebibyte long.
_SUSPECT = {
    False: re.compile(rf"[{_BREAKS}{_NEVER}\ud800-\udfff]"),
    True: re.compile(rf"[{_NEVER}\ud800-\udfff]"),
}


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as text, or None.

    Refused everywhere: control characters (C0, DEL, C1), bidirectional controls and lone
    surrogates (JSON can carry "\\ud800", no database can store it). Tabs and line breaks
    only where `multiline`. The reason names the first bad character by its code point.
    """
    if not _SUSPECT[multiline].search(value):
        return None
    for char in value:
        if char in LINE_BREAKS or char in _SEPARATORS:
            if multiline:
                continue
            return f"may not contain a line break or tab ({_code(char)})"
        if char in BIDI_CONTROLS:
            return f"may not contain the bidirectional control character {_code(char)}"
        category = unicodedata.category(char)
        if category == "Cc":
            return f"may not contain the control character {_code(char)}"
        if category == "Cs":
            return f"may not contain a lone surrogate ({_code(char)})"
    return None


def escape_controls(text: str) -> str:
    """`text` with every control, bidirectional control and line break written as an escape (\\x1b,
    \\u202e): a log line stays one line, and nothing in it can steer an operator's terminal."""
    if text.isprintable():
        return text
    return "".join(_escaped(c) for c in text)


def _escaped(char: str) -> str:
    if char.isprintable() and char not in BIDI_CONTROLS:
        return char
    point = ord(char)
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"
