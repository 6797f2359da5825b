"""The BlobStore contract, held by every store: the filesystem (default) and S3 (moto on loopback)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from postvak.blobs.filesystem import FilesystemBlobStore
from postvak.blobs.s3 import S3BlobStore
from postvak.blobs.store import BlobMissing, BlobStore

DATA = b"%PDF-1.7 encrypted bytes"
KEY = hashlib.sha256(DATA).hexdigest()
MiB = 1024 * 1024


@dataclass
class Subject:
    store: BlobStore
    stored: Callable[[], list[str]]  # the names of everything the store holds, seen from outside it


@pytest.fixture(params=["filesystem", "s3"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "filesystem":
        root = tmp_path / "blobs"
        return Subject(
            FilesystemBlobStore(root), lambda: sorted(p.name for p in root.rglob("*") if p.is_file())
        )
    bucket = request.getfixturevalue("s3_bucket")
    # S3's smallest part: the large blob below then goes up in three parts.
    store = S3BlobStore(bucket.name, "blobs", multipart_threshold=5 * MiB, part_size=5 * MiB)
    return Subject(store, lambda: sorted(name.removeprefix("blobs/") for name in bucket.objects()))


def test_implements_the_port(subject: Subject) -> None:
    assert isinstance(subject.store, BlobStore)


def test_put_get_exists_delete(subject: Subject) -> None:
    store = subject.store
    assert not store.exists(KEY)

    store.put(KEY, DATA)

    assert store.exists(KEY)
    assert store.get(KEY) == DATA
    assert subject.stored() == [KEY]

    store.delete(KEY)

    assert not store.exists(KEY)
    with pytest.raises(BlobMissing):
        store.get(KEY)
    assert subject.stored() == []


def test_put_is_idempotent(subject: Subject) -> None:
    subject.store.put(KEY, DATA)
    subject.store.put(KEY, DATA)

    assert subject.store.get(KEY) == DATA
    assert subject.stored() == [KEY]


def test_get_missing_raises(subject: Subject) -> None:
    with pytest.raises(BlobMissing):
        subject.store.get("ab" * 32)


def test_delete_missing_is_not_an_error(subject: Subject) -> None:
    subject.store.delete("ab" * 32)


def test_empty_blob(subject: Subject) -> None:
    subject.store.put("0" * 64, b"")

    assert subject.store.get("0" * 64) == b""


def test_each_key_keeps_its_own_bytes(subject: Subject) -> None:
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20)]
    for key in keys:
        subject.store.put(key, key.encode())

    assert [subject.store.get(key) for key in keys] == [key.encode() for key in keys]
    assert subject.stored() == sorted(keys)


def test_a_large_blob_comes_back_byte_for_byte(subject: Subject) -> None:
    data = hashlib.sha256(b"seed").digest() * (12 * MiB // 32) + b"tail"

    subject.store.put(KEY, data)

    assert subject.store.get(KEY) == data
    assert subject.stored() == [KEY]


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
def test_invalid_keys_are_rejected(subject: Subject, key: str) -> None:
    store = subject.store
    for call in (
        lambda: store.put(key, DATA),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError):
            call()
    assert subject.stored() == []
