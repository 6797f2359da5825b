"""Reminders end to end with a controllable clock: once after N days unread, a last one five days
before the due date, never for a letter that was read, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from postvak.kit import clock
from tests.support.citizens import make_citizen
from tests.support.notifying import deliver, events_of, notifying

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


def reminders(client, sender, message_id) -> list[str | None]:
    return [detail for kind, detail in events_of(client, sender, message_id) if kind == "reminded"]


def test_unread_and_last_reminders_come_once_and_never_for_read_letters(runtime, client, sender, bsns):
    citizen = make_citizen(runtime, bsns[0])
    at(T0)
    with notifying(runtime) as (sink, worker):
        tax = deliver(
            client,
            sender,
            bsns[0],
            "R-tax",
            dueDate="2027-03-31",
            action={"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/1"},
        )
        plain = deliver(client, sender, bsns[0], "R-plain")
        read = deliver(client, sender, bsns[0], "R-read")
        worker.drain()
        assert len(sink.wait_for(3)) == 3

        at(T0 + timedelta(days=2))
        _read(client, runtime, citizen, read)
        at(T0 + timedelta(days=6, hours=23))
        worker.drain()
        assert len(sink.messages) == 3  # not yet: seven days

        at(T0 + timedelta(days=7, seconds=1))
        worker.drain()
        sink.wait_for(5)
        worker.drain()
        assert len(sink.messages) == 5
        assert all(m["Subject"].startswith("Herinnering: ") for m in sink.messages[3:])
        assert {m["Message-ID"] for m in sink.messages[3:]} == {
            f"<unread.{tax}.email@postvak.localhost>",
            f"<unread.{plain}.email@postvak.localhost>",
        }

        at(datetime(2027, 3, 26, 8, 1, tzinfo=UTC))  # 09:01 in the Netherlands, five days before
        worker.drain()
        [last] = sink.wait_for(6)[5:]
        assert last["Message-ID"] == f"<due-date.{tax}.email@postvak.localhost>"

        for days in (30, 60):
            at(T0 + timedelta(days=days))
            worker.drain()
        assert len(sink.messages) == 6  # never twice
    assert reminders(client, sender, tax) == ["unread", "due-date"]
    assert reminders(client, sender, plain) == ["unread"]
    assert reminders(client, sender, read) == []


def test_a_sender_sets_the_unread_days_per_message_type(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[0])
    answer = client.put(
        "/api/v1/message-types/aanslag", json={"unreadReminderDays": 3}, headers=sender.headers
    )
    assert answer.status_code == 200
    at(T0)
    with notifying(runtime) as (sink, worker):
        quick = deliver(client, sender, bsns[0], "Q-1")  # messageType "aanslag"
        usual = deliver(client, sender, bsns[0], "Q-2", messageType="brief")
        worker.drain()
        at(T0 + timedelta(days=3, seconds=1))
        worker.drain()
        sink.wait_for(3)
    assert reminders(client, sender, quick) == ["unread"]
    assert reminders(client, sender, usual) == []


def _read(client, runtime, citizen, message_id: str) -> None:
    from tests.support.citizens import sign_in

    sign_in(client, runtime, citizen)
    assert client.get(f"/letters/{message_id}").status_code == 200
