"""Pure rules of letters: limits, status transitions, and the idempotency fingerprint."""

import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson

MAX_BODY_BYTES = 1024 * 1024
MAX_ATTACHMENTS = 10
MAX_ATTACHMENTS_TOTAL_BYTES = 20 * 1024 * 1024
MAX_BATCH = 1000

ACTION_KINDS = ("pay", "respond", "confirm", "appointment", "info")
PAPER_FALLBACKS = ("never", "if-unreachable", "if-unread-by-due-date")

EVENT_TYPES = (
    "accepted",
    "scheduled",
    "delivered",
    "notified",
    "notification-failed",
    "reminded",
    "read",
    "confirmed",
    "unreachable",
    "fallback-printed",
    "fallback-not-printed",
    "never-read",
    "never-confirmed",
    "expired",
    "deleted-by-recipient",
)

_ENDINGS = {"expired", "deleted-by-recipient"}
_AFTER_DELIVERY = {"reminded", "read", "fallback-printed", "fallback-not-printed", "never-read"} | _ENDINGS
ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({"accepted"}),
    "accepted": frozenset({"scheduled", "delivered", "unreachable"}),
    "scheduled": frozenset({"delivered", "unreachable", "expired"}),
    "unreachable": frozenset(
        {"delivered", "fallback-printed", "fallback-not-printed", "never-read", "expired"}
    ),
    "delivered": frozenset({"notified", "notification-failed"} | _AFTER_DELIVERY),
    "notified": frozenset({"notified", "notification-failed"} | _AFTER_DELIVERY),
    "read": frozenset({"notified", "notification-failed", "confirmed", "never-confirmed"} | _ENDINGS),
    "confirmed": frozenset(_ENDINGS),
    "fallback-printed": frozenset({"read", "never-read"} | _ENDINGS),
    "never-read": frozenset({"read", "fallback-printed", "fallback-not-printed"} | _ENDINGS),
    "never-confirmed": frozenset({"confirmed"} | _ENDINGS),
    "expired": frozenset(),
    "deleted-by-recipient": frozenset(),
}
# Events that are recorded but leave the status where it was.
_QUIET = {"notification-failed", "reminded", "fallback-not-printed"}


class InvalidTransition(ValueError):
    pass


def status_after(status: str | None, event: str) -> str:
    """The status once `event` happens to a letter in `status`; raises if it cannot happen."""
    if event not in ALLOWED[status]:
        raise InvalidTransition(f"{event!r} cannot follow {status!r}")
    if event in _QUIET or (event == "notified" and status not in ("delivered", "notified")):
        return status  # type: ignore[return-value]  # None never allows a quiet event
    return event


def current_status(events: Iterable[str]) -> str | None:
    status: str | None = None
    for event in events:
        status = status_after(status, event)
    return status


def delivery_events(*, scheduled: bool, mailbox_activated: bool) -> list[str]:
    """The events a new letter gets in the transaction that stores it."""
    if scheduled:
        return ["accepted", "scheduled"]
    return ["accepted", "delivered" if mailbox_activated else "unreachable"]


def content_hash(canonical: dict) -> str:
    """Fingerprint of a letter as sent: a retry with the same reference must match it exactly."""
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https" and bool(parts.hostname) and not any(c.isspace() or ord(c) < 32 for c in url)
    )
