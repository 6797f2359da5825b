"""Pure rules about sender organisations and API keys."""

import hashlib
import secrets
import uuid
from collections.abc import Mapping

from postvak.kit.text import text_pattern, text_problem

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


# --- settings per message type ------------------------------------------------------------------

DEFAULT_UNREAD_REMINDER_DAYS = 7
MIN_UNREAD_REMINDER_DAYS = 1
MAX_UNREAD_REMINDER_DAYS = 90
MESSAGE_TYPE_MAX_LENGTH = 100
MESSAGE_TYPE_PATTERN = text_pattern()  # one line, no control or bidirectional-control characters


def message_type_problem(message_type: str) -> str | None:
    """A message's `messageType` is matched exactly, so a setting's key is taken as given, not trimmed.

    It follows the edge's rule for text (kit.text): no type needs a control character, and
    PostgreSQL cannot store NUL.
    """
    if not 1 <= len(message_type) <= MESSAGE_TYPE_MAX_LENGTH:
        return f"a message type has 1 to {MESSAGE_TYPE_MAX_LENGTH} characters"
    return text_problem(message_type)


def unread_reminder_days_problem(days: int) -> str | None:
    # bool is an int in Python, but `true` is not a number of days
    if isinstance(days, bool) or not isinstance(days, int):
        return "must be a whole number of days"
    if not MIN_UNREAD_REMINDER_DAYS <= days <= MAX_UNREAD_REMINDER_DAYS:
        return f"must be from {MIN_UNREAD_REMINDER_DAYS} to {MAX_UNREAD_REMINDER_DAYS} days"
    return None


def unread_reminder_days_for(
    configured: Mapping[tuple[uuid.UUID, str], int], sender_id: uuid.UUID, message_type: str | None
) -> int:
    """Days after which an unread message is reminded: the sender's setting for its type, or the default."""
    if message_type is None:
        return DEFAULT_UNREAD_REMINDER_DAYS
    return configured.get((sender_id, message_type), DEFAULT_UNREAD_REMINDER_DAYS)
