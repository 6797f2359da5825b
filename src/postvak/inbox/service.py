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
from postvak.messages import rules as letter_rules
from postvak.messages import service as messages
from postvak.messages.models import Message
from postvak.messages.render import render_body

PURGE_JOB = "purge-bin"


@dataclass(frozen=True)
class InboxPage:
    listing: rules.Listing
    letters: list[repository.LetterRow]
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
class OpenedLetter:
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


def list_letters(session: Session, mailbox_id: uuid.UUID, listing: rules.Listing) -> InboxPage:
    """One page of the citizen's letters as the listing asks; an unknown folder is not found."""
    folder = None
    if listing.box == "folder":
        folder = repository.get_folder(session, mailbox_id, listing.folder_id)
        if folder is None:
            raise NotFound("no folder with this id")
    words = rules.search_words(listing.q)
    matching = search.index_for(session).matching(mailbox_id, words) if words else None
    rows, total = repository.list_letters(
        session, mailbox_id, listing, clock.now(), matching, rules.PAGE_SIZE
    )
    return InboxPage(listing, rows, total, rules.page_count(total), folder)


def box_counts(session: Session, mailbox_id: uuid.UUID) -> dict[str, int]:
    return repository.box_counts(session, mailbox_id, clock.now())


def senders_of(session: Session, mailbox_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    return repository.senders_of(session, mailbox_id)


def _letter(session: Session, mailbox_id: uuid.UUID, message_id: str, *, lock: bool = False):
    parsed = parse_id(message_id)
    found = repository.get_letter(session, mailbox_id, parsed, lock=lock) if parsed else None
    if found is None:
        raise NotFound("no letter with this id")  # also when it is someone else's
    return found


def _history(session: Session, message_id: uuid.UUID) -> list[str]:
    return history.types_of(session, [message_id])[message_id]


def _add_events(session: Session, message: Message, events: Iterable[str], now: datetime) -> None:
    history.append(session, events=[history.Event(message.id, message.sender_id, e, now) for e in events])


def read_letter(session: Session, keyring: KeyRing, mailbox_id: uuid.UUID, message_id: str) -> OpenedLetter:
    """Open a letter: its verified body as safe HTML; the first opening adds `read` for the sender.

    The body is opened before anything is recorded: a letter that fails its integrity check
    raises IntegrityFailure, is never shown, and is not marked read.
    """
    item, message, sender_name = _letter(session, mailbox_id, message_id, lock=True)
    body_html = render_body(messages.open_body(keyring, message))
    so_far = _history(session, message.id)
    added = rules.opening_events(so_far)
    _add_events(session, message, added, clock.now())
    item.unread = False
    attachments = [
        AttachmentLink(link.position, link.file_name, blob.size, blob.page_count)
        for link, blob in messages.attachments_of(session, message.id)
    ]
    return OpenedLetter(item, message, sender_name, body_html, attachments, so_far + added)


def confirm_receipt(session: Session, mailbox_id: uuid.UUID, message_id: str) -> bool:
    """Add `confirmed` when the sender asked for it and the letter was read; True when added now."""
    _item, message, _name = _letter(session, mailbox_id, message_id, lock=True)
    added = rules.confirmation_events(_history(session, message.id), message.confirmation_required)
    _add_events(session, message, added, clock.now())
    return bool(added)


def attachment_download(
    session: Session,
    keyring: KeyRing,
    store: BlobStore,
    mailbox_id: uuid.UUID,
    message_id: str,
    position: int,
) -> tuple[str, bytes]:
    """(file name, verified PDF bytes) of one attachment of the citizen's letter."""
    _item, message, _name = _letter(session, mailbox_id, message_id)
    for link, blob in messages.attachments_of(session, message.id):
        if link.position == position:
            return link.file_name, read_blob(keyring, store, blob=blob)
    raise NotFound("no attachment at this position")


# Managing letters -------------------------------------------------------------------------------


def apply_action(
    session: Session, mailbox_id: uuid.UUID, action: str, message_ids: Iterable[str], folder: str = ""
) -> int:
    """Do `action` (rules.ACTIONS) to the citizen's selected letters; returns how many it changed.

    Ids that are malformed or belong to someone else are simply not among the changed.
    """
    ids = sorted({p for p in (parse_id(i) for i in message_ids) if p is not None})
    now = clock.now()
    binned, not_binned = InboxItem.binned_at.is_not(None), InboxItem.binned_at.is_(None)
    if action == "purge":
        return purge(session, mailbox_id, ids, now)
    if action == "move":
        return _move(session, mailbox_id, ids, folder)
    if action == "bin":
        changed = repository.update_items(session, mailbox_id, ids, [not_binned], {"binned_at": now})
        if changed:
            _schedule_purge(session, mailbox_id, now)
        return changed
    changes = {
        "unread": ([], {"unread": True}),
        "archive": ([not_binned], {"archived": True, "folder_id": None}),
        "unarchive": ([not_binned, InboxItem.archived == true()], {"archived": False}),
        "restore": ([binned, InboxItem.binned_at > rules.bin_cutoff(now)], {"binned_at": None}),
    }
    if action not in changes:
        raise ValidationFailed("action: not a known action")
    where, values = changes[action]
    return repository.update_items(session, mailbox_id, ids, where, values)


def _move(session: Session, mailbox_id: uuid.UUID, ids: list[uuid.UUID], folder: str) -> int:
    """Into one of the citizen's folders, or back to the inbox when `folder` is empty."""
    target = None
    if folder:
        found = repository.get_folder(session, mailbox_id, parse_id(folder)) if parse_id(folder) else None
        if found is None:
            raise NotFound("no folder with this id")
        target = found.id
    values = {"folder_id": target, "archived": False}
    return repository.update_items(session, mailbox_id, ids, [InboxItem.binned_at.is_(None)], values)


def _schedule_purge(session: Session, mailbox_id: uuid.UUID, binned_at: datetime) -> None:
    due = rules.purge_job_due(binned_at)
    jobs.enqueue(
        session,
        kind=PURGE_JOB,
        key=f"{PURGE_JOB}:{mailbox_id}:{due:%Y%m%d%H}",
        payload={"mailboxId": str(mailbox_id)},
        due_at=due,
    )


def purge(session: Session, mailbox_id: uuid.UUID, message_ids: list[uuid.UUID] | None, now: datetime) -> int:
    """Remove binned letters from the citizen's view for good; the sender sees `deleted-by-recipient`."""
    rows = repository.binned(session, mailbox_id, message_ids)
    return _purge_rows(session, rows, now)


def _purge_rows(session: Session, rows, now: datetime) -> int:
    histories = history.types_of(session, [mid for mid, _, _ in rows])
    events = [
        history.Event(mid, sid, event, now)
        for mid, sid, _ in rows
        for event in rules.removal_events(histories[mid])
    ]
    history.append(session, events=events)
    repository.mark_purged(session, [mid for mid, _, _ in rows], now)
    return len(rows)


def empty_bin(session: Session, mailbox_id: uuid.UUID) -> int:
    return purge(session, mailbox_id, None, clock.now())


def purge_expired(session: Session, mailbox_id: uuid.UUID) -> int:
    """Purge the mailbox's letters that have been in the bin for 30 days (the purge job)."""
    now = clock.now()
    rows = [r for r in repository.binned(session, mailbox_id) if rules.purge_due(clock.as_utc(r[2]), now)]
    return _purge_rows(session, rows, now)


# Folders ----------------------------------------------------------------------------------------


def folders(session: Session, mailbox_id: uuid.UUID) -> list[tuple[Folder, int]]:
    return repository.folders_of(session, mailbox_id)


def create_folder(session: Session, mailbox_id: uuid.UUID, raw_name: str) -> uuid.UUID:
    """A new folder; a bad name raises ValidationFailed whose detail is a message for the citizen."""
    existing = [f.name for f, _ in repository.folders_of(session, mailbox_id)]
    name = rules.clean_folder_name(raw_name)
    if problem := rules.folder_limit_problem(len(existing)) or rules.folder_name_problem(name, existing):
        raise ValidationFailed(problem)
    folder_id = new_id()
    row = {"id": folder_id, "mailbox_id": mailbox_id, "name": name, "created_at": clock.now()}
    repository.insert_folder(session, row)
    return folder_id


def rename_folder(session: Session, mailbox_id: uuid.UUID, folder_id: str, raw_name: str) -> None:
    folder = _folder(session, mailbox_id, folder_id)
    name = rules.clean_folder_name(raw_name)
    others = [f.name for f, _ in repository.folders_of(session, mailbox_id) if f.id != folder.id]
    if problem := rules.folder_name_problem(name, others):
        raise ValidationFailed(problem)
    repository.rename_folder(session, folder.id, name)


def delete_folder(session: Session, mailbox_id: uuid.UUID, folder_id: str) -> None:
    """Remove the folder; its letters return to the inbox."""
    repository.delete_folder(session, _folder(session, mailbox_id, folder_id).id)


def _folder(session: Session, mailbox_id: uuid.UUID, folder_id: str) -> Folder:
    parsed = parse_id(folder_id)
    folder = repository.get_folder(session, mailbox_id, parsed) if parsed else None
    if folder is None:
        raise NotFound("no folder with this id")
    return folder


# Filing and activation --------------------------------------------------------------------------


def file_letters(session: Session, *, letters: Sequence[dict], now: datetime) -> None:
    """Put letters just stored into their mailboxes and the search index, in the caller's transaction.

    Each letter is a dict with the Message columns id, mailbox_id, subject, message_type and
    sender_reference, and its sender_name: delivery has them at hand, so nothing is read back.
    """
    repository.file_letters(session, letters, now)


def file_stored_letters(session: Session, *, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """file_letters for letters stored earlier (a scheduled letter at its publication)."""
    repository.file_stored_letters(session, message_ids, now)


def deliver_waiting_letters(session: Session, mailbox_id: uuid.UUID) -> list[uuid.UUID]:
    """When a mailbox is activated: letters that waited as `unreachable` become `delivered`.

    Call it in the transaction that activates the mailbox. It also files any letter of the
    mailbox that has no inbox line yet and is not scheduled. Returns the letters delivered now.
    """
    now = clock.now()
    unfiled = repository.unfiled_letters(session, mailbox_id)
    waiting = repository.waiting_letters(session, mailbox_id)
    histories = history.types_of(session, sorted(set(unfiled) | {mid for mid, _ in waiting}))
    statuses = {mid: letter_rules.current_status(h) for mid, h in histories.items()}
    repository.file_stored_letters(
        session, [mid for mid in unfiled if statuses[mid] not in (None, "accepted", "scheduled")], now
    )
    events = [
        history.Event(mid, sid, event, now)
        for mid, sid in waiting
        for event in rules.activation_events(histories[mid])
    ]
    history.append(session, events=events)
    return sorted({event.message_id for event in events})
