"""The paper fallback on a real database: letters printed once, in batches; without an address, not at all."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from postvak.inbox import service as inbox
from postvak.jobs import repository as jobs
from postvak.jobs.service import enqueue, list_failing_jobs
from postvak.kit import clock
from postvak.messages.models import MessageEvent
from postvak.printing import rules, service
from postvak.printing.models import PrintBatch, PrintRecord
from tests.support.citizens import make_citizen
from tests.support.jobs import run_until_parked
from tests.support.letters import letter
from tests.support.notifying import events_of
from tests.support.printing import (
    attachment_pdf,
    batch_folders,
    inline_pdf,
    pdf_pages,
    print_worker,
    register_addresses,
    send_unreachable,
)


def _print(runtime, ids) -> service.PrintRequest:
    with runtime.database.unit_of_work() as session:
        return service.print_messages(session, message_ids=ids)


def _print_in(runtime, ids, *, batch_size: int) -> service.PrintRequest:
    with runtime.database.unit_of_work() as session:
        return service.print_messages(session, message_ids=ids, batch_size=batch_size)


def _events(runtime, kind: str) -> Counter:
    with runtime.database.unit_of_work(write=False) as session:
        return Counter(session.scalars(select(MessageEvent.message_id).where(MessageEvent.type == kind)))


def _records(runtime) -> dict[uuid.UUID, PrintRecord]:
    with runtime.database.unit_of_work(write=False) as session:
        return {r.message_id: r for r in session.scalars(select(PrintRecord))}


@pytest.fixture
def print_dir(runtime):
    return runtime.settings.resolved_print_dir


def test_unreachable_letters_are_printed_in_one_batch_with_their_attachments(
    runtime, client, sender, bsns, print_dir
):
    register_addresses(runtime, bsns[:3])
    ids = [
        send_unreachable(
            client,
            sender,
            bsns[0],
            "PRINT-0",
            subject="Aanslag 2027: € 312,50",
            body="Geachte mevrouw,\n\nU betaalt **€ 312,50** vóór de vervaldatum.",
            dueDate="2027-03-31",
            action={"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/0"},
            attachments=[
                inline_pdf(attachment_pdf("Bijlage A", 2)),
                inline_pdf(attachment_pdf("Bijlage B", 1)),
            ],
        ),
        send_unreachable(client, sender, bsns[1], "PRINT-1"),
        send_unreachable(client, sender, bsns[2], "PRINT-2"),
    ]
    outcome = _print(runtime, ids)
    assert sorted(outcome.claimed) == sorted(ids) and len(outcome.batches) == 1
    assert outcome.waiting_for_address == [] and outcome.not_printed == {}
    assert batch_folders(print_dir) == []  # nothing is rendered in the claiming transaction

    # The batch, and the print-letters job each delivery queued (finding its letter claimed already).
    assert print_worker(runtime).drain() == 1 + 3
    [folder] = batch_folders(print_dir)
    assert folder.name == str(outcome.batches[0])
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{i}.pdf" for i in ids] + ["manifest.json", "manifest.csv"]
    )

    pages = pdf_pages((folder / f"{ids[0]}.pdf").read_bytes())
    assert len(pages) == 1 + 1 + 2 + 1  # address page, the letter, the attachments' pages
    assert "Mevrouw J. de Vries-IJzerman 0\nOudegracht 1 bis\n3511 AB  UTRECHT" in pages[0]
    assert "Gemeente Testdorp" in pages[0] and "PRINT-0" in pages[0]
    letter = " ".join(pages[1].split())
    for expected in (
        "Aanslag 2027: € 312,50",
        "U betaalt € 312,50 vóór de vervaldatum.",
        "Uiterlijk op 31 maart 2027",
    ):
        assert expected in letter
    assert pages[2:] == ["Bijlage A pagina 1", "Bijlage A pagina 2", "Bijlage B pagina 1"]

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["letters"] == 3 and {i["messageId"] for i in manifest["items"]} == {str(i) for i in ids}
    assert (
        manifest["pages"] == sum(i["pages"] for i in manifest["items"]) and manifest["items"][0]["pages"] >= 2
    )
    assert _events(runtime, "fallback-printed") == Counter({i: 1 for i in ids})
    for message_id in ids:
        assert events_of(client, sender, str(message_id))[-1] == ("fallback-printed", None)
        assert client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()["status"] == (
            "fallback-printed"
        )
    records = _records(runtime)
    assert {r.state for r in records.values()} == {"printed"}
    assert {str(m): r.pages for m, r in records.items()} == {
        i["messageId"]: i["pages"] for i in manifest["items"]
    }


def test_many_letters_are_cut_into_batches(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:5])
    ids = [send_unreachable(client, sender, bsn, f"CUT-{n}") for n, bsn in enumerate(bsns[:5])]
    outcome = _print_in(runtime, ids, batch_size=2)
    assert len(outcome.batches) == 3 and sorted(outcome.claimed) == sorted(ids)
    print_worker(runtime).drain()
    folders = batch_folders(print_dir)
    assert sorted(f.name for f in folders) == sorted(str(b) for b in outcome.batches)
    assert sorted(len(list(f.glob("*.pdf"))) for f in folders) == [1, 2, 2]


def test_asking_twice_prints_once(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:2])
    ids = [send_unreachable(client, sender, bsn, f"TWICE-{n}") for n, bsn in enumerate(bsns[:2])]
    first = _print(runtime, ids)
    second = _print(runtime, ids)  # before the batch ran
    assert second.claimed == [] and second.batches == []
    assert set(second.not_printed.values()) == {"already claimed"}
    worker = print_worker(runtime)
    worker.drain()
    with runtime.database.unit_of_work() as session:  # and again through the outbox, after it ran
        enqueue(
            session,
            kind=service.PRINT_MESSAGES_JOB,
            key="print-letters:again",
            payload={"messageIds": [str(i) for i in ids]},
            due_at=clock.now(),
        )
    assert worker.drain() == 1
    third = _print(runtime, ids)
    assert third.claimed == [] and set(third.not_printed.values()) == {"already printed"}
    assert [f.name for f in batch_folders(print_dir)] == [str(first.batches[0])]
    assert _events(runtime, "fallback-printed") == Counter({i: 1 for i in ids})


def test_a_letter_without_an_address_waits_says_why_and_prints_once_the_address_is_there(
    runtime, client, sender, bsns, print_dir
):
    register_addresses(runtime, bsns[:1])
    known = send_unreachable(client, sender, bsns[0], "ADDR-0")
    unknown = send_unreachable(client, sender, bsns[1], "ADDR-1")
    outcome = _print(runtime, [known, unknown])
    assert outcome.claimed == [known] and outcome.waiting_for_address == [unknown]
    assert _print(runtime, [unknown]).waiting_for_address == [unknown]  # asked again: no second event
    print_worker(runtime).drain()
    assert events_of(client, sender, str(unknown))[1:] == [
        ("unreachable", None),
        ("fallback-not-printed", rules.NO_ADDRESS),
    ]
    assert client.get(f"/api/v1/messages/{unknown}", headers=sender.headers).json()["status"] == "unreachable"
    with runtime.database.unit_of_work(write=False) as session:
        [waiting] = service.list_messages_not_printed(session)
    assert (waiting.message_id, waiting.state, waiting.sender_reference) == (
        unknown,
        "waiting-address",
        "ADDR-1",
    )

    register_addresses(runtime, bsns[:2])  # the register learns the address
    with runtime.database.unit_of_work() as session:
        retried = service.print_waiting_messages(session)
    assert retried.claimed == [unknown]
    print_worker(runtime).drain()
    assert len(batch_folders(print_dir)) == 2
    assert _events(runtime, "fallback-printed") == Counter({known: 1, unknown: 1})
    assert _events(runtime, "fallback-not-printed") == Counter({unknown: 1})
    with runtime.database.unit_of_work(write=False) as session:
        assert service.list_messages_not_printed(session) == []


def test_a_waiting_letter_read_meanwhile_is_no_longer_waiting(runtime, client, sender, bsns):
    message_id = send_unreachable(client, sender, bsns[0], "WAIT-READ")
    assert _print(runtime, [message_id]).waiting_for_address == [message_id]
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=str(message_id)
        )
        retried = service.print_waiting_messages(session)
    assert retried.claimed == []
    assert retried.not_printed == {message_id: "a letter that is read is not printed"}
    with runtime.database.unit_of_work(write=False) as session:
        assert service.list_messages_not_printed(session) == []
    assert _records(runtime)[message_id].state == "left-out"


def test_read_letters_and_letters_never_to_print_are_not_printed(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:3])
    citizen = make_citizen(runtime, bsns[0])
    due = {"paperFallback": "if-unread-by-due-date", "dueDate": "2027-03-31"}
    read = client.post(
        "/api/v1/messages", json=letter(bsns[0], "READ", **due), headers=sender.headers
    ).json()["id"]
    unread = client.post(
        "/api/v1/messages", json=letter(bsns[0], "UNREAD", **due), headers=sender.headers
    ).json()["id"]
    with runtime.database.unit_of_work() as session:
        inbox.read_message(session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=read)
    never = send_unreachable(client, sender, bsns[1], "NEVER", paperFallback="never")
    outcome = _print(runtime, [uuid.UUID(read), uuid.UUID(unread), never, uuid.UUID(int=7)])
    assert outcome.claimed == [uuid.UUID(unread)]  # delivered, still unread: printed
    assert outcome.not_printed == {
        uuid.UUID(read): "a letter that is read is not printed",
        never: "the sender chose no paper fallback for this letter",
        uuid.UUID(int=7): "no such letter",
    }
    print_worker(runtime).drain()
    assert _events(runtime, "fallback-printed") == Counter({uuid.UUID(unread): 1})


def test_a_letter_read_after_its_claim_stays_out_of_its_batch(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:2])
    ids = [send_unreachable(client, sender, bsn, f"LATE-{n}") for n, bsn in enumerate(bsns[:2])]
    [batch_id] = _print(runtime, ids).batches
    citizen = make_citizen(runtime, bsns[0])  # activates: the waiting letter is delivered
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=str(ids[0])
        )
    print_worker(runtime).drain()
    [folder] = batch_folders(print_dir)
    assert sorted(p.name for p in folder.glob("*.pdf")) == [f"{ids[1]}.pdf"]
    assert _events(runtime, "fallback-printed") == Counter({ids[1]: 1})
    records = _records(runtime)
    assert (records[ids[0]].state, records[ids[1]].state) == ("left-out", "printed")
    assert records[ids[0]].detail == "a letter that is read is not printed"


def test_a_letter_read_after_its_batch_closed_is_recorded_printed_without_the_event(
    runtime, client, sender, bsns
):
    """The rare race: read between closing the batch and recording it. It is on paper all the same; its
    history cannot take `fallback-printed` after `read`, so the record alone says printed."""
    register_addresses(runtime, bsns[:1])
    message_id = send_unreachable(client, sender, bsns[0], "RACE")
    [batch_id] = _print(runtime, [message_id]).batches
    with runtime.database.unit_of_work() as session:
        assert service.close_batch(session, batch_id=batch_id, exclusions={}) == 1
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=str(message_id)
        )
    with runtime.database.unit_of_work() as session:
        assert service.mark_batch_printed(session, batch_id=batch_id, pages={message_id: 3}) == [message_id]
    with runtime.database.unit_of_work() as session:
        assert service.mark_batch_printed(session, batch_id=batch_id, pages={message_id: 3}) == []  # once
    assert _records(runtime)[message_id].state == "printed"
    assert _events(runtime, "fallback-printed") == Counter()
    assert events_of(client, sender, str(message_id))[-1][0] == "read"


def test_a_batch_whose_letters_all_stay_out_hands_nothing_over(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:1])
    message_id = send_unreachable(client, sender, bsns[0], "EMPTY")
    [batch_id] = _print(runtime, [message_id]).batches
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=str(message_id)
        )
    assert print_worker(runtime).drain() == 1 + 1  # the batch, and the delivery's print-letters job
    assert batch_folders(print_dir) == []
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(PrintBatch, batch_id).state == "empty"


def test_a_letter_whose_attachment_is_damaged_fails_alone(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:2])
    damaged = send_unreachable(
        client, sender, bsns[0], "DAMAGED", attachments=[inline_pdf(attachment_pdf("Kapot", 1))]
    )
    fine = send_unreachable(client, sender, bsns[1], "FINE")
    for stored in runtime.settings.blob_dir.rglob("*"):
        if stored.is_file():
            stored.write_bytes(b"not what was sealed")
    _print(runtime, [damaged, fine])
    print_worker(runtime).drain()
    [folder] = batch_folders(print_dir)
    assert sorted(p.name for p in folder.glob("*.pdf")) == [f"{fine}.pdf"]
    assert events_of(client, sender, str(damaged))[-1] == ("fallback-not-printed", rules.ATTACHMENT_FAILED)
    with runtime.database.unit_of_work(write=False) as session:
        [failed] = service.list_messages_not_printed(session)
    assert (failed.message_id, failed.state) == (damaged, "failed")


class _FlakyProvider:
    """The folder provider, whose first hand-over fails (a network share away for a moment)."""

    def __init__(self, provider) -> None:
        self.provider = provider
        self.failures = 1

    def handed_over(self, batch_id):
        return self.provider.handed_over(batch_id)

    def start_batch(self, batch_id, created_at):
        writer = self.provider.start_batch(batch_id, created_at)
        if self.failures:
            self.failures -= 1

            def fail():
                raise OSError("print share unavailable")

            writer.hand_over = fail
        return writer


def test_a_failed_hand_over_is_retried_under_the_same_batch_id(runtime, client, sender, bsns, print_dir):
    register_addresses(runtime, bsns[:2])
    ids = [send_unreachable(client, sender, bsn, f"RETRY-{n}") for n, bsn in enumerate(bsns[:2])]
    [batch_id] = _print(runtime, ids).batches
    worker = print_worker(runtime)
    lane = worker.lanes[-1]
    lane.provider = _FlakyProvider(lane.provider)
    worker.drain()
    assert batch_folders(print_dir) == [] and _events(runtime, "fallback-printed") == Counter()
    later = clock.now() + timedelta(minutes=1)  # the first retry comes within 30 s
    clock.set_clock(lambda: later)
    worker.drain()
    assert [f.name for f in batch_folders(print_dir)] == [str(batch_id)]
    assert _events(runtime, "fallback-printed") == Counter({i: 1 for i in ids})


class _BrokenProvider(_FlakyProvider):
    """The folder provider, whose hand-over always fails (a print share that stays away)."""

    def __init__(self, provider) -> None:
        super().__init__(provider)
        self.failures = 1_000


def test_a_batch_that_keeps_failing_is_parked_for_an_operator_after_the_configured_failures(
    runtime, client, sender, bsns, print_dir
):
    register_addresses(runtime, bsns[:1])
    ids = [send_unreachable(client, sender, bsns[0], "BROKEN")]
    [batch_id] = _print(runtime, ids).batches
    worker = print_worker(runtime)
    lane = worker.lanes[-1]
    lane.provider, lane.max_failures = _BrokenProvider(lane.provider), 3
    seen, job = run_until_parked(runtime, worker, f"{service.PRINT_BATCH_JOB}:{batch_id}", clock.now())
    assert seen == [1, 2, 3] and job.last_error == "OSError: print share unavailable"
    with runtime.database.unit_of_work(write=False) as session:
        [listed] = list_failing_jobs(session, parked_only=True)  # what `postvak jobs list` shows
    assert (listed.id, listed.kind, listed.state, listed.failures) == (job.id, "print-batch", "parked", 3)
    assert batch_folders(print_dir) == [] and _events(runtime, "fallback-printed") == Counter()


def test_a_run_that_lost_its_job_to_another_worker_records_nothing_and_the_other_records_once(
    runtime, client, sender, bsns, print_dir
):
    register_addresses(runtime, bsns[:2])
    ids = [send_unreachable(client, sender, bsn, f"LATE-{n}") for n, bsn in enumerate(bsns[:2])]
    [batch_id] = _print(runtime, ids).batches
    start = clock.now()
    with runtime.database.unit_of_work() as session:
        [slow] = jobs.claim(session, service.PRINT_BATCH_JOB, start, timedelta(minutes=5), 1, 10).jobs
    later = start + timedelta(minutes=6)
    clock.set_clock(lambda: later)
    with runtime.database.unit_of_work() as session:  # the slow run outlasted its lease
        [other] = jobs.claim(session, service.PRINT_BATCH_JOB, later, timedelta(minutes=5), 1, 10).jobs
    lane = print_worker(runtime).lanes[-1]
    lane.run([slow])  # hands the batch over, then finds the job is no longer its own
    assert [f.name for f in batch_folders(print_dir)] == [str(batch_id)]
    assert _events(runtime, "fallback-printed") == Counter()
    with runtime.database.unit_of_work(write=False) as session:
        stored = jobs.get(session, other.id)
        assert stored.done_at is None and stored.failures == 1 and stored.attempts == other.attempt
    lane.run([other])  # finds the batch handed over: only records it
    assert [f.name for f in batch_folders(print_dir)] == [str(batch_id)]
    assert _events(runtime, "fallback-printed") == Counter({i: 1 for i in ids})
    with runtime.database.unit_of_work(write=False) as session:
        assert jobs.get(session, other.id).done_at is not None
