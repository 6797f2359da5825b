"""Status transitions and the other pure rules of letters."""

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
