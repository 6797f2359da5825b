"""Pure rules of messages: limits, plausible dates, status transitions, and the idempotency fingerprint."""

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson

from postvak.kit import moments
from postvak.kit.text import text_problem

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
    "withdrawn",
)

_ENDINGS = {"expired", "deleted-by-recipient"}
# At the end of its dueDate a message not read gets `never-read`; one that asks for confirmation and is
# not confirmed gets `never-confirmed` — before `never-read` when it was not read either, so that its
# status says the more telling of the two (and lets it still be read, or printed).
_DUE_DATE_PASSED = {"never-confirmed", "never-read"}
_PAPER = {"fallback-printed", "fallback-not-printed"}
_AFTER_DELIVERY = {"reminded", "read"} | _PAPER | _DUE_DATE_PASSED | _ENDINGS
ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({"accepted"}),
    "accepted": frozenset({"scheduled", "delivered", "unreachable"}),
    "scheduled": frozenset({"delivered", "unreachable", "expired", "withdrawn"}),
    "unreachable": frozenset(
        {"delivered", "fallback-printed", "fallback-not-printed", "expired"} | _DUE_DATE_PASSED
    ),
    "delivered": frozenset({"notified", "notification-failed"} | _AFTER_DELIVERY),
    "notified": frozenset({"notified", "notification-failed"} | _AFTER_DELIVERY),
    "read": frozenset({"notified", "notification-failed", "confirmed", "never-confirmed"} | _ENDINGS),
    "confirmed": frozenset(_ENDINGS),
    "fallback-printed": frozenset({"read"} | _DUE_DATE_PASSED | _ENDINGS),
    "never-read": frozenset({"read", "fallback-printed", "fallback-not-printed"} | _ENDINGS),
    "never-confirmed": frozenset({"confirmed", "never-read"} | _ENDINGS),
    "expired": frozenset(),
    "deleted-by-recipient": frozenset(),
    "withdrawn": frozenset(),  # its sender took it back before publication: the citizen never sees it
}
# Events that are recorded but leave the status where it was.
_QUIET = {"notification-failed", "reminded", "fallback-not-printed"}

# What senders may see, as the API documents it: every event type above. A status is the type of the
# last event that was not quiet.
API_EVENT_TYPES = EVENT_TYPES
STATUSES = tuple(event for event in API_EVENT_TYPES if event not in _QUIET)


class InvalidTransition(ValueError):
    pass


def status_after(status: str | None, event: str) -> str:
    """The status once `event` happens to a message in `status`; raises if it cannot happen."""
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
    """The events a new message gets in the transaction that stores it."""
    if scheduled:
        return ["accepted", "scheduled"]
    return ["accepted", "delivered" if mailbox_activated else "unreachable"]


def due_date_events(history: Sequence[str], *, confirmation_required: bool) -> list[str]:
    """What a message gets at the end of its dueDate, from its history (event types) then:
    `never-confirmed` when it asks for confirmation and is not confirmed, `never-read` when it is
    not read; each once in a message's life.

    Only a message that reached its mailbox (delivered, or waiting there as unreachable) gets them:
    one still scheduled or withdrawn was never the citizen's to read. Should the deciding run late,
    what happened until then counts: a message read meanwhile is not reported as never read (and so
    never printed as unread).
    """
    seen = set(history)
    if "withdrawn" in seen or not seen & {"delivered", "unreachable"}:
        return []
    events = []
    if confirmation_required and not seen & {"confirmed", "never-confirmed"}:
        events.append("never-confirmed")
    if not seen & {"read", "never-read"}:
        events.append("never-read")
    return events


def in_mailbox(status: str | None) -> bool:
    """Whether a message in `status` belongs in its citizen's mailbox: not before its publication, and
    never once its sender withdrew it."""
    return status not in (None, "accepted", "scheduled", "withdrawn")


