"""The inbox's use cases on a real database: filing, listing, reading, confirming, managing, activation."""

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from postvak.errors import IntegrityFailure, NotFound
from postvak.inbox import rules
from postvak.inbox import service as inbox
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.messages.models import Message
from postvak.runtime import job_handlers
from tests.attachments import pdfs
from tests.inbox.mailboxes import history, mailbox, mailbox_of, send
from tests.support.letters import letter

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def ticking():
    """A clock that moves one minute on every delivery helper call."""
    moments = iter(START + timedelta(minutes=n) for n in range(10_000))
    current = [next(moments)]
    clock.set_clock(lambda: current[0])
    return lambda: current.__setitem__(0, next(moments))


def _listing(runtime, box_id, **params):
    with runtime.database.unit_of_work(write=False) as session:
        return inbox.list_messages(session, mailbox_id=box_id, listing=rules.parse_listing(params))


def _read(runtime, box_id, message_id):
    with runtime.database.unit_of_work() as session:
        return inbox.read_message(
            session, keyring=runtime.keyring, mailbox_id=box_id, message_id=str(message_id)
        )


def _act(runtime, box_id, use_case, ids, **options):
    with runtime.database.unit_of_work() as session:
        return use_case(session, mailbox_id=box_id, message_ids=[str(i) for i in ids], **options)


def test_delivered_letters_are_listed_newest_first_and_unread(runtime, sender, bsns, ticking):
    box = mailbox(runtime, bsns[0])
    pdf = {
        "fileName": "a.pdf",
        "mediaType": "application/pdf",
        "content": base64.b64encode(pdfs.one_page()).decode(),
    }
    ids = []
    for n in range(3):
        ids += send(runtime, sender, letter(bsns[0], f"NEW-{n}", attachments=[pdf] if n == 1 else []))
        ticking()
    page = _listing(runtime, box)
    assert [row.message_id for row in page.messages] == ids[::-1]
    assert all(row.unread for row in page.messages)
    assert [row.attachment_count for row in page.messages] == [0, 1, 0]
    assert page.messages[0].sender_name == "Gemeente Testdorp"
    assert (page.total, page.pages) == (3, 1)
    assert history(runtime, ids[0]) == ["accepted", "delivered"]


def test_a_letter_waits_in_an_unactivated_mailbox_and_is_delivered_on_activation(runtime, sender, bsns):
    [message_id] = send(runtime, sender, letter(bsns[1], "WAIT-1"))
    assert history(runtime, message_id) == ["accepted", "unreachable"]
    box = mailbox(runtime, bsns[1])  # activates it
    with runtime.database.unit_of_work() as session:
        assert len(inbox.deliver_waiting_messages(session, mailbox_id=box)) == 1
    with runtime.database.unit_of_work() as session:
        assert inbox.deliver_waiting_messages(session, mailbox_id=box) == []
    assert history(runtime, message_id) == ["accepted", "unreachable", "delivered"]
    assert [row.message_id for row in _listing(runtime, box).messages] == [message_id]


def test_opening_a_letter_that_still_waits_delivers_it_first(runtime, sender, bsns):
    [message_id] = send(runtime, sender, letter(bsns[2], "WAIT-2"))
    box = mailbox_of(runtime, bsns[2])
    _read(runtime, box, message_id)
    assert history(runtime, message_id) == ["accepted", "unreachable", "delivered", "read"]


def test_a_scheduled_letter_enters_the_inbox_when_published(runtime, sender, bsns):
    clock.set_clock(lambda: START)
    box = mailbox(runtime, bsns[3])
    [message_id] = send(
        runtime, sender, letter(bsns[3], "LATER-1", publishAt=(START + timedelta(hours=2)).isoformat())
    )
    assert _listing(runtime, box).total == 0
    clock.set_clock(lambda: START + timedelta(hours=2))
    Worker(runtime.database, job_handlers()).run_once()
    assert [row.message_id for row in _listing(runtime, box).messages] == [message_id]
    assert history(runtime, message_id) == ["accepted", "scheduled", "delivered"]


def test_the_first_opening_adds_read_once(runtime, sender, bsns):
    box = mailbox(runtime, bsns[4])
    [message_id] = send(runtime, sender, letter(bsns[4], "READ-1", body="Hallo **daar**"))
    opened = _read(runtime, box, message_id)
    assert "<strong>daar</strong>" in opened.body_html
    assert not _listing(runtime, box).messages[0].unread
    assert _act(runtime, box, inbox.mark_unread, [message_id]) == 1
    assert _listing(runtime, box).messages[0].unread
    _read(runtime, box, message_id)
    assert history(runtime, message_id) == ["accepted", "delivered", "read"]


def test_a_tampered_body_is_neither_shown_nor_marked_read(runtime, sender, bsns):
    box = mailbox(runtime, bsns[5])
    [message_id] = send(runtime, sender, letter(bsns[5], "TAMPER-1"))
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == message_id).values(body_sealed=b"\0" * 40))
    with pytest.raises(IntegrityFailure):
        _read(runtime, box, message_id)
    assert history(runtime, message_id) == ["accepted", "delivered"]
    assert _listing(runtime, box).messages[0].unread


