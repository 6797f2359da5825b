"""Use cases of the citizen's inbox: list and search, read and confirm, archive, folders, the bin."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import true
from sqlalchemy.orm import Session

from postvak.attachments.service import read_blob
from postvak.blobs.store import BlobStore
from postvak.errors import NotFound, ValidationFailed
from postvak.inbox import repository, rules, search
from postvak.inbox.models import Folder, InboxItem
from postvak.jobs import service as jobs
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.ids import new_id, parse_id
from postvak.messages import history
from postvak.messages import rules as message_rules
from postvak.messages import service as messages
from postvak.messages.models import Message
from postvak.messages.render import render_body

PURGE_JOB = "purge-bin"


@dataclass(frozen=True)
class InboxPage:
    listing: rules.Listing
    messages: list[repository.MessageRow]
    total: int
    pages: int
    folder: Folder | None


@dataclass(frozen=True)
class AttachmentLink:
    position: int
    file_name: str
    size: int
    pages: int


@dataclass(frozen=True)
class OpenedMessage:
    item: InboxItem
    message: Message
    sender_name: str
    body_html: str
    attachments: list[AttachmentLink]
    history: list[str]

    @property
    def confirmed(self) -> bool:
        return "confirmed" in self.history

    @property
    def can_confirm(self) -> bool:
        return bool(rules.confirmation_events(self.history, self.message.confirmation_required))


def list_messages(session: Session, *, mailbox_id: uuid.UUID, listing: rules.Listing) -> InboxPage:
    """One page of the citizen's messages as the listing asks; an unknown folder is not found."""
    folder = None
    if listing.box == "folder":
        folder = repository.get_folder(session, mailbox_id, listing.folder_id)
        if folder is None:
            raise NotFound("no folder with this id")
    words = rules.search_words(listing.q)
    matching = search.index_for(session).matching(mailbox_id, words) if words else None
    rows, total = repository.list_messages(
        session, mailbox_id, listing, clock.now(), matching, rules.PAGE_SIZE
    )
    return InboxPage(listing, rows, total, rules.page_count(total), folder)


def count_messages(session: Session, *, mailbox_id: uuid.UUID) -> dict[str, int]:
    """How many messages each box holds (inbox, bin, each folder; the inbox and folders count unread ones)."""
    return repository.box_counts(session, mailbox_id, clock.now())


