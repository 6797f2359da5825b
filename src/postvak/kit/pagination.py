"""Opaque cursors for feeds: a tuple of integers, base64url-encoded."""

import base64

from postvak.errors import ValidationFailed


def encode_cursor(*parts: int) -> str:
    raw = ".".join(str(p) for p in parts).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int, field: str = "after") -> tuple[int, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = tuple(int(p) for p in base64.urlsafe_b64decode(padded).decode().split("."))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"{field}: not a cursor returned by this API") from exc
    if len(parts) != size or any(p < 0 for p in parts):
        raise ValidationFailed(f"{field}: not a cursor returned by this API")
    return parts
