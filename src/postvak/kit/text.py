"""Text from outside: which characters it may not carry, and how to show it safely in a log line."""

from __future__ import annotations

import unicodedata

# Characters that reorder what a reader sees ("factuur\u202efdp.exe" shows as "factuurexe.pdf"):
# the embeddings and overrides, and the isolates.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\t\n\r")  # allowed only in fields that are multi-line by nature
_SEPARATORS = frozenset("\u2028\u2029")  # Unicode's own line and paragraph separators


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as text, or None.

    Refused everywhere: control characters (C0, DEL, C1), bidirectional controls and lone
    surrogates (JSON can carry "\\ud800", no database can store it). Tabs and line breaks
    only where `multiline`. The reason names the first bad character by its code point.
    """
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
