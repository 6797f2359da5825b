"""Pure rules of notifications: what the text says, when to retry, when to remind."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date

FIRST_RETRY = timedelta(seconds=30)
GIVE_UP_AFTER = timedelta(hours=48)
LAST_REMINDER_BEFORE_DUE = timedelta(days=5)
DEFAULT_UNREAD_DAYS = 7

_ACTIONS = {
    "nl": {"pay": "betalen", "respond": "reageren", "confirm": "bevestigen", "appointment": "afspraak maken"},
    "en": {"pay": "pay", "respond": "respond", "confirm": "confirm", "appointment": "make an appointment"},
}
_BEFORE = {"nl": "vóór", "en": "before"}
_GENERIC = {"nl": "U hebt een nieuw bericht van {sender}", "en": "You have a new message from {sender}"}
_REMINDER = {"nl": "Herinnering", "en": "Reminder"}


@dataclass(frozen=True)
class Letter:
    """What a notification may say about a letter (never its body)."""

    sender_name: str
    subject: str
    action_kind: str | None
    due_date: date | None
    sensitive: bool
    custom_text: str | None


def single_line(text: str, limit: int = 300) -> str:
    """Text safe for a header or an SMS: control characters (CR/LF included) become spaces."""
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join(cleaned.split())[:limit]


def headline(letter: Letter, language: str, *, reminder: bool = False) -> str:
    """ "Gemeente Utrecht: Aanslag 2027 — betalen vóór 31 maart 2027", or generic when sensitive."""
    language = language if language in _ACTIONS else "nl"
    sender = single_line(letter.sender_name, 120)
    if letter.sensitive:
        text = _GENERIC[language].format(sender=sender)
    else:
        text = f"{sender}: {single_line(letter.subject, 200)}"
        expected = _ACTIONS[language].get(letter.action_kind or "")
        deadline = (
            f"{_BEFORE[language]} {format_date(letter.due_date, 'd MMMM y', locale=language)}"
            if letter.due_date
            else ""
        )
        if expected or deadline:
            text += " — " + " ".join(part for part in (expected, deadline) if part)
    return f"{_REMINDER[language]}: {text}" if reminder else text


def message_id(message_id: str, channel: str, kind: str, domain: str) -> str:
    """The same notification always gets the same Message-ID, so a resend after a crash is recognisable."""
    return f"<{kind}.{message_id}.{channel}@{single_line(domain, 100) or 'postvak.invalid'}>"


def next_attempt(first_try: datetime, attempt: int, now: datetime, jitter: float) -> datetime | None:
    """When to try again after failed attempt number `attempt` (1-based); None once 48 hours have passed.

    `jitter` in [0, 1) spreads retries: the wait is between half and all of 30 s · 2^(attempt-1).
    """
    wait = FIRST_RETRY * (2 ** (attempt - 1)) * (0.5 + jitter / 2)
    due = now + wait
    return None if due - first_try > GIVE_UP_AFTER else due


def reminder_due(
    *,
    delivered_at: datetime,
    read: bool,
    reminders_sent: frozenset[str],
    due_date: date | None,
    now: datetime,
    unread_days: int = DEFAULT_UNREAD_DAYS,
) -> str | None:
    """The reminder a letter needs now ("unread", "due-date" or None); never for read letters, never twice."""
    if read or "due-date" in reminders_sent:  # the due-date reminder is the last one
        return None
    if due_date is not None:
        last_call = (
            datetime.combine(due_date, datetime.min.time(), tzinfo=now.tzinfo) - LAST_REMINDER_BEFORE_DUE
        )
        if last_call <= now < datetime.combine(due_date, datetime.min.time(), tzinfo=now.tzinfo):
            return "due-date"
    if "unread" not in reminders_sent and now >= delivered_at + timedelta(days=unread_days):
        return "unread"
    return None
