"""The BlobStore port: where encrypted attachment bytes live, keyed by content hash."""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

# Every store takes only hex keys: no separators, dots or drive letters can slip into a path or an object
# name, and no upper case can give one blob two names.
_KEY = re.compile(r"[0-9a-f]{16,128}")


class BlobMissing(Exception):
    """No blob is stored under this key."""


def check_key(key: str) -> str:
    """The key itself when a store may use it; raises ValueError otherwise."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}")
    return key


@runtime_checkable
class BlobStore(Protocol):
    """Keys name content, so a put under an existing key may be skipped as a no-op."""

    def put(self, key: str, data: bytes) -> None:
        """Store atomically: after a crash the key holds all of `data` or nothing."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes under `key`; raises BlobMissing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing key is not an error."""
        ...
