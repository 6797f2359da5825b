"""Settings per message type through the service, and the look-up the notification worker makes."""

import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from postvak.errors import NotFound, ValidationFailed
from postvak.kit import clock
from postvak.senders import repository
from postvak.senders import service as senders
from tests.support.letters import register


@contextmanager
def _counting_selects(engine):
    selects: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield selects
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _set(runtime, sender_id, message_type, days):
    with runtime.database.unit_of_work() as session:
        return senders.set_unread_reminder_days(
            session, sender_id=sender_id, message_type=message_type, days=days
        )


def test_set_then_list_then_remove(runtime, sender):
    moment = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
    clock.set_clock(lambda: moment)
    stored = _set(runtime, sender.id, "aanslag", 14)
    assert (stored.message_type, stored.unread_reminder_days, stored.updated_at) == ("aanslag", 14, moment)
    with runtime.database.unit_of_work(write=False) as session:
        assert senders.list_message_type_settings(session, sender_id=sender.id).message_types == [stored]
    with runtime.database.unit_of_work() as session:
        senders.remove_message_type_setting(session, sender_id=sender.id, message_type="aanslag")
    with runtime.database.unit_of_work(write=False) as session:
        assert senders.list_message_type_settings(session, sender_id=sender.id).message_types == []


def test_updated_at_moves_only_when_the_days_change(runtime, sender):
    start = datetime(2027, 2, 1, 8, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    _set(runtime, sender.id, "aanslag", 14)
    clock.set_clock(lambda: start + timedelta(days=1))
    assert _set(runtime, sender.id, "aanslag", 14).updated_at == start
    clock.set_clock(lambda: start + timedelta(days=2))
    assert _set(runtime, sender.id, "aanslag", 30).updated_at == start + timedelta(days=2)


def test_an_upsert_within_one_transaction_answers_the_new_value(runtime, sender):
    with runtime.database.unit_of_work() as session:
        senders.set_unread_reminder_days(session, sender_id=sender.id, message_type="aanslag", days=14)
        assert [s.unread_reminder_days for s in repository.message_type_settings(session, sender.id)] == [14]
        assert (
            senders.set_unread_reminder_days(
                session, sender_id=sender.id, message_type="aanslag", days=30
            ).unread_reminder_days
            == 30
        )


@pytest.mark.parametrize(
    ("message_type", "days", "field"),
    [("aanslag", 0, "unreadReminderDays"), ("aanslag", 91, "unreadReminderDays"), ("", 14, "messageType")],
)
def test_invalid_settings_are_refused_naming_the_field(runtime, sender, message_type, days, field):
    with pytest.raises(ValidationFailed, match=f"^{field}: "), runtime.database.unit_of_work() as session:
        senders.set_unread_reminder_days(session, sender_id=sender.id, message_type=message_type, days=days)


def test_removing_a_type_without_a_setting_is_not_found(runtime, sender, other_sender):
    _set(runtime, other_sender.id, "aanslag", 14)
    with pytest.raises(NotFound), runtime.database.unit_of_work() as session:
        senders.remove_message_type_setting(session, sender_id=sender.id, message_type="aanslag")


def test_unread_reminder_days_answers_only_the_configured_pairs(runtime, sender, other_sender):
    third = register(runtime, "Provincie Verweg", "00000001002220649000")
    _set(runtime, sender.id, "aanslag", 14)
    _set(runtime, sender.id, "beschikking", 3)
    _set(runtime, other_sender.id, "beschikking", 60)
    _set(runtime, third.id, "herinnering", 1)
    keys = [
        (sender.id, "aanslag"),
        (sender.id, "beschikking"),
        (sender.id, "aanslag"),  # asked twice
        (sender.id, "herinnering"),  # only the third sender has it
        (sender.id, None),
        (other_sender.id, "beschikking"),
        (other_sender.id, "aanslag"),  # only the first sender has it
        (other_sender.id, "Beschikking"),  # types match exactly
        (uuid.uuid4(), "aanslag"),  # unknown sender
    ]
    with runtime.database.unit_of_work(write=False) as session:
        assert repository.unread_reminder_days(session, keys) == {
            (sender.id, "aanslag"): 14,
            (sender.id, "beschikking"): 3,
            (other_sender.id, "beschikking"): 60,
        }


def test_unread_reminder_days_of_nothing_asks_nothing(runtime):
    with (
        runtime.database.unit_of_work(write=False) as session,
        _counting_selects(session.get_bind()) as selects,
    ):
        assert repository.unread_reminder_days(session, []) == {}
        assert repository.unread_reminder_days(session, iter([(uuid.uuid4(), None)])) == {}
    assert selects == []


def test_unread_reminder_days_makes_one_query_per_chunk_not_per_key(runtime, sender, other_sender):
    types = [f"type-{n:04d}" for n in range(600)]
    with runtime.database.unit_of_work() as session:
        for n, message_type in enumerate(types):
            if n % 3 == 0:
                repository.set_unread_reminder_days(session, sender.id, message_type, 1 + n % 90, clock.now())
            if n % 5 == 0:
                repository.set_unread_reminder_days(session, other_sender.id, message_type, 2, clock.now())
    keys = [(sender.id, t) for t in types] + [(other_sender.id, t) for t in types]  # 1200 pairs
    with (
        runtime.database.unit_of_work(write=False) as session,
        _counting_selects(session.get_bind()) as selects,
    ):
        found = repository.unread_reminder_days(session, (key for key in keys))  # any iterable, once
    assert len(selects) == 3
    expected = {(sender.id, t): 1 + n % 90 for n, t in enumerate(types) if n % 3 == 0}
    expected |= {(other_sender.id, t): 2 for n, t in enumerate(types) if n % 5 == 0}
    assert found == expected
