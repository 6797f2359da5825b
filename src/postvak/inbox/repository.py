"""Every query about the citizen's messages, folders and bin; each one scoped to a mailbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, delete, exists, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from postvak.inbox import rules, search
from postvak.inbox.models import Folder, InboxItem
from postvak.kit.sql import insert_many
from postvak.messages.models import Message, MessageAttachment, MessageEvent
from postvak.senders.models import Sender


@dataclass(frozen=True)
class MessageRow:
    """One line of the inbox: what the list shows, without the (sealed) body."""

    message_id: uuid.UUID
    sender_id: uuid.UUID
    sender_name: str
    subject: str
    message_type: str | None
    reference: str
    due_date: date | None
    action_kind: str | None
    action_label: str | None
    confirmation_required: bool
    delivered_at: datetime
    unread: bool
    archived: bool
    folder_id: uuid.UUID | None
    binned_at: datetime | None
    attachment_count: int
    confirmed: bool


_confirmed = exists().where(MessageEvent.message_id == InboxItem.message_id, MessageEvent.type == "confirmed")
_attachment_count = (
    select(func.count())
    .where(MessageAttachment.message_id == InboxItem.message_id)
    .correlate(InboxItem)
    .scalar_subquery()
)
_ROW_COLUMNS = (
    InboxItem.message_id,
    Message.sender_id,
    Sender.name,
    Message.subject,
    Message.message_type,
    Message.sender_reference,
    Message.due_date,
    Message.action_kind,
    Message.action_label,
    Message.confirmation_required,
    InboxItem.delivered_at,
    InboxItem.unread,
    InboxItem.archived,
    InboxItem.folder_id,
    InboxItem.binned_at,
    _attachment_count,
    _confirmed,
)


def _joined(query: Select) -> Select:
    return query.join(Message, Message.id == InboxItem.message_id).join(
        Sender, Sender.id == Message.sender_id
    )


# Listing ----------------------------------------------------------------------------------------


def _box_conditions(mailbox_id: uuid.UUID, listing: rules.Listing, now: datetime) -> list[ColumnElement]:
    visible = [InboxItem.mailbox_id == mailbox_id, InboxItem.purged_at.is_(None)]
    not_binned = InboxItem.binned_at.is_(None)
    by_box = {
        "inbox": [not_binned, InboxItem.archived == false(), InboxItem.folder_id.is_(None)],
        "archive": [not_binned, InboxItem.archived == true()],
        "folder": [not_binned, InboxItem.folder_id == listing.folder_id],
        "all": [not_binned],
        # Past its 30 days a binned message is gone, whether or not the purge job has run yet.
        "bin": [InboxItem.binned_at.is_not(None), InboxItem.binned_at > rules.bin_cutoff(now)],
    }
    conditions = visible + by_box[listing.box]
    if listing.unread:
        conditions.append(InboxItem.unread == true())
    if listing.sender_id is not None:
        conditions.append(Message.sender_id == listing.sender_id)
    if listing.action:
        conditions.append(
            or_(
                Message.action_kind.in_(rules.ACTION_KINDS_NEEDING_ACTION),
                and_(Message.confirmation_required == true(), ~_confirmed),
            )
        )
    return conditions


_ORDER = {
    "newest": (InboxItem.delivered_at.desc(), InboxItem.message_id.desc()),
    "oldest": (InboxItem.delivered_at.asc(), InboxItem.message_id.asc()),
    "due": (Message.due_date.asc().nulls_last(), InboxItem.delivered_at.desc(), InboxItem.message_id.desc()),
}


def list_messages(
    session: Session,
    mailbox_id: uuid.UUID,
    listing: rules.Listing,
    now: datetime,
    matching: Select | None,
    page_size: int,
) -> tuple[list[MessageRow], int]:
    """One page of the listing and the number of messages in it altogether."""
    conditions = _box_conditions(mailbox_id, listing, now)
    if matching is not None:
        conditions.append(InboxItem.message_id.in_(matching))
    total = session.scalar(_joined(select(func.count()).select_from(InboxItem)).where(*conditions)) or 0
    query = (
        _joined(select(*_ROW_COLUMNS).select_from(InboxItem))
        .where(*conditions)
        .order_by(*_ORDER[listing.sort])
        .limit(page_size)
        .offset((listing.page - 1) * page_size)
    )
    return [MessageRow(*row) for row in session.execute(query)], total


def box_counts(session: Session, mailbox_id: uuid.UUID, now: datetime) -> dict[str, int]:
    """Unread messages in the inbox and per folder (key: folder id), and messages in the bin."""
    in_bin = and_(InboxItem.binned_at.is_not(None), InboxItem.binned_at > rules.bin_cutoff(now))
    query = (
        select(InboxItem.folder_id, InboxItem.archived, InboxItem.unread, in_bin, func.count())
        .where(InboxItem.mailbox_id == mailbox_id, InboxItem.purged_at.is_(None))
        .where(or_(InboxItem.binned_at.is_(None), in_bin))
        .group_by(InboxItem.folder_id, InboxItem.archived, InboxItem.unread, in_bin)
    )
    counts: dict[str, int] = {"inbox": 0, "bin": 0}
    for folder_id, archived, unread, binned, count in session.execute(query):
        if binned:
            counts["bin"] += count
        elif unread and folder_id is not None:
            counts[str(folder_id)] = counts.get(str(folder_id), 0) + count
        elif unread and not archived:
            counts["inbox"] += count
    return counts


def senders_of(session: Session, mailbox_id: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The organisations that wrote to this mailbox, by name."""
    query = (
        select(Sender.id, Sender.name)
        .where(
            exists().where(
                InboxItem.mailbox_id == mailbox_id,
                InboxItem.purged_at.is_(None),
                Message.id == InboxItem.message_id,
                Message.sender_id == Sender.id,
            )
        )
        .order_by(Sender.name)
    )
    return [(sid, name) for sid, name in session.execute(query)]


