"""The end of a letter's dueDate through the real worker: `never-read` / `never-confirmed` at the first
moment of the next Dutch day, for what was not done by then, once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from postvak.flows import due_dates
from postvak.flows.due_dates import DUE_DATE_JOB, end_due_dates
from postvak.inbox import service as inbox
from postvak.kit import clock
from tests.support.citizens import make_citizen
from tests.support.jobs import stored_job
from tests.support.notifying import deliver, events_of, notifying

START = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
# 2027-03-28 is the last Sunday of March: summer time starts, and the day ends at 22:00 UTC.
DUE = "2027-03-28"
END = datetime(2027, 3, 28, 22, 0, tzinfo=UTC)


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


@pytest.fixture
def worker(runtime) -> Iterator:
    at(START)
    with notifying(runtime) as (_sink, worker):
        yield worker


def _types(client, sender, message_id) -> list[str]:
    return [kind for kind, _ in events_of(client, sender, message_id)]


def _read(runtime, citizen, message_id) -> None:
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=message_id
        )


def _confirm(runtime, citizen, message_id) -> None:
    with runtime.database.unit_of_work() as session:
        assert inbox.confirm_receipt(session, mailbox_id=citizen.mailbox_id, message_id=message_id)


def test_an_unread_letter_gets_never_read_once_at_the_end_of_its_due_date_in_dutch_time(
    runtime, client, sender, bsns, worker
):
    citizen = make_citizen(runtime, bsns[0])
    message_id = deliver(client, sender, bsns[0], "DUE-1", dueDate=DUE)
    job = stored_job(runtime, f"{DUE_DATE_JOB}:{message_id}")
    assert clock.as_utc(job.due_at) == END
    worker.drain()
    at(END - timedelta(seconds=1))  # 23:59:59 on the due date in Amsterdam
    worker.drain()
    assert "never-read" not in _types(client, sender, message_id)

    at(END)
    worker.drain()
    assert _types(client, sender, message_id)[-1] == "never-read"
    answer = client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()
    assert answer["status"] == "never-read"

    at(END + timedelta(days=3))  # later runs, and the same job run again, add nothing
    worker.drain()
    with runtime.database.unit_of_work() as session:
        end_due_dates(session, payloads=[job.payload, job.payload])
    assert _types(client, sender, message_id).count("never-read") == 1

    _read(runtime, citizen, message_id)  # and it can still be read

    assert _types(client, sender, message_id)[-1] == "read"


def test_a_letter_read_before_the_end_of_its_due_date_gets_nothing(runtime, client, sender, bsns, worker):
    citizen = make_citizen(runtime, bsns[0])
    message_id = deliver(client, sender, bsns[0], "DUE-2", dueDate=DUE)
    worker.drain()
    at(END - timedelta(minutes=1))
    _read(runtime, citizen, message_id)
    at(END + timedelta(minutes=1))
    worker.drain()
    types = _types(client, sender, message_id)
    assert types[-1] == "read" and "never-read" not in types and "never-confirmed" not in types


def test_a_letter_that_asks_for_confirmation_gets_never_confirmed_unless_confirmed(
    runtime, client, sender, bsns, worker
):
    citizen = make_citizen(runtime, bsns[0])
    read_only, confirmed, unread = (
        deliver(client, sender, bsns[0], f"CONF-{n}", dueDate=DUE, confirmationRequired=True)
        for n in range(3)
    )
    worker.drain()
    at(END - timedelta(hours=1))
    for message_id in (read_only, confirmed):
        _read(runtime, citizen, message_id)
    _confirm(runtime, citizen, confirmed)
    at(END)
    worker.drain()
    assert _types(client, sender, read_only)[-2:] == ["read", "never-confirmed"]
    assert _types(client, sender, confirmed)[-2:] == ["read", "confirmed"]
    assert "never-confirmed" not in _types(client, sender, confirmed)
    assert _types(client, sender, unread)[-2:] == ["never-confirmed", "never-read"]
    for message_id, status in (
        (read_only, "never-confirmed"),
        (confirmed, "confirmed"),
        (unread, "never-read"),
    ):
        assert client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()["status"] == status

    at(END + timedelta(days=1))  # confirmed late: the sender learns that too
    _confirm(runtime, citizen, read_only)
    assert _types(client, sender, read_only)[-1] == "confirmed"
    worker.drain()
    assert [_types(client, sender, m).count("never-confirmed") for m in (read_only, confirmed, unread)] == [
        1,
        0,
        1,
    ]


def test_a_letter_waiting_in_a_mailbox_not_activated_gets_never_read(runtime, client, sender, bsns, worker):
    message_id = deliver(client, sender, bsns[0], "DUE-UNREACHABLE", dueDate=DUE)
    assert _types(client, sender, message_id) == ["accepted", "unreachable"]
    at(END)
    worker.drain()
    assert _types(client, sender, message_id) == ["accepted", "unreachable", "never-read"]


def test_a_scheduled_letter_published_before_its_due_date_ends_as_any_other(
    runtime, client, sender, bsns, worker
):
    make_citizen(runtime, bsns[0])
    message_id = deliver(
        client,
        sender,
        bsns[0],
        "DUE-SCHEDULED",
        dueDate=DUE,
        publishAt=(START + timedelta(days=1)).isoformat(),
    )
    at(START + timedelta(days=1, seconds=1))
    worker.drain()
    at(END)
    worker.drain()
    assert _types(client, sender, message_id) == [
        "accepted",
        "scheduled",
        "delivered",
        "notified",
        "never-read",
    ]


def test_a_letter_still_scheduled_at_the_end_of_its_due_date_gets_nothing_then(
    runtime, client, sender, bsns, worker
):
    make_citizen(runtime, bsns[0])
    message_id = deliver(
        client,
        sender,
        bsns[0],
        "DUE-LATE",
        dueDate="2027-03-21",
        publishAt=(START + timedelta(days=3)).isoformat(),
    )
    at(datetime(2027, 3, 21, 23, 0, tzinfo=UTC))
    worker.drain()
    assert _types(client, sender, message_id) == ["accepted", "scheduled"]


def test_only_letters_with_a_due_date_get_the_job(runtime, client, sender, bsns, worker):
    message_id = deliver(client, sender, bsns[0], "NO-DUE")
    with pytest.raises(Exception, match="No row was found"):
        stored_job(runtime, f"{DUE_DATE_JOB}:{message_id}")
    again = deliver(client, sender, bsns[0], "DUE-AGAIN", dueDate=DUE)
    assert deliver(client, sender, bsns[0], "DUE-AGAIN", dueDate=DUE) == again  # a retry queues nothing new
    assert stored_job(runtime, f"{DUE_DATE_JOB}:{again}").payload == {
        "messageId": again,
        "confirmationRequired": False,
        "paperFallback": "never",
    }


def test_a_due_date_that_cannot_be_ended_fails_alone(runtime, client, sender, bsns, worker, monkeypatch):
    ids = sorted(deliver(client, sender, bsn, f"POISON-{n}", dueDate=DUE) for n, bsn in enumerate(bsns[:3]))
    real_events_of = due_dates.history.events_of

    def events_of_failing_for_one(session, *, message_ids):
        if uuid.UUID(ids[1]) in message_ids:
            raise RuntimeError("a fault in one message")
        return real_events_of(session, message_ids=message_ids)

    monkeypatch.setattr(due_dates.history, "events_of", events_of_failing_for_one)
    at(END)
    assert worker.drain() == 3  # one batch of three, which fails and runs again one by one
    assert [_types(client, sender, m)[-1] for m in ids] == ["never-read", "unreachable", "never-read"]
    failed = stored_job(runtime, f"{DUE_DATE_JOB}:{ids[1]}")
    assert failed.failures == 1 and failed.done_at is None and "a fault in one message" in failed.last_error
    assert stored_job(runtime, f"{DUE_DATE_JOB}:{ids[0]}").done_at is not None
