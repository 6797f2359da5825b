"""Opaque cursors for feeds: a tuple of non-negative 63-bit integers, 16 hex digits each."""

import re

from postvak.errors import ValidationFailed

_PART = 16  # hex digits of one integer; the first is 0-7, so every part fits a signed 64-bit column


def cursor_pattern(size: int) -> str:
    """Exactly the cursors of `size` integers that decode_cursor takes (a JSON Schema pattern)."""
    return f"^(?:[0-7][0-9a-f]{{{_PART - 1}}}){{{size}}}$"


def encode_cursor(*parts: int) -> str:
    return "".join(f"{p:0{_PART}x}" for p in parts)


def decode_cursor(cursor: str, size: int, field: str = "after") -> tuple[int, ...]:
    if not re.fullmatch(cursor_pattern(size), cursor):
        raise ValidationFailed(f"{field}: not a cursor returned by this API")
    return tuple(int(cursor[i : i + _PART], 16) for i in range(0, size * _PART, _PART))
