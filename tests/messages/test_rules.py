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


# --- the end of a due date ------------------------------------------------------------------------

_DUTCH = rules.DUTCH_TIME


@pytest.mark.parametrize(
    ("due", "end"),
    [
        # winter time (UTC+1): the next day starts at 23:00 UTC
        (date(2027, 1, 15), datetime(2027, 1, 15, 23, 0, tzinfo=UTC)),
        (date(2026, 12, 31), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),  # into the new year
        # the last Sunday of March 2027 (the 28th) has 23 hours: the clocks go from 02:00 to 03:00
        (date(2027, 3, 27), datetime(2027, 3, 27, 23, 0, tzinfo=UTC)),
        (date(2027, 3, 28), datetime(2027, 3, 28, 22, 0, tzinfo=UTC)),
        # summer time (UTC+2): the next day starts at 22:00 UTC
        (date(2027, 7, 1), datetime(2027, 7, 1, 22, 0, tzinfo=UTC)),
        # the last Sunday of October 2027 (the 31st) has 25 hours: the clocks go from 03:00 to 02:00
        (date(2027, 10, 30), datetime(2027, 10, 30, 22, 0, tzinfo=UTC)),
        (date(2027, 10, 31), datetime(2027, 10, 31, 23, 0, tzinfo=UTC)),
        (date(2028, 2, 29), datetime(2028, 2, 29, 23, 0, tzinfo=UTC)),  # a leap day
        (date(2036, 12, 1), datetime(2036, 12, 1, 23, 0, tzinfo=UTC)),  # the latest a new letter may have
    ],
)
def test_a_due_date_ends_at_the_first_moment_of_the_next_dutch_day(due, end) -> None:
    assert rules.due_date_end(due) == end
    assert rules.due_date_end(due).utcoffset() == timedelta(0)


def test_the_days_around_the_clock_changes_last_23_and_25_hours() -> None:
    def length(day: date) -> timedelta:
        return rules.due_date_end(day) - rules.due_date_end(day - timedelta(days=1))

    assert length(date(2027, 3, 28)) == timedelta(hours=23)
    assert length(date(2027, 10, 31)) == timedelta(hours=25)
    assert length(date(2027, 10, 30)) == timedelta(hours=24)
    assert length(date(2030, 3, 31)) == timedelta(hours=23)  # far ahead: the zone's rule, not a table


def test_a_due_date_at_the_ends_of_the_calendar_ends_within_it() -> None:
    assert rules.due_date_end(date.max) == datetime.max.replace(tzinfo=UTC)
    assert rules.due_date_end(date.max - timedelta(days=1)) == datetime(9999, 12, 30, 23, 0, tzinfo=UTC)
    assert rules.due_date_end(date.min) < rules.due_date_end(date(1, 1, 2))


@given(st.dates(max_value=date.max - timedelta(days=1)))
def test_a_due_date_ends_where_the_next_dutch_day_begins_at_any_date(due) -> None:
    end = rules.due_date_end(due)
    assert end.tzinfo is UTC
    assert end.astimezone(_DUTCH).date() == due + timedelta(days=1)
    assert end.astimezone(_DUTCH).time() == time(0)
    assert (end - timedelta(microseconds=1)).astimezone(_DUTCH).date() == due
    if due > date.min:
        assert rules.due_date_end(due - timedelta(days=1)) < end


@given(st.dates())
def test_the_end_of_a_due_date_is_total(due) -> None:
    assert rules.due_date_end(due) <= datetime.max.replace(tzinfo=UTC)


DELIVERED = ["accepted", "delivered", "notified"]


@pytest.mark.parametrize(
    ("history", "confirmation_required", "events"),
    [
        (DELIVERED, False, ["never-read"]),
        (["accepted", "unreachable"], False, ["never-read"]),  # waited in a mailbox nobody opened
        (["accepted", "unreachable", "fallback-printed"], False, ["never-read"]),
        (["accepted", "scheduled", "delivered"], False, ["never-read"]),
        ([*DELIVERED, "read"], False, []),
        ([*DELIVERED, "read"], True, ["never-confirmed"]),
        ([*DELIVERED, "read", "confirmed"], True, []),
        (DELIVERED, True, ["never-confirmed", "never-read"]),
        ([*DELIVERED, "never-read"], False, []),  # once in a message's life
        ([*DELIVERED, "never-confirmed", "never-read"], True, []),
        ([*DELIVERED, "read", "never-confirmed"], True, []),
        (["accepted", "scheduled"], False, []),  # not published (yet): never the citizen's to read
        (["accepted", "scheduled", "withdrawn"], True, []),
        ([], False, []),
    ],
)
def test_what_the_end_of_a_due_date_adds(history, confirmation_required, events) -> None:
    assert rules.due_date_events(history, confirmation_required=confirmation_required) == events


@given(
    st.lists(st.sampled_from(rules.EVENT_TYPES), max_size=10),
    st.booleans(),
)
def test_the_end_of_a_due_date_follows_any_history_it_leaves_whole(events, confirmation_required) -> None:
    """Whatever happened before, the events it adds (those the history allows) keep the history valid,
    come once, and running it again adds nothing."""
    history: list[str] = []
    for event in ["accepted", "delivered", *events]:
        try:
            rules.current_status([*history, event])
        except rules.InvalidTransition:
            continue
        history.append(event)
    status, before = rules.current_status(history), list(history)
    for event in rules.due_date_events(history, confirmation_required=confirmation_required):
        assert event not in before
        if event in rules.ALLOWED[status]:
            history.append(event)
            status = rules.status_after(status, event)
    assert rules.current_status(history) == status
    assert [
        e
        for e in rules.due_date_events(history, confirmation_required=confirmation_required)
        if e in rules.ALLOWED[status]
    ] == []


def test_an_unread_letter_that_asked_for_confirmation_can_still_be_read_confirmed_or_printed() -> None:
    history = [*DELIVERED, "never-confirmed", "never-read"]
    assert rules.current_status(history) == "never-read"
    assert rules.current_status([*history, "read", "confirmed"]) == "confirmed"
    assert rules.current_status([*history, "fallback-printed"]) == "fallback-printed"
    assert rules.current_status(["accepted", "unreachable", "never-confirmed", "never-read"]) == "never-read"
    assert rules.current_status([*DELIVERED, "read", "never-confirmed", "confirmed"]) == "confirmed"


def test_paper_when_unread_by_the_due_date_needs_a_due_date() -> None:
    assert rules.paper_fallback_problem("if-unread-by-due-date", due_date=None) == (
        "dueDate: required when paperFallback is if-unread-by-due-date"
    )
    assert rules.paper_fallback_problem("if-unread-by-due-date", due_date=date(2027, 3, 31)) is None
    for other in ("never", "if-unreachable"):
        assert rules.paper_fallback_problem(other, due_date=None) is None
