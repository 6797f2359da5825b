"""Encryption at rest: AES-256-GCM envelope encryption under rotating key-encryption keys."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from postvak.kit.files import fsync_dir

_KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12  # 96 bits, the GCM standard nonce
_TAG_BYTES = 16
_WRAPPED_KEY_BYTES = _NONCE_BYTES + _KEY_BYTES + _TAG_BYTES
_FILE_VERSION = 1


class IntegrityError(Exception):
    """Ciphertext or wrapped key failed authentication; the data must not be served."""


@dataclass(frozen=True)
class Sealed:
    kek_id: str  # id of the key-encryption key that wrapped the data key
    wrapped_key: bytes  # nonce || AESGCM(kek).encrypt(data_key, aad || b"|" || kek_id)
    ciphertext: bytes  # nonce || AESGCM(data_key).encrypt(plaintext, aad)


def _wrap_aad(aad: bytes, kek_id: str) -> bytes:
    """Bind the wrapped key to its object and its KEK id, so neither can be swapped."""
    return aad + b"|" + kek_id.encode()


def _wrap(kek: AESGCM, kek_id: str, data_key: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + kek.encrypt(nonce, data_key, _wrap_aad(aad, kek_id))


class KeyRing:
    """The key-encryption keys of one installation, kept in a 0600 JSON file.

    `aad` is the object id: it authenticates both the content and the data-key wrap, so a
    sealed blob or wrapped key copied onto another object fails to open. Old KEKs are
    never removed, so every row written before a rotation still opens.
    """

    def __init__(self, path: Path, active_id: str, keys: dict[str, bytes]) -> None:
        self._path = path
        self._lock = threading.Lock()
        # One tuple swapped in a single assignment: readers always see an active id that
        # belongs to the KEK table beside it, without taking the lock on the hot path.
        self._state = (active_id, {kid: AESGCM(key) for kid, key in keys.items()})

    @property
    def active_id(self) -> str:
        return self._state[0]

    @classmethod
    def load_or_create(cls, path: Path) -> KeyRing:
        path = Path(path)
        if not path.exists():
            kek_id = _new_key_id()
            # Another process may have created it first; then we use theirs.
            with suppress(FileExistsError):
                _write_key_file(path, kek_id, {kek_id: AESGCM.generate_key(256)}, replace=False)
        return cls(path, *_read_key_file(path))

    def key_ids(self) -> list[str]:
        return list(self._state[1])

    def seal(self, plaintext: bytes, aad: bytes) -> Sealed:
        kek_id, keks = self._state
        data_key = os.urandom(_KEY_BYTES)
        nonce = os.urandom(_NONCE_BYTES)
        return Sealed(
            kek_id=kek_id,
            wrapped_key=_wrap(keks[kek_id], kek_id, data_key, aad),
            ciphertext=nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad),
        )

    def open(self, sealed: Sealed, aad: bytes) -> bytes:
        data_key = self._unwrap(sealed.kek_id, sealed.wrapped_key, aad)
        if len(sealed.ciphertext) < _NONCE_BYTES + _TAG_BYTES:
            raise IntegrityError("ciphertext too short")
        nonce, body = sealed.ciphertext[:_NONCE_BYTES], sealed.ciphertext[_NONCE_BYTES:]
        try:
            return AESGCM(data_key).decrypt(nonce, body, aad)
        except InvalidTag:
            raise IntegrityError("ciphertext failed authentication") from None

    def rewrap(self, kek_id: str, wrapped_key: bytes, aad: bytes) -> tuple[str, bytes]:
        """Re-wrap one data key under the active KEK; the ciphertext it protects is untouched."""
        data_key = self._unwrap(kek_id, wrapped_key, aad)
        active_id, keks = self._state
        return active_id, _wrap(keks[active_id], active_id, data_key, aad)

    def rotate(self) -> str:
        """Add a fresh KEK and make it active; returns its id.

        The file is re-read under an exclusive file lock first, so a rotation in one process
        never drops a KEK that another process added since this ring was loaded.
        """
        with self._lock, _file_lock(self._path):
            _, keys = _read_key_file(self._path)
            kek_id = _new_key_id()
            keys[kek_id] = AESGCM.generate_key(256)
            _write_key_file(self._path, kek_id, keys, replace=True)
            self._state = (kek_id, {kid: AESGCM(key) for kid, key in keys.items()})
        return kek_id

    def _unwrap(self, kek_id: str, wrapped_key: bytes, aad: bytes) -> bytes:
        kek = self._state[1].get(kek_id) or self._reload_for(kek_id)
        if len(wrapped_key) != _WRAPPED_KEY_BYTES:
            raise IntegrityError("wrapped key has the wrong length")
        nonce, body = wrapped_key[:_NONCE_BYTES], wrapped_key[_NONCE_BYTES:]
        try:
            return kek.decrypt(nonce, body, _wrap_aad(aad, kek_id))
        except InvalidTag:
            raise IntegrityError("wrapped key failed authentication") from None

    def _reload_for(self, kek_id: str) -> AESGCM:
        """Pick up KEKs another process added by rotating; an unknown id is still an error."""
        with self._lock:
            _, keys = _read_key_file(self._path)
            if kek_id not in keys:
                raise IntegrityError(f"unknown key-encryption key {kek_id!r}")
            # Keep our active id: switching it is the rotating process's job, or a restart's.
            active_id = self._state[0]
            self._state = (active_id, {kid: AESGCM(key) for kid, key in keys.items()})
            return self._state[1][kek_id]


def _new_key_id() -> str:
    return f"k{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


def _read_key_file(path: Path) -> tuple[str, dict[str, bytes]]:
    doc = json.loads(path.read_text())
    keys = {kid: base64.b64decode(key, validate=True) for kid, key in doc["keys"].items()}
    if doc["active"] not in keys or any(len(key) != _KEY_BYTES for key in keys.values()):
        raise ValueError(f"{path}: corrupt key file")
    return doc["active"], keys


def _write_key_file(path: Path, active_id: str, keys: dict[str, bytes], *, replace: bool) -> None:
    """Write atomically: a reader or a crash sees the old file or the new one, never half.

    First creation links instead of replacing, so two processes starting on an empty data
    directory cannot each seal data under a key the other then overwrites.
    """
    doc = {
        "version": _FILE_VERSION,
        "active": active_id,
        "keys": {kid: base64.b64encode(key).decode() for kid, key in keys.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock beside the key file, held across read-modify-write."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
