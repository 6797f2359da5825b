"""Letters at the service level: sealed bodies, key rotation, scheduled publication by the worker, lookup."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text, update

from postvak.attachments import service as attachments
from postvak.errors import IntegrityFailure
from postvak.flows.delivery import deliver_messages
from postvak.jobs import repository as jobs
from postvak.jobs.service import enqueue
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.messages import repository
from postvak.messages import service as messages
from postvak.messages.models import Message
from postvak.runtime import job_handlers
from postvak.senders.models import Sender
from tests.attachments import pdfs
from tests.support.letters import letter


def _sender(runtime, handle) -> Sender:
    with runtime.database.unit_of_work(write=False) as session:
        return session.get(Sender, handle.id)


def _stored(runtime, reference: str) -> Message:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalars(select(Message).where(Message.sender_reference == reference)).one()


def test_bodies_are_sealed_and_open_to_the_text_sent(runtime, sender, bsns):
    body = "Geachte heer,\n\nUw **aanslag** staat klaar. ✉"
    deliver_messages(runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "SEAL-1", body=body)])
    message = _stored(runtime, "SEAL-1")
    assert body.encode() not in message.body_sealed
    assert messages.open_body(runtime.keyring, message=message) == body


def test_a_flipped_byte_in_a_stored_body_is_never_served(runtime, sender, bsns):
    deliver_messages(runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "FLIP-1")])
    message = _stored(runtime, "FLIP-1")
    tampered = bytearray(message.body_sealed)
    tampered[20] ^= 0x80
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == message.id).values(body_sealed=bytes(tampered)))
    with pytest.raises(IntegrityFailure):
        messages.open_body(runtime.keyring, message=_stored(runtime, "FLIP-1"))


def test_rotation_rewraps_keys_without_touching_content(runtime, sender, bsns):
    who = _sender(runtime, sender)
    pdf = pdfs.one_page()
    inline = {"fileName": "a.pdf", "mediaType": "application/pdf", "content": base64.b64encode(pdf).decode()}
    deliver_messages(
        runtime, sender=who, items=[letter(bsns[0], "ROT-1", attachments=[inline]), letter(bsns[1], "ROT-2")]
    )
    before = _stored(runtime, "ROT-1")
    old_key = runtime.keyring.active_id
    new_key = runtime.keyring.rotate()
    with runtime.database.unit_of_work() as session:
        assert messages.rewrap_body_keys(session, keyring=runtime.keyring, limit=1) == 1
        assert messages.rewrap_body_keys(session, keyring=runtime.keyring) == 1
        assert attachments.rewrap_blob_keys(session, keyring=runtime.keyring) == 1
    after = _stored(runtime, "ROT-1")
    assert (before.body_kek_id, after.body_kek_id) == (old_key, new_key)
    assert after.body_sealed == before.body_sealed  # content not re-encrypted
    assert messages.open_body(runtime.keyring, message=after) == letter(bsns[0], "x")["body"]
    with runtime.database.unit_of_work(write=False) as session:
        [(_, blob)] = repository.attachments_of(session, after.id)
    assert blob.kek_id == new_key
    assert attachments.read_blob(runtime.keyring, runtime.blobs, blob=blob) == pdf
    with runtime.database.unit_of_work() as session:
        assert (
            messages.rewrap_body_keys(session, keyring=runtime.keyring) == 0
        )  # nothing left under the old key


def test_a_scheduled_letter_is_delivered_by_the_worker_at_publish_at(runtime, sender, bsns):
    start = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    publish_at = (start + timedelta(hours=19)).isoformat()
    [outcome] = deliver_messages(
        runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "LATER-1", publishAt=publish_at)]
    )
    worker = Worker(runtime.database, job_handlers())

    def status() -> list[str]:
        with runtime.database.unit_of_work(write=False) as session:
            view = messages.get_sent_message(session, sender_id=sender.id, message_id=str(outcome.message_id))
        return [e.type for e in view.events]

    assert status() == ["accepted", "scheduled"]
    assert worker.run_once() == 0  # not due yet
    clock.set_clock(lambda: start + timedelta(hours=19, seconds=1))
    assert worker.run_once() == 1
    assert status() == ["accepted", "scheduled", "unreachable"]
    assert worker.run_once() == 0  # done, never twice


def test_a_failing_job_is_retried_later_not_lost(runtime):
    start = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    calls = []

    def flaky(session, payload):
        calls.append(payload)
        if len(calls) == 1:
            raise ConnectionError("down")

    with runtime.database.unit_of_work() as session:
        enqueue(session, kind="flaky", key="flaky:1", payload={"n": 1}, due_at=start)
    worker = Worker(runtime.database, {"flaky": flaky})
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # backing off
    clock.set_clock(lambda: start + timedelta(seconds=31))
    assert worker.run_once() == 1
    assert len(calls) == 2
    with runtime.database.unit_of_work(write=False) as session:
        assert jobs.pending_count(session) == 0


def test_a_lookup_by_reference_is_one_query_in_the_reference_index(runtime, sender, bsns):
    deliver_messages(runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "IDX-1")])
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = runtime.database.reader
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with runtime.database.unit_of_work(write=False) as session:
            assert (
                messages.find_sent_messages(session, sender_id=sender.id, sender_reference="IDX-2").messages
                == []
            )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    lookups = [s for s in statements if "FROM messages" in s]
    assert len(lookups) == 1 and "sender_reference" in lookups[0]
    query = "SELECT id FROM messages WHERE sender_reference = :r AND sender_id = :s"
    with runtime.database.unit_of_work(write=False) as session:
        if session.get_bind().dialect.name == "sqlite":
            plan = session.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"r": "IDX-2", "s": "x"})
        else:  # a table of one row is read whole; forbid that to see the index the lookup has
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = session.execute(text(f"EXPLAIN {query}"), {"r": "IDX-2", "s": sender.id})
        described = " ".join(str(row) for row in plan)
    # SQLite: "USING INDEX sqlite_autoindex_messages_2 (sender_reference=? AND sender_id=?)";
    # PostgreSQL: "Index Only Scan using messages_sender_reference_sender_id_key".
    assert "sender_reference_sender_id" in described or "sender_reference=? AND sender_id=?" in described, (
        described
    )
