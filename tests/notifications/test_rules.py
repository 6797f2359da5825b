"""Notification rules as pure functions: the text, the retry schedule, the reminders."""

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from postvak.notifications import rules
from postvak.notifications.rules import MessageSummary

TAX = MessageSummary(
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
    sensitive = MessageSummary("Gemeente Utrecht", "Schuldhulp", "respond", date(2027, 3, 31), True, None)
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
    evil = MessageSummary("Gemeente\r\nBcc: victim@example.nl", "Hi\nX-Evil: 1", None, None, False, None)
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
    last_call = datetime(2027, 3, 26, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam (CET)
    assert rules.reminder_due(reminders_sent=frozenset({"unread"}), now=last_call, **kwargs) == "due-date"
    early = last_call - timedelta(minutes=1)
    assert rules.reminder_due(reminders_sent=frozenset({"unread"}), now=early, **kwargs) is None
    assert (
        rules.reminder_due(
            reminders_sent=frozenset({"unread"}), now=datetime(2027, 4, 2, tzinfo=UTC), **kwargs
        )
        is None
    )  # too late: the due date has passed


@given(moments, st.integers(1, 90), st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2030, 6, 1))))
def test_planned_reminders_come_after_delivery_and_the_last_call_last(delivered, days, due):
    times = rules.reminder_times(delivered, due, days)
    assert set(times) <= {"unread", "due-date"}
    assert all(at > delivered for at in times.values())
    if "unread" in times and "due-date" in times:
        assert times["unread"] < times["due-date"]  # the deadline reminder is the last one
    if "due-date" in times:
        assert times["due-date"] - delivered >= timedelta(days=1)
        assert times["due-date"].date() <= due - timedelta(days=4)  # five days before, 09:00 local
    if due is not None and "unread" in times:
        assert times["unread"] < datetime.combine(due, datetime.min.time(), tzinfo=UTC)


@given(moments, st.integers(1, 90), st.one_of(st.none(), st.dates(date(2026, 1, 1), date(2030, 6, 1))))
def test_a_planned_reminder_is_due_when_its_time_comes(delivered, days, due):
    """What reminder_times plans, reminder_due agrees to at that moment (for an unread letter)."""
    for reason, at in rules.reminder_times(delivered, due, days).items():
        sent = frozenset({"unread"}) if reason == "due-date" else frozenset()
        assert (
            rules.reminder_due(
                delivered_at=delivered,
                read=False,
                reminders_sent=sent,
                due_date=due,
                now=at,
                unread_days=days,
            )
            == reason
        )


def test_the_daily_digest_goes_out_at_five_in_the_afternoon_dutch_time():
    winter_morning = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert rules.next_digest_at(winter_morning) == datetime(2027, 1, 15, 16, 0, tzinfo=UTC)
    summer_evening = datetime(2027, 7, 15, 18, 0, tzinfo=UTC)  # 20:00 in Amsterdam: tomorrow's
    assert rules.next_digest_at(summer_evening) == datetime(2027, 7, 16, 15, 0, tzinfo=UTC)


def _situation(**overrides) -> rules.Situation:
    values = {
        "reason": "new",
        "read": False,
        "binned": False,
        "already_sent": False,
        "reminders_sent": frozenset(),
        "delivered_at": datetime(2027, 3, 1, 9, tzinfo=UTC),
        "due_date": None,
        "unread_days": 7,
        "digest_chosen": False,
        "asks_nothing": True,
    }
    return rules.Situation(**(values | overrides))


NOW = datetime(2027, 3, 8, 9, 30, tzinfo=UTC)


def test_decisions_for_new_letters():
    assert rules.decide(_situation(), "email", NOW) == "send"
    assert rules.decide(_situation(read=True), "email", NOW) == "skip"
    assert rules.decide(_situation(already_sent=True), "email", NOW) == "skip"
    assert rules.decide(_situation(digest_chosen=True), "email", NOW) == "digest"
    assert rules.decide(_situation(digest_chosen=True, asks_nothing=False), "email", NOW) == "send"


def test_decisions_for_reminders():
    unread = _situation(reason="unread")
    assert rules.decide(unread, "email", NOW) == "send"
    assert rules.decide(_situation(reason="unread", binned=True), "email", NOW) == "skip"
    assert rules.decide(_situation(reason="unread", read=True), "email", NOW) == "skip"
    # The e-mail reminder went out; the SMS one for the same reminder still may.
    sent = _situation(reason="unread", reminders_sent=frozenset({"unread"}))
    assert rules.decide(sent, "email", NOW) == "skip" and rules.decide(sent, "sms", NOW) == "send"


@given(st.sampled_from(["new", "unread", "due-date"]), st.sampled_from(["email", "sms"]), st.booleans())
def test_read_letters_never_get_anything(reason, channel, digest):
    assert rules.decide(_situation(reason=reason, read=True, digest_chosen=digest), channel, NOW) == "skip"