def test_confirming_receipt(runtime, sender, bsns):
    box = mailbox(runtime, bsns[6])
    asked, plain = send(
        runtime,
        sender,
        letter(bsns[6], "CONF-1", confirmationRequired=True),
        letter(bsns[6], "CONF-2"),
    )
    assert _listing(runtime, box, action="1").total == 1  # awaiting confirmation needs action
    opened = _read(runtime, box, asked)
    assert opened.can_confirm and not opened.confirmed
    _read(runtime, box, plain)
    with runtime.database.unit_of_work() as session:
        assert inbox.confirm_receipt(session, mailbox_id=box, message_id=str(asked))
        assert not inbox.confirm_receipt(session, mailbox_id=box, message_id=str(asked))  # once
        assert not inbox.confirm_receipt(session, mailbox_id=box, message_id=str(plain))  # not asked for
    assert history(runtime, asked) == ["accepted", "delivered", "read", "confirmed"]
    assert _listing(runtime, box, action="1").total == 0


def test_another_mailbox_cannot_reach_a_letter(runtime, sender, bsns):
    mine, theirs = mailbox(runtime, bsns[7]), mailbox(runtime, bsns[8])
    content = pdfs.one_page()
    pdf = {"fileName": "a.pdf", "mediaType": "application/pdf", "content": base64.b64encode(content).decode()}
    [message_id] = send(runtime, sender, letter(bsns[7], "MINE-1", attachments=[pdf]))
    with pytest.raises(NotFound):
        _read(runtime, theirs, message_id)
    with runtime.database.unit_of_work() as session, pytest.raises(NotFound):
        inbox.download_attachment(
            session,
            keyring=runtime.keyring,
            store=runtime.blobs,
            mailbox_id=theirs,
            message_id=str(message_id),
            position=0,
        )
    with runtime.database.unit_of_work() as session, pytest.raises(NotFound):
        inbox.confirm_receipt(session, mailbox_id=theirs, message_id=str(message_id))
    use_cases = (
        inbox.mark_unread,
        inbox.archive_messages,
        inbox.unarchive_messages,
        inbox.bin_messages,
        inbox.restore_messages,
        inbox.purge_binned_messages,
    )
    assert len(use_cases) == len(rules.ACTIONS) - 1  # every action but "move", which needs a folder
    for use_case in use_cases:
        assert _act(runtime, theirs, use_case, [message_id]) == 0
    assert _listing(runtime, theirs).total == 0
    assert history(runtime, message_id) == ["accepted", "delivered"]
    with runtime.database.unit_of_work() as session:
        name, data = inbox.download_attachment(
            session,
            keyring=runtime.keyring,
            store=runtime.blobs,
            mailbox_id=mine,
            message_id=str(message_id),
            position=0,
        )
        assert (name, data) == ("a.pdf", content)
        with pytest.raises(NotFound):
            inbox.download_attachment(
                session,
                keyring=runtime.keyring,
                store=runtime.blobs,
                mailbox_id=mine,
                message_id=str(message_id),
                position=1,
            )
        with pytest.raises(NotFound):
            inbox.read_message(session, keyring=runtime.keyring, mailbox_id=mine, message_id="not-an-id")


