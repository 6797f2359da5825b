"""The default BlobStore: one file per blob under a local directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from postvak.blobs.store import BlobMissing, check_key
from postvak.kit.files import fsync_dir


class FilesystemBlobStore:
    """Blobs at root/ab/cd/<key>; the two fan-out levels keep directories small."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return  # same key, same content: the first write stands
        self._make_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry is on disk.
        fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(path.parent)

    def _path(self, key: str) -> Path:
        check_key(key)
        return self._root / key[:2] / key[2:4] / key

    def _make_dirs(self, leaf: Path) -> None:
        if leaf.is_dir():
            return
        leaf.mkdir(parents=True, exist_ok=True)
        # New fan-out directories must be durable too, or the blob can vanish with them.
        fsync_dir(leaf.parent)
        fsync_dir(leaf.parent.parent)
