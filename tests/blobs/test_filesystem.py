"""The filesystem BlobStore beyond the shared contract (test_store.py): its layout and durability."""

import hashlib
import os
from pathlib import Path

import pytest

from postvak.blobs.filesystem import FilesystemBlobStore

DATA = b"%PDF-1.7 encrypted bytes"
KEY = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_blobs_fan_out_over_two_directory_levels(store: FilesystemBlobStore, tmp_path: Path) -> None:
    store.put(KEY, DATA)

    assert _files(tmp_path / "blobs") == [tmp_path / "blobs" / KEY[:2] / KEY[2:4] / KEY]
    assert (tmp_path / "blobs" / KEY[:2] / KEY[2:4] / KEY).read_bytes() == DATA


def test_invalid_keys_create_no_directory(store: FilesystemBlobStore, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store.put("../x", DATA)
    assert not (tmp_path / "blobs").exists()


def test_put_leaves_no_temp_files(store: FilesystemBlobStore, tmp_path: Path) -> None:
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20)]
    for key in keys:
        store.put(key, key.encode())

    assert sorted(p.name for p in _files(tmp_path / "blobs")) == sorted(keys)


def test_failed_write_leaves_no_partial_blob(
    store: FilesystemBlobStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", crash)

    with pytest.raises(OSError, match="disk gone"):
        store.put(KEY, DATA)

    monkeypatch.undo()
    assert not store.exists(KEY)
    assert _files(tmp_path / "blobs") == []