def test_filters_sorting_and_pages(runtime, sender, other_sender, bsns, ticking):
    box = mailbox(runtime, bsns[9])
    ids = []
    for n in range(rules.PAGE_SIZE + 5):
        fields = {"dueDate": date(2027, 3, 1 + n % 28).isoformat()} if n % 3 == 0 else {}
        if n % 5 == 0:
            fields["action"] = {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/x"}
        ids += send(runtime, other_sender if n % 10 == 0 else sender, letter(bsns[9], f"F-{n:02d}", **fields))
        ticking()
    first, second = _listing(runtime, box), _listing(runtime, box, page="2")
    assert (first.pages, len(first.messages), len(second.messages)) == (2, rules.PAGE_SIZE, 5)
    assert [r.message_id for r in first.messages + second.messages] == ids[::-1]
    assert [r.message_id for r in _listing(runtime, box, sort="oldest").messages[:2]] == ids[:2]
    due = [r.due_date for r in _listing(runtime, box, sort="due").messages]
    dated = [d for d in due if d is not None]
    assert dated == sorted(dated) and due[: len(dated)] == dated  # undated last
    assert _listing(runtime, box, sender=str(other_sender.id)).total == 3
    assert _listing(runtime, box, action="1").total == 6
    _read(runtime, box, ids[0])
    assert _listing(runtime, box, unread="1").total == len(ids) - 1
    assert _listing(runtime, box, unread="1", sender=str(other_sender.id)).total == 2


def test_archive_and_folders(runtime, sender, bsns):
    box = mailbox(runtime, bsns[10])
    a, b, c = send(runtime, sender, *(letter(bsns[10], f"FOLD-{n}") for n in range(3)))
    assert _act(runtime, box, inbox.archive_messages, [a]) == 1
    assert [r.message_id for r in _listing(runtime, box, box="archive").messages] == [a]
    assert a not in [r.message_id for r in _listing(runtime, box).messages]
    assert _act(runtime, box, inbox.unarchive_messages, [a]) == 1
    with runtime.database.unit_of_work() as session:
        folder = inbox.create_folder(session, mailbox_id=box, name="  Belasting  ")
        with pytest.raises(Exception, match="already"):
            inbox.create_folder(session, mailbox_id=box, name="belasting")
    assert _act(runtime, box, inbox.move_to_folder, [b, c], folder_id=str(folder)) == 2
    in_folder = _listing(runtime, box, folder=str(folder))
    assert in_folder.folder.name == "Belasting" and in_folder.total == 2
    assert [r.message_id for r in _listing(runtime, box).messages] == [a]
    with runtime.database.unit_of_work(write=False) as session:
        assert inbox.count_messages(session, mailbox_id=box) == {"inbox": 1, "bin": 0, str(folder): 2}
    with runtime.database.unit_of_work() as session:
        inbox.rename_folder(session, mailbox_id=box, folder_id=str(folder), name="Zorg")
        assert [(f.name, n) for f, n in inbox.list_folders(session, mailbox_id=box)] == [("Zorg", 2)]
        inbox.delete_folder(session, mailbox_id=box, folder_id=str(folder))
    assert _listing(runtime, box).total == 3  # the folder's letters are back in the inbox
    other = mailbox(runtime, bsns[11])
    with runtime.database.unit_of_work() as session:
        theirs = inbox.create_folder(session, mailbox_id=other, name="Theirs")
    with runtime.database.unit_of_work() as session, pytest.raises(NotFound):
        inbox.move_to_folder(session, mailbox_id=box, message_ids=[str(a)], folder_id=str(theirs))
    with runtime.database.unit_of_work() as session, pytest.raises(NotFound):
        inbox.delete_folder(session, mailbox_id=box, folder_id=str(theirs))


def test_bin_restore_and_empty(runtime, sender, bsns):
    box = mailbox(runtime, bsns[12])
    a, b = send(runtime, sender, letter(bsns[12], "BIN-1"), letter(bsns[12], "BIN-2"))
    assert _act(runtime, box, inbox.bin_messages, [a, b]) == 2
    assert _listing(runtime, box).total == 0 and _listing(runtime, box, box="bin").total == 2
    assert _act(runtime, box, inbox.restore_messages, [a]) == 1
    assert [r.message_id for r in _listing(runtime, box).messages] == [a]
    with runtime.database.unit_of_work() as session:
        assert inbox.empty_bin(session, mailbox_id=box) == 1
        assert inbox.empty_bin(session, mailbox_id=box) == 0
    assert history(runtime, b) == ["accepted", "delivered", "deleted-by-recipient"]
    assert _listing(runtime, box, box="all").total == 1 and _listing(runtime, box, box="bin").total == 0
    assert _act(runtime, box, inbox.restore_messages, [b]) == 0
    with pytest.raises(NotFound):
        _read(runtime, box, b)


def test_after_30_days_the_bin_forgets_and_the_job_purges(runtime, sender, bsns):
    binned_at = START + timedelta(minutes=20)
    clock.set_clock(lambda: binned_at)
    box = mailbox(runtime, bsns[13])
    [message_id] = send(runtime, sender, letter(bsns[13], "OLD-1"))
    _act(runtime, box, inbox.bin_messages, [message_id])
    worker = Worker(runtime.database, job_handlers())
    clock.set_clock(lambda: binned_at + timedelta(days=30))
    assert _listing(runtime, box, box="bin").total == 0  # hidden even before the job runs
    assert _act(runtime, box, inbox.restore_messages, [message_id]) == 0
    assert worker.run_once() == 0  # the job waits for the next full hour
    clock.set_clock(lambda: START + timedelta(days=30, hours=1))
    assert worker.run_once() == 1
    assert history(runtime, message_id) == ["accepted", "delivered", "deleted-by-recipient"]


def test_a_restored_letter_is_not_purged_by_the_job(runtime, sender, bsns):
    clock.set_clock(lambda: START)
    box = mailbox(runtime, bsns[14])
    [message_id] = send(runtime, sender, letter(bsns[14], "BACK-1"))
    _act(runtime, box, inbox.bin_messages, [message_id])
    _act(runtime, box, inbox.restore_messages, [message_id])
    clock.set_clock(lambda: START + timedelta(days=31))
    assert Worker(runtime.database, job_handlers()).run_once() == 1
    assert history(runtime, message_id) == ["accepted", "delivered"]
    assert _listing(runtime, box).total == 1
