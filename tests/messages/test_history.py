"""The one writer of the status history: transitions that messages.rules refuses are never written, and no
other module writes events."""

import ast
import uuid
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from postvak.flows.delivery import deliver_messages
from postvak.kit import clock
from postvak.messages import history
from postvak.messages.rules import InvalidTransition
from postvak.senders.models import Sender
from tests.support.letters import letter

SOURCE = Path(__file__).resolve().parents[2] / "src" / "postvak"


def _unreachable_letter(runtime, sender, bsn: str, reference: str) -> uuid.UUID:
    """A letter to a citizen without an account: its status is `unreachable`."""
    with runtime.database.unit_of_work(write=False) as session:
        who = session.get(Sender, sender.id)
    [outcome] = deliver_messages(runtime, sender=who, items=[letter(bsn, reference)])
    return outcome.message_id


def _history(runtime, message_id: uuid.UUID) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        return history.types_of(session, message_ids=[message_id])[message_id]


def test_an_illegal_transition_is_refused_and_nothing_of_its_call_written(runtime, sender, bsns):
    message_id = _unreachable_letter(runtime, sender, bsns[0], "HIST-1")
    now = clock.now()
    events = [
        history.Event(message_id, sender.id, "fallback-not-printed", now, "no address"),
        history.Event(message_id, sender.id, "confirmed", now),  # never read: nothing to confirm
    ]
    with pytest.raises(InvalidTransition), runtime.database.unit_of_work() as session:
        history.append(session, events=events)
    with runtime.database.unit_of_work() as session:
        with pytest.raises(InvalidTransition):
            history.append(session, events=events)
        history.append(session, events=events[:1])
    assert _history(runtime, message_id) == ["accepted", "unreachable", "fallback-not-printed"]


def test_each_event_is_judged_after_the_ones_before_it(runtime, sender, bsns):
    message_id = _unreachable_letter(runtime, sender, bsns[0], "HIST-2")
    now = clock.now()
    with runtime.database.unit_of_work() as session:
        history.append(
            session,
            events=[history.Event(message_id, sender.id, t, now) for t in ("delivered", "read", "confirmed")],
        )
    assert _history(runtime, message_id) == ["accepted", "unreachable", "delivered", "read", "confirmed"]
    with pytest.raises(InvalidTransition), runtime.database.unit_of_work() as session:
        history.append(session, events=[history.Event(message_id, sender.id, "read", now)])


def test_events_that_came_too_late_are_dropped_and_the_others_added(runtime, sender, bsns):
    message_id = _unreachable_letter(runtime, sender, bsns[0], "HIST-3")
    now = clock.now()
    events = [
        history.Event(message_id, sender.id, "notified", now, "email"),  # not delivered: cannot be
        history.Event(message_id, sender.id, "delivered", now),
        history.Event(message_id, sender.id, "notified", now, "email"),
    ]
    with runtime.database.unit_of_work() as session:
        added = history.append_allowed(session, events=events)
    assert added == events[1:]
    assert _history(runtime, message_id) == ["accepted", "unreachable", "delivered", "notified"]


@pytest.mark.parametrize(
    "wrong", [["delivered"], ["accepted", "read"], ["accepted", "scheduled", "confirmed"]]
)
def test_a_new_letter_starts_its_history_with_accepted(runtime, sender, wrong):
    message_id, now = uuid.uuid4(), clock.now()
    with pytest.raises(InvalidTransition), runtime.database.unit_of_work() as session:
        history.begin(session, events=[history.Event(message_id, sender.id, t, now) for t in wrong])


@pytest.fixture
def heard():
    """What a listener registered with messages.history hears, call by call (with the session)."""
    calls: list[tuple[Session, list[history.StoredEvent]]] = []

    def listener(session: Session, *, events: list[history.StoredEvent]) -> None:
        calls.append((session, list(events)))

    history.listen(listener)
    history.listen(listener)  # once is enough
    yield calls
    history.stop_listening(listener)


