"""Pure rules of webhooks: Standard Webhooks signing, the CloudEvents body, what an answer means, retries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson

from postvak.messages.rules import API_EVENT_TYPES

# Every status event type a message can have or API.md names: an endpoint may ask for each.
EVENT_TYPES = API_EVENT_TYPES
CLOUD_EVENT_TYPE_PREFIX = "nl.postvak.message."

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32  # API.md: at least 24
MAX_ENDPOINTS_PER_SENDER = 10  # each event is sent to each endpoint: this bounds the fan-out
# During a rotation the old secret signs beside the new one for this long, so that a receiver can
# switch at its own pace without refusing a single delivery.
ROTATION_OVERLAP = timedelta(hours=24)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=12)
GIVE_UP_AFTER = timedelta(days=3)

DELIVERED, RETRY, DISABLE = "delivered", "retry", "disable"


# --- secrets and signatures ----------------------------------------------------------------------


def new_secret_key() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def secret_text(key: bytes) -> str:
    """The secret as a sender sees it once: `whsec_` and the key in base64."""
    return SECRET_PREFIX + base64.b64encode(key).decode()


def secret_key(text: str) -> bytes:
    """The key inside a `whsec_…` secret; ValueError when it is not one."""
    if not text.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        return base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ and base64") from exc


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>">` (Standard Webhooks)."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(keys: Sequence[bytes], webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery; during a rotation one signature per key, space-separated."""
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(key, webhook_id, timestamp, body) for key in keys),
    }


def signing_keys(current: bytes, previous: bytes | None, previous_until: datetime | None, now: datetime):
    """The keys that sign now: the current one, and the previous one while its rotation lasts."""
    if previous is not None and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]


# --- the body ------------------------------------------------------------------------------------


def rfc3339(moment: datetime) -> str:
    """UTC with a Z, as the API writes every moment; a naive moment (SQLite gives those) is UTC."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def cloud_event(
    *,
    event_id: str,
    message_id: str,
    sender_reference: str,
    event_type: str,
    at: str,
    detail: str | None,
    source: str,
) -> bytes:
    """The CloudEvents 1.0 body of one status event (structured mode, JSON), exactly as API.md says.

    `source` with `subject` is the message's own resource; `id` is the event id, the same one that
    GET /api/v1/events gives and that `webhook-id` carries, so a receiver can deduplicate on it.
    """
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": source,
            "type": CLOUD_EVENT_TYPE_PREFIX + event_type,
            "subject": message_id,
            "time": at,
            "datacontenttype": "application/json",
            "data": {
                "messageId": message_id,
                "senderReference": sender_reference,
                "type": event_type,
                "at": at,
                "detail": detail,
            },
        }
    )


# --- choosing and judging --------------------------------------------------------------------------


def wants(event_types: Sequence[str] | None, event_type: str) -> bool:
    """Whether an endpoint that asked for `event_types` (None: every type, also later ones) gets it."""
    return event_types is None or event_type in event_types


def event_types_problem(event_types: Sequence[str]) -> str | None:
    if not event_types:
        return "give at least one event type, or leave eventTypes out to receive every type"
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        return f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}"
    return None


def dedupe_key(endpoint_id: uuid.UUID, event_id: int) -> str:
    """One delivery per event and endpoint, however often the event is planned."""
    return f"webhook:{endpoint_id}:{event_id}"


def verdict(status: int | None) -> str:
    """Any 2xx delivers; 410 Gone disables the endpoint; anything else (3xx too, and no answer at
    all) is tried again."""
    if status is not None and 200 <= status < 300:
        return DELIVERED
    if status == 410:
        return DISABLE
    return RETRY


def endpoint_unwell(status: int | None) -> bool:
    """A failure that says something about the endpoint rather than about this one event: no answer,
    a server error, or being asked to slow down. Its other deliveries then wait with it."""
    return status is None or status >= 500 or status in (408, 429)


def next_attempt(*, since: datetime, now: datetime, jitter: float) -> datetime | None:
    """When to try again after a failure at `now` of a delivery first due at `since`; None: give up.

    The wait is as long as the delivery has been failing (at least 30 s, at most 12 h), times a
    jitter factor between 0.5 and 1: the first retry comes within 30 s, later waits about double,
    and deliveries that failed together do not return together. Time-based rather than counted,
    so a delivery that waited for its busy endpoint is not pushed back as if it had failed.
    The last try is at `since` + 3 days.
    """
    end = since + GIVE_UP_AFTER
    if now >= end:
        return None
    failing = min(max(now - since, FIRST_RETRY), LONGEST_WAIT)
    return min(now + failing * (0.5 + min(max(jitter, 0.0), 1.0) / 2), end)


def answer_excerpt(body: bytes, limit: int = 500) -> str | None:
    """The start of a receiver's answer, as text safe to show and store (for the sender's portal)."""
    if not body:
        return None
    text = body[: limit * 4].decode("utf-8", errors="replace")
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:limit] or None
