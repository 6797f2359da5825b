"""Pure rules of senders' settings per message type."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.senders import rules


@given(st.integers(min_value=1, max_value=90))
def test_every_whole_number_of_days_from_1_to_90_is_allowed(days):
    assert rules.unread_reminder_days_problem(days) is None


@pytest.mark.parametrize("days", [0, 91, -1, 14.0, True, "14", None])
def test_other_days_are_refused(days):
    assert rules.unread_reminder_days_problem(days)


@pytest.mark.parametrize("message_type", ["a", "x" * 100, "Voorlopige aanslag 2027", "bezwaar/beroep", "één"])
def test_message_types_as_letters_carry_them_are_allowed(message_type):
    assert rules.message_type_problem(message_type) is None


@pytest.mark.parametrize(
    "message_type",
    [
        "",
        "x" * 101,
        "aan\x00slag",
        "aan\nslag",
        "aanslag\n",
        "aan\x7fslag",
        "aan\x85slag",
        "aanslag\u202e",
        "\ud800",
    ],
)
def test_empty_long_or_control_character_message_types_are_refused(message_type):
    assert rules.message_type_problem(message_type)


def test_a_letter_without_a_setting_or_type_gets_the_default_of_7_days():
    sender, other = uuid.uuid4(), uuid.uuid4()
    configured = {(sender, "aanslag"): 14}
    assert rules.DEFAULT_UNREAD_REMINDER_DAYS == 7
    assert rules.unread_reminder_days_for(configured, sender, "aanslag") == 14
    assert rules.unread_reminder_days_for(configured, sender, "beschikking") == 7
    assert rules.unread_reminder_days_for(configured, other, "aanslag") == 7
    assert rules.unread_reminder_days_for(configured, sender, None) == 7
