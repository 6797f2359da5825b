"""Notification rules as pure functions: the text, the retry schedule, the reminders."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from postvak.notifications import rules
from postvak.notifications.rules import Letter

TAX = Letter(
    "Gemeente Utrecht", "Aanslag gemeentelijke belastingen 2027", "pay", date(2027, 3, 31), False, None
)


def test_the_headline_says_who_what_and_by_when():
    assert rules.headline(TAX, "nl") == (
        "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027 — betalen vóór 31 maart 2027"
    )
    assert rules.headline(TAX, "en") == (
        "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027 — pay before 31 March 2027"
    )


def test_a_sensitive_letter_gets_a_generic_headline():
    sensitive = Letter("Gemeente Utrecht", "Schuldhulp", "respond", date(2027, 3, 31), True, None)
    assert rules.headline(sensitive, "nl") == "U hebt een nieuw bericht van Gemeente Utrecht"
    assert "Schuldhulp" not in rules.headline(sensitive, "en")


def test_reminders_are_marked():
    assert rules.headline(TAX, "nl", reminder=True).startswith("Herinnering: Gemeente Utrecht")


@given(st.text())
def test_no_control_character_survives_into_a_header(text):
    line = rules.single_line(text)
    assert "\r" not in line and "\n" not in line
    assert all(ord(c) >= 32 for c in line)


def test_header_injection_is_flattened():
    evil = Letter("Gemeente\r\nBcc: victim@example.nl", "Hi\nX-Evil: 1", None, None, False, None)
    assert "\n" not in rules.headline(evil, "nl") and "\r" not in rules.headline(evil, "nl")


def test_message_ids_are_deterministic():
    first = rules.message_id("m-1", "email", "notify", "postvak.example.nl")
    assert (
        first
        == rules.message_id("m-1", "email", "notify", "postvak.example.nl")
        == "<notify.m-1.email@postvak.example.nl>"
    )
    assert first != rules.message_id("m-1", "sms", "notify", "postvak.example.nl")


def test_retries_start_within_30_seconds_then_double_and_stop_after_48_hours():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    assert rules.next_attempt(start, 1, start, 0.999) <= start + timedelta(seconds=30)
    assert rules.next_attempt(start, 2, start, 0.999) <= start + timedelta(seconds=60)
    assert rules.next_attempt(start, 3, start, 0.0) >= start + timedelta(seconds=60)
    assert rules.next_attempt(start, 20, start + timedelta(hours=47, minutes=50), 0.5) is None


def test_the_wait_between_retries_stops_doubling_at_30_minutes():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    now = start + timedelta(hours=10)
    assert rules.next_attempt(start, 30, now, 0.999) <= now + timedelta(minutes=30)


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC))
kinds = st.frozensets(st.sampled_from(["unread", "due-date"]))


@given(moments, st.integers(0, 60), st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2030, 6, 1))), kinds)
def test_read_letters_are_never_reminded(delivered, days, due, sent):
    now = delivered + timedelta(days=days)
    assert (
        rules.reminder_due(delivered_at=delivered, read=True, reminders_sent=sent, due_date=due, now=now)
        is None
    )


@given(moments, st.integers(0, 60), st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2030, 6, 1))), kinds)
def test_a_kind_of_reminder_is_never_sent_twice(delivered, days, due, sent):
    now = delivered + timedelta(days=days)
    kind = rules.reminder_due(delivered_at=delivered, read=False, reminders_sent=sent, due_date=due, now=now)
    assert kind is None or kind not in sent
    if "due-date" in sent:
        assert kind is None


@given(moments, st.integers(0, 6))
def test_no_unread_reminder_before_seven_days(delivered, days):
    now = delivered + timedelta(days=days, hours=23)
    assert (
        rules.reminder_due(
            delivered_at=delivered, read=False, reminders_sent=frozenset(), due_date=None, now=now
        )
        is None
    )


def test_unread_after_seven_days_and_last_call_five_days_before_the_due_date():
    delivered = datetime(2027, 3, 1, 9, tzinfo=UTC)
    due = date(2027, 3, 31)
    kwargs = {"delivered_at": delivered, "read": False, "due_date": due}
    assert (
        rules.reminder_due(reminders_sent=frozenset(), now=delivered + timedelta(days=7), **kwargs)
        == "unread"
    )
    assert (
        rules.reminder_due(reminders_sent=frozenset({"unread"}), now=delivered + timedelta(days=8), **kwargs)
        is None
    )
    last_call = datetime(2027, 3, 26, 0, 0, tzinfo=UTC)
    assert rules.reminder_due(reminders_sent=frozenset({"unread"}), now=last_call, **kwargs) == "due-date"
    assert (
        rules.reminder_due(
            reminders_sent=frozenset({"unread"}), now=datetime(2027, 4, 2, tzinfo=UTC), **kwargs
        )
        is None
    )  # too late: the due date has passed
