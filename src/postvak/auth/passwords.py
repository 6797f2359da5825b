"""Password hashing with argon2id, and the list of common passwords that the policy refuses."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from postvak.auth.rules import common_form, is_oversized, normalise_password
from postvak.config import Settings

_DUMMY_PASSWORD = "not a password; verified so that unknown usernames take as long as known ones"  # noqa: S105


@cache
def password_hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    """argon2id with the cost from Settings (argon2_time_cost, argon2_memory_kib)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID)


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return hasher.hash(normalise_password(password))


def verify_password(hasher: PasswordHasher, stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash (unknown user) a dummy hash is verified
    anyway, so that the answer takes as long either way. Oversized input is never hashed."""
    if stored_hash is None or is_oversized(password):
        _verify(hasher, _dummy_hash(hasher), _DUMMY_PASSWORD)
        return False
    return _verify(hasher, stored_hash, normalise_password(password))


def needs_rehash(hasher: PasswordHasher, stored_hash: str) -> bool:
    return hasher.check_needs_rehash(stored_hash)


def _verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


@cache
def common_passwords() -> frozenset[str]:
    """The generated list in common_passwords.txt (see scripts/make_common_passwords.py)."""
    text = files("postvak.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(common_form(line) for line in text.splitlines() if line and not line.startswith("#"))


def hasher_for(settings: Settings) -> PasswordHasher:
    return password_hasher(settings.argon2_time_cost, settings.argon2_memory_kib)