def withdrawal_problem(*, status: str | None, publish_at: datetime | None, now: datetime) -> str | None:
    """Why a message cannot be withdrawn, or None: only one still scheduled whose publishAt lies ahead.

    The moment counts, not only the status: once publishAt has passed the publication job is due, and
    whether the citizen may already see the letter must not depend on how busy the worker is.
    """
    if status == "withdrawn":
        return "the letter was withdrawn before"
    if status != "scheduled":
        return f"the letter is {status or 'accepted'}: only a letter still scheduled can be withdrawn"
    if publish_at is None or publish_at <= now:
        return "its publishAt has passed: the letter is being published"
    return None


def content_hash(canonical: dict) -> str:
    """Fingerprint of a message as sent: a retry with the same reference must match it exactly."""
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def is_https_url(url: str) -> bool:
    if text_problem(url) or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


# --- plausible dates and moments ------------------------------------------------------------------
# A date from outside is checked twice. Its sanity bounds hold for every message, a retry of one
# stored long ago included (the upper bounds only loosen as time passes, so a retry that was
# accepted once is accepted again). "Not in the past" holds only for a message not stored before:
# a retry must keep answering with the stored message after its dueDate or publishAt has passed.

DUTCH_TIME = ZoneInfo("Europe/Amsterdam")
EARLIEST_DATE = date(2000, 1, 1)
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
DUE_DATE_YEARS_AHEAD = 10
PUBLISH_AT_AHEAD = timedelta(days=366)
PUBLISH_AT_LATE = timedelta(days=1)  # a publishAt just past means "deliver now"; more is a mistake


def dutch_date(moment: datetime) -> date:
    """The calendar date in the Netherlands at `moment`: deadlines are Dutch days."""
    return moment.astimezone(DUTCH_TIME).date()


def years_after(day: date, years: int) -> date:
    """`day` so many years later (29 February becomes the 28th); date.max when that is beyond the calendar."""
    if day.year + years > date.max.year:
        return date.max
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def due_date_end(due: date) -> datetime:
    """When a dueDate ends (UTC): the first moment of the next day in the Netherlands, in summer time or
    not. Total: the calendar's last date ends at its last moment."""
    if due >= date.max:
        return moments.LATEST
    return moments.in_utc(due + timedelta(days=1), time(0), DUTCH_TIME)


def paper_fallback_problem(paper_fallback: str, *, due_date: date | None) -> str | None:
    """Printing when a message is still unread at the end of its dueDate needs a dueDate."""
    if paper_fallback == "if-unread-by-due-date" and due_date is None:
        return "dueDate: required when paperFallback is if-unread-by-due-date"
    return None


def due_date_problem(due: date, *, today: date) -> str | None:
    """The sanity bounds of every dueDate: from 2000-01-01 to ten years after `today` (Dutch)."""
    latest = years_after(today, DUE_DATE_YEARS_AHEAD)
    if not EARLIEST_DATE <= due <= latest:
        return f"must be from {EARLIEST_DATE.isoformat()} to {latest.isoformat()}"
    return None


def publish_at_problem(moment: datetime, *, now: datetime) -> str | None:
    """The sanity bounds of every publishAt: from 2000-01-01 to a year after `now`."""
    latest = now + PUBLISH_AT_AHEAD if now < datetime.max.replace(tzinfo=UTC) - PUBLISH_AT_AHEAD else now
    if not EARLIEST_MOMENT <= moment <= latest:
        return f"must be from {_utc(EARLIEST_MOMENT)} to {_utc(latest)} (at most a year ahead)"
    return None


def new_message_date_problem(*, due_date: date | None, publish_at: datetime | None, now: datetime):
    """For a message not stored before: (field, reason) when its dueDate lies before yesterday (Dutch
    time) or its publishAt more than a day in the past; None when both are fine."""
    today = dutch_date(now)
    yesterday = today - timedelta(days=1) if today > date.min else today
    if due_date is not None and due_date < yesterday:
        return "dueDate", f"lies in the past: a new letter's dueDate is {yesterday.isoformat()} or later"
    if publish_at is not None and publish_at < now - PUBLISH_AT_LATE:
        return "publishAt", (
            f"lies more than a day in the past: a new letter's publishAt is {_utc(now - PUBLISH_AT_LATE)} "
            "or later (leave it out to deliver at once)"
        )
    return None


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
