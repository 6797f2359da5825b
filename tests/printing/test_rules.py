"""Which letters may be printed, and how claims are cut into batches."""

import pytest

from postvak.messages.rules import ALLOWED, EVENT_TYPES, current_status
from postvak.printing import rules


@pytest.mark.parametrize("status", ["unreachable", "delivered", "notified", "never-read"])
def test_letters_not_reached_or_unread_may_be_printed(status):
    assert rules.why_not_printable(status=status, paper_fallback="if-unreachable") is None
    assert rules.why_not_printable(status=status, paper_fallback="if-unread-by-due-date") is None


@pytest.mark.parametrize(
    "status",
    [None, "accepted", "scheduled", "read", "confirmed", "fallback-printed", "expired", "never-confirmed"],
)
def test_read_printed_ended_or_unpublished_letters_are_never_printed(status):
    assert rules.why_not_printable(status=status, paper_fallback="if-unreachable")


def test_a_letter_its_sender_wants_never_printed_is_not():
    assert "no paper fallback" in rules.why_not_printable(status="unreachable", paper_fallback="never")


def test_not_printed_is_recorded_without_changing_the_status():
    assert "fallback-not-printed" in EVENT_TYPES
    history = ["accepted", "unreachable", "fallback-not-printed"]
    assert current_status(history) == "unreachable"
    assert current_status([*history, "fallback-printed"]) == "fallback-printed"
    assert current_status(["accepted", "delivered", "never-read", "fallback-not-printed"]) == "never-read"
    assert rules.NOT_PRINTED_EVENT not in ALLOWED["read"]
    assert rules.NOT_PRINTED_EVENT not in ALLOWED["fallback-printed"]


def test_batches_hold_at_most_the_maximum_in_order():
    items = list(range(1234))
    cut = rules.batches(items, 500)
    assert [len(b) for b in cut] == [500, 500, 234]
    assert [i for b in cut for i in b] == items
    assert rules.batches([], 500) == []
