"""The BlobStore port: where encrypted attachment bytes live, keyed by content hash."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class BlobMissing(Exception):
    """No blob is stored under this key."""


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
