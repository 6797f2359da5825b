"""Tests for the filesystem BlobStore."""

import hashlib
import os
from pathlib import Path

import pytest

from postvak.blobs.filesystem import FilesystemBlobStore
from postvak.blobs.store import BlobMissing, BlobStore

DATA = b"%PDF-1.7 encrypted bytes"
KEY = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_implements_the_port(store: FilesystemBlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_put_get_exists_delete(store: FilesystemBlobStore, tmp_path: Path) -> None:
    assert not store.exists(KEY)

    store.put(KEY, DATA)

    assert store.exists(KEY)
    assert store.get(KEY) == DATA
    assert (tmp_path / "blobs" / KEY[:2] / KEY[2:4] / KEY).read_bytes() == DATA

    store.delete(KEY)

    assert not store.exists(KEY)
    with pytest.raises(BlobMissing):
        store.get(KEY)


def test_put_is_idempotent(store: FilesystemBlobStore, tmp_path: Path) -> None:
    store.put(KEY, DATA)
    store.put(KEY, DATA)

    assert store.get(KEY) == DATA
    assert _files(tmp_path / "blobs") == [tmp_path / "blobs" / KEY[:2] / KEY[2:4] / KEY]


def test_get_missing_raises(store: FilesystemBlobStore) -> None:
    with pytest.raises(BlobMissing):
        store.get("ab" * 32)


def test_delete_missing_is_not_an_error(store: FilesystemBlobStore) -> None:
    store.delete("ab" * 32)


def test_empty_blob(store: FilesystemBlobStore) -> None:
    store.put("0" * 64, b"")

    assert store.get("0" * 64) == b""


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "../../../../etc/passwd",
        "/etc/passwd",
        "ab/cd/" + "a" * 32,
        "A" * 64,  # upper case would give two names for one blob
        "a" * 15,
        "a" * 129,
        "a" * 64 + "\n",
        "g" * 64,
        "",
    ],
)
def test_invalid_keys_are_rejected(store: FilesystemBlobStore, tmp_path: Path, key: str) -> None:
    for call in (
        lambda: store.put(key, DATA),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError):
            call()
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