def test_only_letters_that_ask_nothing_may_wait_for_the_digest():
    assert MessageSummary("G", "Nieuwsbrief", None, None, False, None).asks_nothing
    assert MessageSummary("G", "Info", "info", None, False, None).asks_nothing
    assert not MessageSummary("G", "Aanslag", "pay", None, False, None).asks_nothing
    assert not MessageSummary("G", "Brief", None, date(2027, 3, 1), False, None).asks_nothing
    assert not MessageSummary("G", "Brief", None, None, False, None, confirmation_required=True).asks_nothing


def test_a_letter_that_wants_its_receipt_confirmed_says_so():
    summary = MessageSummary(
        "Gemeente Utrecht", "Besluit", None, None, False, None, confirmation_required=True
    )
    assert rules.headline(summary, "nl") == "Gemeente Utrecht: Besluit — bevestigen"


def test_a_reminder_of_a_sensitive_letter_stays_generic_and_says_it_is_unread():
    sensitive = MessageSummary("Gemeente Utrecht", "Schuldhulp", "respond", date(2027, 3, 31), True, None)
    assert rules.headline(sensitive, "nl", reminder=True) == (
        "Herinnering: u hebt een bericht van Gemeente Utrecht nog niet gelezen"
    )


# Totality: every rule answers for any date a sender can store and any moment a clock can show ------

any_moment = st.datetimes(timezones=st.just(UTC))
any_date = st.one_of(st.dates(), st.sampled_from([date.min, date(1, 1, 2), date(1, 1, 6), date.max]))
any_days = st.integers(1, 90)


@given(any_moment, st.one_of(st.none(), any_date), any_days)
def test_reminder_times_answer_for_any_date(delivered, due, days):
    times = rules.reminder_times(delivered, due, days)
    assert set(times) <= {"unread", "due-date"}
    assert all(at >= delivered for at in times.values())
    if due is not None:
        deadline = datetime.combine(due, datetime.min.time(), tzinfo=UTC)
        assert all(at < deadline for at in times.values())  # nothing after the deadline
    if "due-date" in times:
        assert times["due-date"] - delivered >= timedelta(days=1)


def test_a_deadline_long_past_plans_no_reminders_and_one_far_ahead_plans_both():
    delivered = datetime(2027, 3, 1, 9, tzinfo=UTC)
    assert rules.reminder_times(delivered, date(1, 1, 2)) == {}
    assert rules.reminder_times(delivered, date.min) == {}
    far = rules.reminder_times(delivered, date.max)
    assert far["unread"] == delivered + timedelta(days=7)
    assert far["due-date"] == datetime(9999, 12, 26, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam (CET)


@given(any_moment, any_moment, st.one_of(st.none(), any_date), kinds, any_days, st.booleans())
def test_reminder_due_answers_for_any_date(delivered, now, due, sent, days, read):
    kind = rules.reminder_due(
        delivered_at=delivered, read=read, reminders_sent=sent, due_date=due, now=now, unread_days=days
    )
    assert kind in (None, "unread", "due-date")


@given(any_moment, any_moment, st.integers(-5, 10**6), st.floats(0, 0.999))
def test_next_attempt_answers_for_any_moment(first_try, now, attempt, jitter):
    due = rules.next_attempt(first_try, attempt, now, jitter)
    assert due is None or due >= now


@given(any_moment)
def test_the_next_digest_is_never_in_the_past(now):
    assert rules.next_digest_at(now) >= now


@given(any_date, st.sampled_from([rules.REMINDER_HOUR, rules.DIGEST_HOUR, time.min, time.max]))
def test_a_local_hour_exists_for_every_day(day, hour):
    at = rules.at_local_hour(day, hour)
    assert at.tzinfo is not None and abs(at.date() - day) <= timedelta(days=1)


@given(
    st.sampled_from(["new", "unread", "due-date"]),
    st.sampled_from(["email", "sms"]),
    any_moment,
    any_moment,
    st.one_of(st.none(), any_date),
)
def test_decisions_answer_for_any_date(reason, channel, delivered, now, due):
    situation = _situation(reason=reason, delivered_at=delivered, due_date=due, asks_nothing=due is None)
    assert rules.decide(situation, channel, now) in ("send", "skip", "digest")


def test_an_unread_reminder_due_in_the_night_before_the_last_call_stays_an_unread_reminder():
    """Found by hypothesis on PostgreSQL's run: the deadline window once began at midnight UTC, five days
    before the due date, so an unread reminder planned for 00:00 became the due-date reminder at night."""
    delivered, due = datetime(2026, 9, 2, tzinfo=UTC), date(2026, 11, 20)
    times = rules.reminder_times(delivered, due, 74)
    assert times["unread"] == datetime(2026, 11, 15, tzinfo=UTC) < times["due-date"]
    kwargs = {"delivered_at": delivered, "read": False, "due_date": due, "unread_days": 74}
    assert rules.reminder_due(reminders_sent=frozenset(), now=times["unread"], **kwargs) == "unread"
    assert (
        rules.reminder_due(reminders_sent=frozenset({"unread"}), now=times["due-date"], **kwargs)
        == "due-date"
    )
