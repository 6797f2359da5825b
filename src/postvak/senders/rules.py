"""Pure rules about sender organisations and API keys."""

import hashlib
import secrets

KINDS = ("municipality", "water-board", "province", "national", "other")
STATUSES = ("active", "suspended")
OIN_LENGTH = 20
KEY_PREFIX = "pvk_"


def oin_problem(oin: str) -> str | None:
    if not (oin.isascii() and oin.isdigit() and len(oin) == OIN_LENGTH):
        return f"an OIN consists of exactly {OIN_LENGTH} digits"
    return None


def kind_problem(kind: str) -> str | None:
    return None if kind in KINDS else f"kind must be one of: {', '.join(KINDS)}"


def new_api_key() -> str:
    """256 random bits, with a recognisable prefix so leaked keys can be found by scanners."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """A fast hash is right here: the key is random and long, so it cannot be guessed offline."""
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + 6]
