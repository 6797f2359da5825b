"""Status transitions and the other pure rules of letters."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.messages import rules


def test_a_letter_starts_accepted() -> None:
    assert rules.status_after(None, "accepted") == "accepted"
    for event in rules.EVENT_TYPES:
        if event != "accepted":
            with pytest.raises(rules.InvalidTransition):
                rules.status_after(None, event)


def test_the_usual_life_of_a_letter() -> None:
    history = ["accepted", "delivered", "notified", "reminded", "read", "confirmed", "deleted-by-recipient"]
    assert rules.current_status(history) == "deleted-by-recipient"
    assert rules.current_status(history[:4]) == "notified"  # a reminder leaves the status alone


def test_notification_failure_and_late_notification_keep_the_status() -> None:
    assert rules.current_status(["accepted", "delivered", "notification-failed"]) == "delivered"
    assert rules.current_status(["accepted", "delivered", "read", "notified"]) == "read"


def test_unreachable_letter_can_be_delivered_later_or_printed() -> None:
    assert rules.current_status(["accepted", "unreachable", "fallback-printed"]) == "fallback-printed"
    assert rules.current_status(["accepted", "unreachable", "delivered"]) == "delivered"


@pytest.mark.parametrize(
    "history",
    [
        ["accepted", "read"],  # never delivered
        ["accepted", "delivered", "confirmed"],  # confirmed before read
        ["accepted", "delivered", "read", "delivered"],
        ["accepted", "delivered", "expired", "read"],
        ["accepted", "accepted"],
    ],
)
def test_impossible_histories_are_refused(history) -> None:
    with pytest.raises(rules.InvalidTransition):
        rules.current_status(history)


@given(st.lists(st.sampled_from(rules.EVENT_TYPES), max_size=12))
def test_a_read_letter_never_goes_back_to_unread(events) -> None:
    status = None
    seen_read = False
    for event in ["accepted", "delivered", *events]:
        try:
            status = rules.status_after(status, event)
        except rules.InvalidTransition:
            continue
        seen_read |= status == "read"
        if seen_read:
            assert status not in ("accepted", "scheduled", "delivered", "unreachable", "notified")


@given(st.lists(st.sampled_from(rules.EVENT_TYPES), max_size=12))
def test_ended_letters_accept_nothing(events) -> None:
    for end in ("expired", "deleted-by-recipient"):
        for event in events:
            with pytest.raises(rules.InvalidTransition):
                rules.status_after(end, event)


def test_only_a_scheduled_letter_can_be_withdrawn_and_then_nothing_follows() -> None:
    assert rules.current_status(["accepted", "scheduled", "withdrawn"]) == "withdrawn"
    assert [status for status, then in rules.ALLOWED.items() if "withdrawn" in then] == ["scheduled"]
    for event in rules.EVENT_TYPES:
        with pytest.raises(rules.InvalidTransition):
            rules.status_after("withdrawn", event)


@given(st.lists(st.sampled_from(rules.EVENT_TYPES), max_size=12))
def test_a_letter_seen_in_a_mailbox_is_never_withdrawn(events) -> None:
    """Whatever happens after publication, no history that put a letter in a mailbox allows `withdrawn`."""
    status: str | None = None
    shown = False
    for event in ["accepted", *events]:
        try:
            status = rules.status_after(status, event)
        except rules.InvalidTransition:
            continue
        shown |= rules.in_mailbox(status)
        if shown:
            assert status != "withdrawn" and "withdrawn" not in rules.ALLOWED[status]


NOW = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "status,publish_at,why",
    [
        ("scheduled", NOW + timedelta(seconds=1), None),
        ("scheduled", NOW, "its publishAt has passed: the letter is being published"),
        ("scheduled", NOW - timedelta(hours=1), "its publishAt has passed: the letter is being published"),
        ("delivered", NOW - timedelta(hours=1), "the letter is delivered: only a letter still scheduled …"),
        ("unreachable", None, "the letter is unreachable: only a letter still scheduled …"),
        ("read", NOW + timedelta(days=1), "the letter is read: only a letter still scheduled …"),
        ("withdrawn", NOW + timedelta(days=1), "the letter was withdrawn before"),
    ],
)
def test_a_withdrawal_needs_a_scheduled_letter_whose_publish_at_lies_ahead(status, publish_at, why) -> None:
    found = rules.withdrawal_problem(status=status, publish_at=publish_at, now=NOW)
    if why is None or not why.endswith("…"):
        assert found == why
    else:
        assert found == why.replace("…", "can be withdrawn")


def test_only_published_letters_belong_in_a_mailbox() -> None:
    assert not any(map(rules.in_mailbox, (None, "accepted", "scheduled", "withdrawn")))
    assert all(map(rules.in_mailbox, ("delivered", "unreachable", "read", "fallback-printed", "expired")))


def test_the_documented_statuses_are_exactly_those_a_letter_can_reach() -> None:
    """MessageOut.status is an enum of STATUSES: every status a history can lead to must be in it."""
    reached: set[str] = set()
    waiting: list[str | None] = [None]
    while waiting:
        status = waiting.pop()
        for event in rules.ALLOWED[status]:
            after = rules.status_after(status, event)
            if after not in reached:
                reached.add(after)
                waiting.append(after)
    assert set(rules.STATUSES) == reached
    assert set(rules.API_EVENT_TYPES) == set(rules.EVENT_TYPES)


def test_first_events_depend_on_schedule_and_activation() -> None:
    assert rules.delivery_events(scheduled=True, mailbox_activated=True) == ["accepted", "scheduled"]
    assert rules.delivery_events(scheduled=False, mailbox_activated=True) == ["accepted", "delivered"]
    assert rules.delivery_events(scheduled=False, mailbox_activated=False) == ["accepted", "unreachable"]


def test_content_hash_ignores_key_order_but_not_content() -> None:
    a = rules.content_hash({"subject": "x", "body": "y"})
    assert a == rules.content_hash({"body": "y", "subject": "x"})
    assert a != rules.content_hash({"body": "y", "subject": "z"})


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://betalen.example.nl/x", True),
        ("http://betalen.example.nl/x", False),
        ("javascript:alert(1)", False),
        ("https://", False),
        ("https://a.example/\nSet-Cookie: x", False),
        ("HTTPS://upper.example.nl", True),
    ],
)
def test_action_urls_must_be_https(url, ok) -> None:
    assert rules.is_https_url(url) is ok


# --- plausible dates ------------------------------------------------------------------------------

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("due", "problem"),
    [
        (date(2000, 1, 1), None),
        (date(2036, 12, 1), None),  # ten years ahead, the day itself
        (date(2036, 12, 2), "must be from 2000-01-01 to 2036-12-01"),
        (date(1999, 12, 31), "must be from 2000-01-01 to 2036-12-01"),
        (date(1, 1, 2), "must be from 2000-01-01 to 2036-12-01"),
        (date.max, "must be from 2000-01-01 to 2036-12-01"),
    ],
)
def test_the_sanity_bounds_of_a_due_date(due, problem) -> None:
    assert rules.due_date_problem(due, today=TODAY) == problem


def test_ten_years_after_a_leap_day_is_the_28th() -> None:
    assert rules.years_after(date(2028, 2, 29), 10) == date(2038, 2, 28)
    assert rules.years_after(date(9995, 6, 1), 10) == date.max


@given(st.dates(), st.dates())
def test_the_date_rules_hold_at_any_date(today, due) -> None:
    # Total: no date of the calendar makes them raise (the 0001-01-02 of the issue included).
    rules.due_date_problem(due, today=today)
    now = datetime.combine(today, time(12), tzinfo=UTC)
    rules.new_message_date_problem(due_date=due, publish_at=None, now=now)


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_the_moment_rules_hold_at_any_moment(moment) -> None:
    rules.publish_at_problem(moment, now=moment)
    rules.publish_at_problem(datetime(2026, 12, 1, tzinfo=UTC), now=moment)
    rules.new_message_date_problem(due_date=None, publish_at=moment, now=moment)


def test_the_sanity_bounds_of_publish_at() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert rules.publish_at_problem(datetime(2000, 1, 1, tzinfo=UTC), now=now) is None
    assert rules.publish_at_problem(now + timedelta(days=366), now=now) is None
    assert rules.publish_at_problem(now + timedelta(days=366, seconds=1), now=now) == (
        "must be from 2000-01-01T00:00:00Z to 2027-12-02T12:00:00Z (at most a year ahead)"
    )
    assert rules.publish_at_problem(datetime(1999, 12, 31, 23, 59, tzinfo=UTC), now=now)


@pytest.mark.parametrize(
    ("now", "due", "fault"),
    [
        # 23:30 UTC on 1 December is already 2 December in Amsterdam: "yesterday" is 1 December.
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), date(2026, 12, 1), None),
        (datetime(2026, 12, 1, 23, 30, tzinfo=UTC), date(2026, 11, 30), "dueDate"),
        (datetime(2026, 12, 1, 22, 30, tzinfo=UTC), date(2026, 11, 30), None),
        # summer time: 22:30 UTC on 1 July is 00:30 on 2 July in Amsterdam
        (datetime(2027, 7, 1, 22, 30, tzinfo=UTC), date(2027, 6, 30), "dueDate"),
        (datetime(2027, 7, 1, 21, 30, tzinfo=UTC), date(2027, 6, 30), None),
    ],
)
def test_a_new_letters_due_date_is_yesterday_or_later_in_dutch_time(now, due, fault) -> None:
    found = rules.new_message_date_problem(due_date=due, publish_at=None, now=now)
    assert (found[0] if found else None) == fault


def test_a_new_letters_publish_at_is_at_most_a_day_past() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert rules.new_message_date_problem(due_date=None, publish_at=now - timedelta(days=1), now=now) is None
    field, reason = rules.new_message_date_problem(
        due_date=None, publish_at=now - timedelta(days=1, seconds=1), now=now
    )
    assert field == "publishAt" and "2026-11-30T12:00:00Z or later" in reason


@pytest.mark.parametrize(
    "url",
    [
        "https://betalen.example.nl/a",
        "https://café.example.nl/",
    ],
)
def test_https_urls_pass(url) -> None:
    assert rules.is_https_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://betalen.example.nl/",
        "https:///no-host",
        "https://a.example.nl/\u202egpj.exe",
        "https://a.example.nl/\x1b",
        "https://a.example.nl/a b",
        "https://a.example.nl/\u00a0",
        "https://a.example.nl/\ud800",
    ],
)
def test_other_urls_fail(url) -> None:
    assert not rules.is_https_url(url)
