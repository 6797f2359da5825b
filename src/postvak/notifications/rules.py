"""Pure rules of notifications: what the text says, when to retry, when to remind."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from postvak.kit import moments
from postvak.senders.rules import DEFAULT_UNREAD_REMINDER_DAYS

EMAIL, SMS = "email", "sms"
NEW, UNREAD, DUE_DATE, DIGEST = "new", "unread", "due-date", "digest"
REMINDERS = (UNREAD, DUE_DATE)

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(minutes=30)  # once the server is back, nobody waits hours for the next try
GIVE_UP_AFTER = timedelta(hours=48)
LAST_REMINDER_BEFORE_DUE = timedelta(days=5)
DEFAULT_UNREAD_DAYS = DEFAULT_UNREAD_REMINDER_DAYS  # unless the sender chose otherwise for the type
# Reminders and digests go out at an hour people read post, in the Netherlands.
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
REMINDER_HOUR = time(9, 0)
DIGEST_HOUR = time(17, 0)

_ACTIONS = {
    "nl": {"pay": "betalen", "respond": "reageren", "confirm": "bevestigen", "appointment": "afspraak maken"},
    "en": {"pay": "pay", "respond": "respond", "confirm": "confirm", "appointment": "make an appointment"},
}
_BEFORE = {"nl": "vóór", "en": "before"}
_GENERIC = {"nl": "U hebt een nieuw bericht van {sender}", "en": "You have a new message from {sender}"}
_GENERIC_UNREAD = {
    "nl": "Herinnering: u hebt een bericht van {sender} nog niet gelezen",
    "en": "Reminder: you have not read a message from {sender} yet",
}
_REMINDER = {"nl": "Herinnering", "en": "Reminder"}


@dataclass(frozen=True)
class MessageSummary:
    """What a notification may say about a message (never its body)."""

    sender_name: str
    subject: str
    action_kind: str | None
    due_date: date | None
    sensitive: bool
    custom_text: str | None
    confirmation_required: bool = False

    @property
    def asks_nothing(self) -> bool:
        """No action, no deadline, no confirmation: such a message may wait for the daily digest."""
        return self.action_kind in (None, "info") and self.due_date is None and not self.confirmation_required


def single_line(text: str, limit: int = 300) -> str:
    """Text safe for a header or an SMS: control characters (CR/LF included) become spaces."""
    cleaned = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join(cleaned.split())[:limit]


def action_expected(summary: MessageSummary, language: str) -> str:
    """What the message asks, in words ("betalen"); a message that only wants its receipt confirmed
    asks that ("bevestigen"); empty for no action or `info`."""
    words = _ACTIONS.get(language, _ACTIONS["nl"])
    kind = summary.action_kind or ("confirm" if summary.confirmation_required else "")
    return words.get(kind, "")


def headline(summary: MessageSummary, language: str, *, reminder: bool = False) -> str:
    """ "Gemeente Utrecht: Aanslag 2027 — betalen vóór 31 maart 2027", or generic when sensitive."""
    language = language if language in _ACTIONS else "nl"
    sender = single_line(summary.sender_name, 120)
    if summary.sensitive:
        generic = _GENERIC_UNREAD if reminder else _GENERIC
        return generic[language].format(sender=sender)
    else:
        text = f"{sender}: {single_line(summary.subject, 200)}"
        expected = action_expected(summary, language)
        deadline = (
            f"{_BEFORE[language]} {format_date(summary.due_date, 'd MMMM y', locale=language)}"
            if summary.due_date
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

    `jitter` in [0, 1) spreads retries: the wait is between half and all of 30 s · 2^(attempt-1),
    which stops doubling at 30 minutes.
    """
    wait = min(FIRST_RETRY * (2 ** min(max(attempt, 1) - 1, 20)), LONGEST_WAIT) * (0.5 + jitter / 2)
    due = moments.shift(now, wait)
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
    """The reminder a message needs now ("unread", "due-date" or None): never when read, never twice."""
    if read or "due-date" in reminders_sent:  # the due-date reminder is the last one
        return None
    if due_date is not None:
        # The same moment reminder_times plans: an unread reminder due in the night before it stays one.
        last_call = at_local_hour(moments.day_shift(due_date, -LAST_REMINDER_BEFORE_DUE.days), REMINDER_HOUR)
        if last_call <= now < datetime.combine(due_date, time.min, tzinfo=UTC):
            return "due-date"
    if "unread" not in reminders_sent and now >= moments.shift_days(delivered_at, unread_days):
        return "unread"
    return None


def reminder_times(
    delivered_at: datetime, due_date: date | None, unread_days: int = DEFAULT_UNREAD_DAYS
) -> dict[str, datetime]:
    """When a new message's reminders are due: "unread" after `unread_days`, "due-date" on the morning
    five days before the deadline. The deadline reminder is the last one: an unread reminder that
    would come after it (or after the deadline) is dropped, and so is a deadline reminder for a
    message delivered less than a day before it."""
    times = {UNREAD: moments.shift_days(delivered_at, unread_days)}
    if due_date is not None:
        last_call = at_local_hour(moments.day_shift(due_date, -LAST_REMINDER_BEFORE_DUE.days), REMINDER_HOUR)
        deadline = datetime.combine(due_date, time.min, tzinfo=UTC)
        if last_call - delivered_at >= timedelta(days=1):
            times[DUE_DATE] = last_call
        if times[UNREAD] >= times.get(DUE_DATE, deadline):
            del times[UNREAD]
    return times


def at_local_hour(day: date, hour: time) -> datetime:
    """That hour of that day in the Netherlands, in UTC (clamped at the ends of the calendar)."""
    return moments.in_utc(day, hour, LOCAL_TIME)


def next_digest_at(now: datetime) -> datetime:
    """The next daily digest: today at 17:00 in the Netherlands, or tomorrow once that has passed
    (on the calendar's last day, whose tomorrow does not exist: its last moment)."""
    today = moments.local_date(now, LOCAL_TIME)
    at = at_local_hour(today, DIGEST_HOUR)
    if at > now:
        return at
    return at_local_hour(today + timedelta(days=1), DIGEST_HOUR) if today < date.max else moments.LATEST


@dataclass(frozen=True)
class Situation:
    """What a notification job finds when it runs."""

    reason: str
    read: bool
    binned: bool
    already_sent: bool  # this (message, reason, channel) was sent before
    reminders_sent: frozenset[str]
    delivered_at: datetime
    due_date: date | None
    unread_days: int
    digest_chosen: bool
    asks_nothing: bool


def decide(situation: Situation, channel: str, now: datetime) -> str:
    """ "send", "skip" or "digest" (wait for the daily digest) for one notification job."""
    s = situation
    if s.already_sent or s.read:
        return "skip"
    if s.reason == NEW:
        return "digest" if channel == EMAIL and s.digest_chosen and s.asks_nothing else "send"
    if s.binned:  # the citizen put it in the bin: no reminders about it
        return "skip"
    due = reminder_due(
        delivered_at=s.delivered_at,
        read=s.read,
        reminders_sent=s.reminders_sent - ({s.reason} if channel == SMS else set()),
        due_date=s.due_date,
        now=now,
        unread_days=s.unread_days,
    )
    return "send" if due == s.reason else "skip"