def test_listeners_hear_each_added_event_with_its_id_in_the_same_session(runtime, sender, bsns, heard):
    message_id = _unreachable_letter(runtime, sender, bsns[0], "HIST-4")
    assert [e.type for e in heard[0][1]] == ["accepted", "unreachable"]  # begin: a new message's
    now = clock.now()
    events = [
        history.Event(message_id, sender.id, "notified", now, "email"),  # dropped: not delivered
        history.Event(message_id, sender.id, "delivered", now),
        history.Event(message_id, sender.id, "notified", now, "email"),
    ]
    with runtime.database.unit_of_work() as session:
        history.append_allowed(session, events=events)
        history.append(session, events=[history.Event(message_id, sender.id, "read", now)])
        again = history.Event(message_id, sender.id, "accepted", now)
        assert history.append_allowed(session, events=[again]) == []  # nothing added: nobody is told
        assert [s for s, _ in heard[1:]] == [session, session]
    assert len(heard) == 3
    with runtime.database.unit_of_work(write=False) as session:
        stored = history.events_of(session, message_ids=[message_id])[message_id]
    told = [e for _, events in heard for e in events]
    assert told == [
        history.StoredEvent(e.id, e.message_id, e.sender_id, e.type, clock.as_utc(e.at), e.detail)
        for e in stored
    ]


def test_events_of_one_message_and_type_in_one_call_get_their_ids_in_order(runtime, sender, bsns, heard):
    message_id = _unreachable_letter(runtime, sender, bsns[0], "HIST-5")
    now = clock.now()
    reminders = [history.Event(message_id, sender.id, "reminded", now, f"reminder {n}") for n in range(3)]
    with runtime.database.unit_of_work() as session:
        history.append(session, events=[history.Event(message_id, sender.id, "delivered", now), *reminders])
    with runtime.database.unit_of_work(write=False) as session:
        stored = history.events_of(session, message_ids=[message_id])[message_id]
    assert [(e.event_id, e.detail) for e in heard[-1][1]] == [(e.id, e.detail) for e in stored[2:]]


def _writers_of_events(path: Path) -> list[str]:
    """What in a source file writes status events other than through messages.history."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("insert_events"):
            found.append("calls insert_events")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "MessageEvent" and node.attr == "__table__":
                found.append("uses MessageEvent.__table__")
        elif isinstance(node, ast.Call):
            names = [a.id for a in [node.func, *node.args] if isinstance(a, ast.Name)]
            if "MessageEvent" in names and not _is_a_query(node):
                found.append("constructs or inserts MessageEvent")
    return found


def _is_a_query(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id == "select"


def test_every_status_event_is_written_through_messages_history():
    allowed = {
        SOURCE / "messages" / "history.py": {"calls insert_events"},
        SOURCE / "messages" / "repository.py": {
            "uses MessageEvent.__table__",
            "constructs or inserts MessageEvent",
        },
    }
    wrong = {
        str(path.relative_to(SOURCE)): set(found) - allowed.get(path, set())
        for path in SOURCE.rglob("*.py")
        if (found := _writers_of_events(path))
    }
    assert {path: found for path, found in wrong.items() if found} == {}


def test_the_check_for_other_writers_finds_them(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from sqlalchemy import insert\n"
        "def a(session, rows):\n    letters.insert_events(session, rows)\n"
        "def a2(session, rows):\n    letters.insert_events_returning(session, rows)\n"
        "def b(session, rows):\n    session.execute(insert(MessageEvent), rows)\n"
        "def c(session):\n    session.add(MessageEvent(type='read'))\n"
        "def d(session, rows):\n    session.execute(MessageEvent.__table__.insert(), rows)\n"
        "def e(session):\n    return session.scalars(select(MessageEvent))\n"
    )
    assert sorted(_writers_of_events(sneaky)) == [
        "calls insert_events",
        "calls insert_events",
        "constructs or inserts MessageEvent",
        "constructs or inserts MessageEvent",
        "uses MessageEvent.__table__",
    ]