def list_senders(session: Session, *, mailbox_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of every organisation that wrote to the mailbox, for the sender filter."""
    return repository.senders_of(session, mailbox_id)


def _message(session: Session, mailbox_id: uuid.UUID, message_id: str, *, lock: bool = False):
    parsed = parse_id(message_id)
    found = repository.get_message(session, mailbox_id, parsed, lock=lock) if parsed else None
    if found is None:
        raise NotFound("no letter with this id")  # also when it is someone else's
    return found


def _history(session: Session, message_id: uuid.UUID) -> list[str]:
    return history.types_of(session, message_ids=[message_id])[message_id]


def _add_events(session: Session, message: Message, events: Iterable[str], now: datetime) -> None:
    history.append(session, events=[history.Event(message.id, message.sender_id, e, now) for e in events])


def read_message(
    session: Session, *, keyring: KeyRing, mailbox_id: uuid.UUID, message_id: str
) -> OpenedMessage:
    """Open a message: its verified body as safe HTML; the first opening adds `read` for the sender.

    The body is opened before anything is recorded: a message that fails its integrity check
    raises IntegrityFailure, is never shown, and is not marked read.
    """
    item, message, sender_name = _message(session, mailbox_id, message_id, lock=True)
    body_html = render_body(messages.open_body(keyring, message=message))
    so_far = _history(session, message.id)
    added = rules.opening_events(so_far)
    _add_events(session, message, added, clock.now())
    item.unread = False
    attachments = [
        AttachmentLink(link.position, link.file_name, blob.size, blob.page_count)
        for link, blob in messages.list_attachments(session, message_id=message.id)
    ]
    return OpenedMessage(item, message, sender_name, body_html, attachments, so_far + added)


def confirm_receipt(session: Session, *, mailbox_id: uuid.UUID, message_id: str) -> bool:
    """Add `confirmed` when the sender asked for it and the message was read; True when added now."""
    _item, message, _name = _message(session, mailbox_id, message_id, lock=True)
    added = rules.confirmation_events(_history(session, message.id), message.confirmation_required)
    _add_events(session, message, added, clock.now())
    return bool(added)


def download_attachment(
    session: Session,
    *,
    keyring: KeyRing,
    store: BlobStore,
    mailbox_id: uuid.UUID,
    message_id: str,
    position: int,
) -> tuple[str, bytes]:
    """(file name, verified PDF bytes) of one attachment of the citizen's message."""
    _item, message, _name = _message(session, mailbox_id, message_id)
    for link, blob in messages.list_attachments(session, message_id=message.id):
        if link.position == position:
            return link.file_name, read_blob(keyring, store, blob=blob)
    raise NotFound("no attachment at this position")


# Managing messages ------------------------------------------------------------------------------
# Each returns how many of the citizen's selected messages it changed: ids that are malformed or
# belong to someone else are simply not among the changed.

_NOT_BINNED = InboxItem.binned_at.is_(None)


def mark_unread(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Show the messages as unread again (their `read` event for the sender stays)."""
    return repository.update_items(session, mailbox_id, _ids(message_ids), [], {"unread": True})


def archive_messages(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Into the archive, out of any folder; binned messages stay in the bin."""
    values = {"archived": True, "folder_id": None}
    return repository.update_items(session, mailbox_id, _ids(message_ids), [_NOT_BINNED], values)


def unarchive_messages(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Archived messages back to the inbox."""
    where = [_NOT_BINNED, InboxItem.archived == true()]
    return repository.update_items(session, mailbox_id, _ids(message_ids), where, {"archived": False})


def move_to_folder(
    session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str], folder_id: str
) -> int:
    """Into one of the citizen's folders, or back to the inbox when `folder_id` is empty."""
    target = None
    if folder_id:
        parsed = parse_id(folder_id)
        found = repository.get_folder(session, mailbox_id, parsed) if parsed else None
        if found is None:
            raise NotFound("no folder with this id")
        target = found.id
    values = {"folder_id": target, "archived": False}
    return repository.update_items(session, mailbox_id, _ids(message_ids), [_NOT_BINNED], values)


def bin_messages(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Into the bin, purged for good after 30 days unless restored."""
    now = clock.now()
    changed = repository.update_items(
        session, mailbox_id, _ids(message_ids), [_NOT_BINNED], {"binned_at": now}
    )
    if changed:
        _schedule_purge(session, mailbox_id, now)
    return changed


def restore_messages(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Out of the bin, while they are not due to be purged."""
    where = [InboxItem.binned_at.is_not(None), InboxItem.binned_at > rules.bin_cutoff(clock.now())]
    return repository.update_items(session, mailbox_id, _ids(message_ids), where, {"binned_at": None})


def purge_binned_messages(session: Session, *, mailbox_id: uuid.UUID, message_ids: Iterable[str]) -> int:
    """Remove the selected binned messages from the citizen's view for good."""
    return _purge(session, mailbox_id, _ids(message_ids), clock.now())


def empty_bin(session: Session, *, mailbox_id: uuid.UUID) -> int:
    """Remove every binned message from the citizen's view for good."""
    return _purge(session, mailbox_id, None, clock.now())


def purge_expired_messages(session: Session, *, mailbox_id: uuid.UUID) -> int:
    """Purge the mailbox's messages that have been in the bin for 30 days (the purge job)."""
    now = clock.now()
    rows = [r for r in repository.binned(session, mailbox_id) if rules.purge_due(clock.as_utc(r[2]), now)]
    return _purge_rows(session, rows, now)


def _ids(message_ids: Iterable[str]) -> list[uuid.UUID]:
    return sorted({p for p in (parse_id(i) for i in message_ids) if p is not None})


def _schedule_purge(session: Session, mailbox_id: uuid.UUID, binned_at: datetime) -> None:
    due = rules.purge_job_due(binned_at)
    jobs.enqueue(
        session,
        kind=PURGE_JOB,
        key=f"{PURGE_JOB}:{mailbox_id}:{due:%Y%m%d%H}",
        payload={"mailboxId": str(mailbox_id)},
        due_at=due,
    )


def _purge(
    session: Session, mailbox_id: uuid.UUID, message_ids: list[uuid.UUID] | None, now: datetime
) -> int:
    """Remove binned messages (all when `message_ids` is None) for good; the sender sees
    `deleted-by-recipient`."""
    return _purge_rows(session, repository.binned(session, mailbox_id, message_ids), now)


def _purge_rows(session: Session, rows, now: datetime) -> int:
    histories = history.types_of(session, message_ids=[mid for mid, _, _ in rows])
    events = [
        history.Event(mid, sid, event, now)
        for mid, sid, _ in rows
        for event in rules.removal_events(histories[mid])
    ]
    history.append(session, events=events)
    repository.mark_purged(session, [mid for mid, _, _ in rows], now)
    return len(rows)


# Folders ----------------------------------------------------------------------------------------


def list_folders(session: Session, *, mailbox_id: uuid.UUID) -> list[tuple[Folder, int]]:
    """The citizen's folders by name, each with how many messages it holds."""
    return repository.folders_of(session, mailbox_id)


def create_folder(session: Session, *, mailbox_id: uuid.UUID, name: str) -> uuid.UUID:
    """A new folder; a bad name raises ValidationFailed whose detail is a message for the citizen."""
    existing = [f.name for f, _ in repository.folders_of(session, mailbox_id)]
    name = rules.clean_folder_name(name)
    if problem := rules.folder_limit_problem(len(existing)) or rules.folder_name_problem(name, existing):
        raise ValidationFailed(problem)
    folder_id = new_id()
    row = {"id": folder_id, "mailbox_id": mailbox_id, "name": name, "created_at": clock.now()}
    repository.insert_folder(session, row)
    return folder_id


def rename_folder(session: Session, *, mailbox_id: uuid.UUID, folder_id: str, name: str) -> None:
    """A bad name raises ValidationFailed whose detail is a message for the citizen."""
    folder = _folder(session, mailbox_id, folder_id)
    name = rules.clean_folder_name(name)
    others = [f.name for f, _ in repository.folders_of(session, mailbox_id) if f.id != folder.id]
    if problem := rules.folder_name_problem(name, others):
        raise ValidationFailed(problem)
    repository.rename_folder(session, folder.id, name)


def delete_folder(session: Session, *, mailbox_id: uuid.UUID, folder_id: str) -> None:
    """Remove the folder; its messages return to the inbox."""
    repository.delete_folder(session, _folder(session, mailbox_id, folder_id).id)


def _folder(session: Session, mailbox_id: uuid.UUID, folder_id: str) -> Folder:
    parsed = parse_id(folder_id)
    folder = repository.get_folder(session, mailbox_id, parsed) if parsed else None
    if folder is None:
        raise NotFound("no folder with this id")
    return folder


# Filing and activation --------------------------------------------------------------------------


def file_messages(session: Session, *, messages: Sequence[dict], now: datetime) -> None:
    """Put messages just stored into their mailboxes and the search index, in the caller's transaction.

    Each message is a dict with the Message columns id, mailbox_id, subject, message_type and
    sender_reference, and its sender_name: delivery has them at hand, so nothing is read back.
    """
    repository.file_messages(session, messages, now)


def file_stored_messages(session: Session, *, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """file_messages for messages stored earlier (a scheduled message at its publication)."""
    repository.file_stored_messages(session, message_ids, now)


def deliver_waiting_messages(session: Session, *, mailbox_id: uuid.UUID) -> list[uuid.UUID]:
    """When a mailbox is activated: messages that waited as `unreachable` become `delivered`.

    Call it in the transaction that activates the mailbox. It also files any message of the mailbox
    that has no inbox line yet and belongs there (not scheduled, not withdrawn). Returns the messages
    delivered now.
    """
    now = clock.now()
    unfiled = repository.unfiled_messages(session, mailbox_id)
    waiting = repository.waiting_messages(session, mailbox_id)
    histories = history.types_of(session, message_ids=sorted(set(unfiled) | {mid for mid, _ in waiting}))
    statuses = {mid: message_rules.current_status(h) for mid, h in histories.items()}
    repository.file_stored_messages(
        session, [mid for mid in unfiled if message_rules.in_mailbox(statuses[mid])], now
    )
    events = [
        history.Event(mid, sid, event, now)
        for mid, sid in waiting
        for event in rules.activation_events(histories[mid])
    ]
    history.append(session, events=events)
    return sorted({event.message_id for event in events})
