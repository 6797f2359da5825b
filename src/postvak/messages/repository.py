"""Every query about messages, their attachments and their events."""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from postvak.attachments.models import Attachment, Blob
from postvak.citizens.models import Mailbox
from postvak.kit.sql import insert_ignoring_conflicts, insert_many
from postvak.kit.sqltypes import snapshot_horizon
from postvak.messages.models import Message, MessageAttachment, MessageEvent


def insert_messages(session: Session, rows: Sequence[dict]) -> set[uuid.UUID]:
    """Insert messages whose reference is still free; returns the ids of those inserted."""
    rows = sorted(rows, key=lambda r: r["sender_reference"])
    return insert_ignoring_conflicts(
        session, Message.__table__, rows, ["sender_reference", "sender_id"], returning="id"
    )


def stored_by_reference(
    session: Session, sender_id: uuid.UUID, references: Iterable[str]
) -> dict[str, tuple[uuid.UUID, str]]:
    """sender_reference → (message id, content hash) of the sender's stored messages."""
    refs = sorted(set(references))
    found: dict[str, tuple[uuid.UUID, str]] = {}
    for start in range(0, len(refs), 500):
        query = select(Message.sender_reference, Message.id, Message.content_hash).where(
            Message.sender_id == sender_id, Message.sender_reference.in_(refs[start : start + 500])
        )
        found.update({ref: (mid, content) for ref, mid, content in session.execute(query)})
    return found


def insert_message_attachments(session: Session, rows: Sequence[dict]) -> None:
    insert_many(session, MessageAttachment.__table__, rows)


def insert_events(session: Session, rows: Sequence[dict]) -> None:
    insert_many(session, MessageEvent.__table__, rows)


def insert_events_returning(session: Session, rows: Sequence[dict]) -> list[tuple[int, uuid.UUID, str]]:
    """Insert events and return (id, message id, type) of each, in no particular order (batched)."""
    if not rows:
        return []
    table = MessageEvent.__table__
    query = table.insert().returning(table.c.id, table.c.message_id, table.c.type)
    return [
        (event_id, message_id, type_) for event_id, message_id, type_ in session.execute(query, list(rows))
    ]


def sender_of(session: Session, message_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Message.sender_id).where(Message.id == message_id))


def get_message(session: Session, sender_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
    query = select(Message).where(Message.id == message_id, Message.sender_id == sender_id)
    return session.scalars(query).first()


def lock_message(session: Session, sender_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
    """The sender's message, its row locked until the transaction ends (on PostgreSQL; SQLite's writers
    are serial): a status change decided from its history cannot cross another one."""
    query = (
        select(Message)
        .where(Message.id == message_id, Message.sender_id == sender_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def get_by_reference(session: Session, sender_id: uuid.UUID, reference: str) -> Message | None:
    """The sender's message with this reference: one lookup in the unique (reference, sender) index."""
    query = select(Message).where(Message.sender_reference == reference, Message.sender_id == sender_id)
    return session.scalars(query).first()


def get_message_with_mailbox(
    session: Session, message_id: uuid.UUID, *, lock: bool = False
) -> tuple[Message, Mailbox] | None:
    """The message and its mailbox; with `lock`, the message's row stays locked until the transaction ends."""
    query = (
        select(Message, Mailbox)
        .join(Mailbox, Mailbox.id == Message.mailbox_id)
        .where(Message.id == message_id)
    )
    if lock:
        query = query.with_for_update(of=Message).execution_options(populate_existing=True)
    row = session.execute(query).first()
    return (row[0], row[1]) if row else None


def events_of(session: Session, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[MessageEvent]]:
    found: dict[uuid.UUID, list[MessageEvent]] = {mid: [] for mid in message_ids}
    query = (
        select(MessageEvent).where(MessageEvent.message_id.in_(list(message_ids))).order_by(MessageEvent.id)
    )
    for event in session.scalars(query):
        found[event.message_id].append(event)
    return found


def attachments_of(session: Session, message_id: uuid.UUID) -> list[tuple[MessageAttachment, Blob]]:
    query = (
        select(MessageAttachment, Blob)
        .join(Attachment, Attachment.id == MessageAttachment.attachment_id)
        .join(Blob, Blob.id == Attachment.blob_id)
        .where(MessageAttachment.message_id == message_id)
        .order_by(MessageAttachment.position)
    )
    return [(ma, b) for ma, b in session.execute(query)]


def event_feed(
    session: Session, sender_id: uuid.UUID, after: tuple[int, int], limit: int
) -> list[tuple[MessageEvent, str]]:
    """The sender's events after the cursor, only from transactions that can no longer add any.

    On PostgreSQL transaction ids are handed out before commit, so an event is only shown
    once every transaction older than it has finished (snapshot_horizon); on SQLite writers
    are serial and the horizon is not needed.
    """
    tx_seq, event_id = after
    query = (
        select(MessageEvent, Message.sender_reference)
        .join(Message, Message.id == MessageEvent.message_id)
        .where(
            MessageEvent.sender_id == sender_id,
            or_(
                MessageEvent.tx_seq > tx_seq, and_(MessageEvent.tx_seq == tx_seq, MessageEvent.id > event_id)
            ),
        )
        .order_by(MessageEvent.tx_seq, MessageEvent.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.where(MessageEvent.tx_seq < snapshot_horizon())
    return [(event, ref) for event, ref in session.execute(query)]


def messages_not_under_key(session: Session, kek_id: str, limit: int) -> list[tuple[uuid.UUID, str, bytes]]:
    query = (
        select(Message.id, Message.body_kek_id, Message.body_key)
        .where(Message.body_kek_id != kek_id)
        .order_by(Message.id)
        .limit(limit)
    )
    return [(mid, kid, key) for mid, kid, key in session.execute(query)]


def set_body_key(session: Session, message_id: uuid.UUID, kek_id: str, wrapped_key: bytes) -> None:
    session.execute(
        update(Message).where(Message.id == message_id).values(body_kek_id=kek_id, body_key=wrapped_key)
    )
