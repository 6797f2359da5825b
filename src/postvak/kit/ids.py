"""Identifiers: time-ordered UUIDv7 for rows, and random secrets."""

import os
import time
import uuid


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): millisecond time prefix, so new rows land at the end of indexes."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    return uuid.UUID(int=value)


def parse_id(text: str) -> uuid.UUID | None:
    """The UUID in `text`, or None when it is not one (an unknown id is simply not found)."""
    try:
        return uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        return None
