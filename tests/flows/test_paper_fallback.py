"""What sets the paper fallback off, through the real worker: `if-unreachable` at delivery (or publication)
into a mailbox not activated, `if-unread-by-due-date` at the end of the dueDate for a letter still unread;
each letter printed once, in a batch in POSTVAK_PRINT_DIR, and never when read in time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from postvak.flows.due_dates import DUE_DATE_JOB, end_due_dates
from postvak.inbox import service as inbox
from postvak.kit import clock
from tests.support.citizens import make_citizen
from tests.support.jobs import stored_job
from tests.support.letters import letter
from tests.support.notifying import deliver, events_of, notifying
from tests.support.printing import batch_folders, pdf_pages, register_addresses

START = datetime(2027, 10, 20, 9, 0, tzinfo=UTC)
# 2027-10-31 is the last Sunday of October: winter time comes back, and the day ends at 23:00 UTC.
DUE = "2027-10-31"
END = datetime(2027, 10, 31, 23, 0, tzinfo=UTC)


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


@pytest.fixture
def worker(runtime) -> Iterator:
    at(START)
    with notifying(runtime) as (_sink, worker):
        yield worker


@pytest.fixture
def print_dir(runtime):
    return runtime.settings.resolved_print_dir


def _types(client, sender, message_id) -> list[str]:
    return [kind for kind, _ in events_of(client, sender, message_id)]


def _printed(print_dir) -> dict[str, int]:
    """Each letter in a handed-over batch: how many times it was printed."""
    found: dict[str, int] = {}
    for folder in batch_folders(print_dir):
        for item in json.loads((folder / "manifest.json").read_text())["items"]:
            found[item["messageId"]] = found.get(item["messageId"], 0) + 1
    return found


def test_an_unreachable_letter_is_printed_at_once_when_its_sender_asked(
    runtime, client, sender, bsns, worker, print_dir
):
    register_addresses(runtime, bsns[:3])
    make_citizen(runtime, bsns[2])
    asked = deliver(client, sender, bsns[0], "PAPER-1", paperFallback="if-unreachable", dueDate=DUE)
    not_asked = deliver(client, sender, bsns[1], "PAPER-2")
    reachable = deliver(client, sender, bsns[2], "PAPER-3", paperFallback="if-unreachable")
    assert batch_folders(print_dir) == []  # nothing is printed in the request
    worker.drain()
    assert _printed(print_dir) == {asked: 1}
    [folder] = batch_folders(print_dir)
    pages = pdf_pages((folder / f"{asked}.pdf").read_bytes())
    assert "PAPER-1" in pages[0] and "Oudegracht 1 bis" in pages[0]
    assert _types(client, sender, asked) == ["accepted", "unreachable", "fallback-printed"]
    assert _types(client, sender, not_asked) == ["accepted", "unreachable"]
    assert "fallback-printed" not in _types(client, sender, reachable)

    # Activated later, the citizen finds it; at the end of its dueDate it is unread, and not printed again.
    citizen = make_citizen(runtime, bsns[0])
    at(END)
    worker.drain()
    assert _types(client, sender, asked) == ["accepted", "unreachable", "fallback-printed", "never-read"]
    with runtime.database.unit_of_work() as session:
        inbox.read_message(session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=asked)
    worker.drain()
    assert _printed(print_dir) == {asked: 1}
    assert _types(client, sender, asked).count("fallback-printed") == 1


def test_an_unreachable_letter_in_a_batch_is_printed_and_its_neighbours_stay_digital(
    runtime, client, sender, bsns, worker, print_dir
):
    register_addresses(runtime, bsns[:4])
    make_citizen(runtime, bsns[3])
    items = [
        letter(bsns[0], "BATCH-0", paperFallback="if-unreachable"),
        letter(bsns[1], "BATCH-1", paperFallback="if-unreachable"),
        letter(bsns[2], "BATCH-2"),
        letter(bsns[3], "BATCH-3", paperFallback="if-unreachable"),
    ]
    answer = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers)
    ids = [r["id"] for r in answer.json()["results"]]
    worker.drain()
    assert _printed(print_dir) == {ids[0]: 1, ids[1]: 1}
    assert len(batch_folders(print_dir)) == 1


def test_a_scheduled_letter_published_into_a_mailbox_not_activated_is_printed_then(
    runtime, client, sender, bsns, worker, print_dir
):
    register_addresses(runtime, bsns[:1])
    message_id = deliver(
        client,
        sender,
        bsns[0],
        "PAPER-LATER",
        paperFallback="if-unreachable",
        publishAt=(START + timedelta(hours=2)).isoformat(),
    )
    worker.drain()
    assert batch_folders(print_dir) == []
    at(START + timedelta(hours=2, seconds=1))
    worker.drain()
    assert _printed(print_dir) == {message_id: 1}
    assert _types(client, sender, message_id) == ["accepted", "scheduled", "unreachable", "fallback-printed"]


def test_a_letter_unread_at_the_end_of_its_due_date_is_printed_once(
    runtime, client, sender, bsns, worker, print_dir
):
    register_addresses(runtime, bsns[:2])
    make_citizen(runtime, bsns[0])
    unread = deliver(client, sender, bsns[0], "UNREAD-1", paperFallback="if-unread-by-due-date", dueDate=DUE)
    unreachable = deliver(
        client, sender, bsns[1], "UNREAD-2", paperFallback="if-unread-by-due-date", dueDate=DUE
    )
    worker.drain()
    assert batch_folders(print_dir) == []  # unreachable, but its sender asked for paper only when unread
    at(END - timedelta(seconds=1))
    worker.drain()
    assert batch_folders(print_dir) == []

    at(END)
    worker.drain()
    assert _printed(print_dir) == {unread: 1, unreachable: 1}
    [folder] = batch_folders(print_dir)  # the letters whose due date ended together go in one batch
    text = " ".join(" ".join(pdf_pages((folder / f"{unread}.pdf").read_bytes())).split())
    assert "UNREAD-1" in text and "31 oktober 2027" in text
    assert _types(client, sender, unread) == [
        "accepted",
        "delivered",
        "notified",
        "never-read",
        "fallback-printed",
    ]
    assert _types(client, sender, unreachable) == [
        "accepted",
        "unreachable",
        "never-read",
        "fallback-printed",
    ]

    at(END + timedelta(days=2))
    worker.drain()
    assert _printed(print_dir) == {unread: 1, unreachable: 1}
    assert [_types(client, sender, m).count("fallback-printed") for m in (unread, unreachable)] == [1, 1]


def test_a_letter_read_the_day_before_is_never_printed(runtime, client, sender, bsns, worker, print_dir):
    register_addresses(runtime, bsns[:1])
    citizen = make_citizen(runtime, bsns[0])
    message_id = deliver(
        client, sender, bsns[0], "READ-1", paperFallback="if-unread-by-due-date", dueDate=DUE
    )
    worker.drain()
    at(END - timedelta(days=1))
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=message_id
        )
    at(END + timedelta(minutes=5))
    worker.drain()
    assert batch_folders(print_dir) == []
    types = _types(client, sender, message_id)
    assert types[-1] == "read" and "never-read" not in types and "fallback-printed" not in types


def test_a_letter_read_after_its_due_date_but_before_its_print_is_not_printed(
    runtime, client, sender, bsns, worker, print_dir
):
    register_addresses(runtime, bsns[:1])
    citizen = make_citizen(runtime, bsns[0])
    message_id = deliver(
        client, sender, bsns[0], "READ-2", paperFallback="if-unread-by-due-date", dueDate=DUE
    )
    worker.drain()
    at(END)
    # Only the end of the due date runs: the print job it queued waits.
    job = stored_job(runtime, f"{DUE_DATE_JOB}:{message_id}")
    with runtime.database.unit_of_work() as session:
        assert end_due_dates(session, payloads=[job.payload]) == [uuid.UUID(message_id)]
    with runtime.database.unit_of_work() as session:
        inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=message_id
        )
    worker.drain()
    assert batch_folders(print_dir) == []
    assert _types(client, sender, message_id)[-2:] == ["never-read", "read"]


def test_paper_when_unread_by_the_due_date_without_a_due_date_is_refused(client, sender, bsns):
    at(START)
    body = letter(bsns[0], "NO-DUE", paperFallback="if-unread-by-due-date")
    answer = client.post("/api/v1/messages", json=body, headers=sender.headers)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"].endswith("/validation-failed")
    assert problem["detail"] == "dueDate: required when paperFallback is if-unread-by-due-date"

    batch = [body, letter(bsns[1], "WITH-DUE", paperFallback="if-unread-by-due-date", dueDate=DUE)]
    results = client.post("/api/v1/message-batches", json={"messages": batch}, headers=sender.headers).json()
    assert [r["outcome"] for r in results["results"]] == ["rejected", "created"]
    assert results["results"][0]["problem"]["detail"].startswith("dueDate:")