# One message -------------------------------------------------------------------------------------


def get_message(
    session: Session, mailbox_id: uuid.UUID, message_id: uuid.UUID, *, lock: bool = False
) -> tuple[InboxItem, Message, str] | None:
    """The citizen's message (not purged) with its sender's name; `lock` serialises first openings."""
    query = (
        select(InboxItem, Message, Sender.name)
        .join(Message, Message.id == InboxItem.message_id)
        .join(Sender, Sender.id == Message.sender_id)
        .where(
            InboxItem.mailbox_id == mailbox_id,
            InboxItem.message_id == message_id,
            InboxItem.purged_at.is_(None),
        )
    )
    if lock:
        query = query.with_for_update(of=InboxItem)
    row = session.execute(query).first()
    return (row[0], row[1], row[2]) if row else None


# Changing messages -------------------------------------------------------------------------------


def update_items(
    session: Session,
    mailbox_id: uuid.UUID,
    message_ids: Sequence[uuid.UUID],
    where: Sequence[ColumnElement],
    values: dict,
) -> int:
    """Change the mailbox's messages among `message_ids` that meet `where`; returns how many changed."""
    if not message_ids:
        return 0
    statement = (
        update(InboxItem)
        .where(
            InboxItem.mailbox_id == mailbox_id,
            InboxItem.message_id.in_(list(message_ids)),
            InboxItem.purged_at.is_(None),
            *where,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount


def binned(
    session: Session, mailbox_id: uuid.UUID, message_ids: Sequence[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
    """(message id, sender id, binned at) of messages in the bin and not yet purged."""
    query = (
        select(InboxItem.message_id, Message.sender_id, InboxItem.binned_at)
        .join(Message, Message.id == InboxItem.message_id)
        .where(
            InboxItem.mailbox_id == mailbox_id,
            InboxItem.binned_at.is_not(None),
            InboxItem.purged_at.is_(None),
        )
        .order_by(InboxItem.message_id)
        # Two requests emptying the bin at once: the second waits, then finds these purged.
        .with_for_update(of=InboxItem)
    )
    if message_ids is not None:
        query = query.where(InboxItem.message_id.in_(list(message_ids)))
    return [(mid, sid, at) for mid, sid, at in session.execute(query)]


def mark_purged(session: Session, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
    if message_ids:
        session.execute(
            update(InboxItem)
            .where(InboxItem.message_id.in_(list(message_ids)))
            .values(purged_at=now)
            .execution_options(synchronize_session=False)
        )


def waiting_messages(session: Session, mailbox_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(message id, sender id) of the mailbox's messages that ever waited as `unreachable`."""
    query = select(Message.id, Message.sender_id).where(
        Message.mailbox_id == mailbox_id,
        exists().where(MessageEvent.message_id == Message.id, MessageEvent.type == "unreachable"),
    )
    return [(mid, sid) for mid, sid in session.execute(query)]


# Folders ----------------------------------------------------------------------------------------


def folders_of(session: Session, mailbox_id: uuid.UUID) -> list[tuple[Folder, int]]:
    """The mailbox's folders by name, each with the number of messages in it (bin excluded)."""
    count = (
        select(func.count())
        .where(
            InboxItem.folder_id == Folder.id,
            InboxItem.binned_at.is_(None),
            InboxItem.purged_at.is_(None),
        )
        .correlate(Folder)
        .scalar_subquery()
    )
    query = select(Folder, count).where(Folder.mailbox_id == mailbox_id).order_by(func.lower(Folder.name))
    return [(folder, n) for folder, n in session.execute(query)]


def get_folder(session: Session, mailbox_id: uuid.UUID, folder_id: uuid.UUID) -> Folder | None:
    query = select(Folder).where(Folder.mailbox_id == mailbox_id, Folder.id == folder_id)
    return session.scalars(query).first()


def insert_folder(session: Session, row: dict) -> None:
    insert_many(session, Folder.__table__, [row])


def rename_folder(session: Session, folder_id: uuid.UUID, name: str) -> None:
    session.execute(update(Folder).where(Folder.id == folder_id).values(name=name))


def delete_folder(session: Session, folder_id: uuid.UUID) -> None:
    """Remove a folder; its messages go back to the inbox, none is lost."""
    session.execute(
        update(InboxItem)
        .where(InboxItem.folder_id == folder_id)
        .values(folder_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Folder).where(Folder.id == folder_id))


# Filing -----------------------------------------------------------------------------------------


def file_messages(session: Session, messages: Sequence[dict], now: datetime) -> None:
    """Put new messages in their mailboxes and the search index, in the caller's transaction.

    Each message is a dict with the Message columns id, mailbox_id, subject, message_type and
    sender_reference, and its sender_name: delivery has them at hand, so nothing is read back.
    """
    if not messages:
        return
    items = [
        {
            "message_id": m["id"],
            "mailbox_id": m["mailbox_id"],
            "delivered_at": now,
            "unread": True,
            "archived": False,
        }
        for m in messages
    ]
    insert_many(session, InboxItem.__table__, items)
    search.index_for(session).add(
        session,
        [
            {
                "message_id": m["id"],
                "mailbox_id": m["mailbox_id"],
                "subject": m["subject"],
                "sender_name": m["sender_name"],
                "message_type": m["message_type"] or "",
                "reference": rules.search_text(m["sender_reference"]),
            }
            for m in messages
        ],
    )


def file_stored_messages(session: Session, message_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """file_messages for messages stored earlier (published later, or stored before the inbox existed)."""
    if not message_ids:
        return
    columns = (
        Message.id,
        Message.mailbox_id,
        Message.subject,
        Message.message_type,
        Message.sender_reference,
    )
    query = (
        select(*columns, Sender.name.label("sender_name"))
        .join(Sender, Sender.id == Message.sender_id)
        .where(Message.id.in_(list(message_ids)))
    )
    file_messages(session, [dict(row._mapping) for row in session.execute(query)], now)


def unfiled_messages(session: Session, mailbox_id: uuid.UUID) -> list[uuid.UUID]:
    """The mailbox's messages without an inbox line (stored before the inbox existed, or still scheduled)."""
    query = select(Message.id).where(
        Message.mailbox_id == mailbox_id, ~exists().where(InboxItem.message_id == Message.id)
    )
    return list(session.scalars(query))
