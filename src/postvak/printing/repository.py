"""Every query of the paper fallback: print records, batches, and the messages they print."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from postvak.attachments.models import Attachment, Blob
from postvak.citizens.models import Mailbox
from postvak.kit.sql import insert_ignoring_conflicts, insert_many
from postvak.messages.models import Message, MessageAttachment
from postvak.printing.models import PrintBatch, PrintRecord
from postvak.senders.models import Sender

_CHUNK = 1000


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class MessageFacts(NamedTuple):
    sender_id: uuid.UUID
    mailbox_id: uuid.UUID
    recipient_type: str
    recipient_value: str
    paper_fallback: str

    def __repr__(self) -> str:  # never the BSN, not even in a traceback
        return f"MessageFacts(sender_id={self.sender_id}, mailbox_id={self.mailbox_id})"


def message_facts(session: Session, message_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, MessageFacts]:
    """What deciding about printing needs to know of each message that exists."""
    found = {}
    for chunk in _chunks(message_ids):
        query = (
            select(
                Message.id,
                Message.sender_id,
                Message.mailbox_id,
                Mailbox.recipient_type,
                Mailbox.recipient_value,
                Message.paper_fallback,
            )
            .join(Mailbox, Mailbox.id == Message.mailbox_id)
            .where(Message.id.in_(chunk))
        )
        found.update({row[0]: MessageFacts(*row[1:]) for row in session.execute(query)})
    return found


def record_states(session: Session, message_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    found = {}
    for chunk in _chunks(message_ids):
        query = select(PrintRecord.message_id, PrintRecord.state).where(PrintRecord.message_id.in_(chunk))
        found.update({message_id: state for message_id, state in session.execute(query)})
    return found


def insert_records(session: Session, rows: Sequence[dict]) -> set[uuid.UUID]:
    """Records for messages without one yet; returns those inserted (a concurrent claim wins the others)."""
    rows = sorted(rows, key=lambda r: r["message_id"])
    return insert_ignoring_conflicts(
        session, PrintRecord.__table__, rows, ["message_id"], returning="message_id"
    )


def move_records(
    session: Session, message_ids: Sequence[uuid.UUID], *, from_states: Sequence[str], now: datetime, **values
) -> set[uuid.UUID]:
    """Set `values` on the records still in one of `from_states`; returns those changed (under concurrent
    requests, each record moves for one of them only)."""
    moved: set[uuid.UUID] = set()
    for chunk in _chunks(message_ids):
        statement = (
            update(PrintRecord)
            .where(PrintRecord.message_id.in_(chunk), PrintRecord.state.in_(from_states))
            .values(**values, updated_at=now)
            .returning(PrintRecord.message_id)
            .execution_options(synchronize_session=False)
        )
        moved |= set(session.scalars(statement))
    return moved


def insert_batch(session: Session, batch_id: uuid.UUID, now: datetime) -> None:
    insert_many(
        session,
        PrintBatch.__table__,
        [{"id": batch_id, "state": "open", "letters": 0, "created_at": now}],
    )


def delete_batch(session: Session, batch_id: uuid.UUID) -> None:
    session.execute(delete(PrintBatch).where(PrintBatch.id == batch_id))


def get_batch(session: Session, batch_id: uuid.UUID) -> PrintBatch | None:
    return session.get(PrintBatch, batch_id)


def set_batch(session: Session, batch_id: uuid.UUID, **values) -> None:
    session.execute(update(PrintBatch).where(PrintBatch.id == batch_id).values(**values))


def claimed_in(session: Session, batch_id: uuid.UUID) -> list[uuid.UUID]:
    query = (
        select(PrintRecord.message_id)
        .where(PrintRecord.batch_id == batch_id, PrintRecord.state == "claimed")
        .order_by(PrintRecord.message_id)
    )
    return list(session.scalars(query))


def set_records(
    session: Session,
    batch_id: uuid.UUID,
    message_ids: Sequence[uuid.UUID],
    now: datetime,
    *,
    state: str,
    detail: str | None = None,
) -> set[uuid.UUID]:
    """Move the batch's messages that are still `claimed` to `state`; returns those moved."""
    moved: set[uuid.UUID] = set()
    for chunk in _chunks(message_ids):
        statement = (
            update(PrintRecord)
            .where(
                PrintRecord.message_id.in_(chunk),
                PrintRecord.batch_id == batch_id,
                PrintRecord.state == "claimed",
            )
            .values(state=state, detail=detail, updated_at=now)
            .returning(PrintRecord.message_id)
            .execution_options(synchronize_session=False)
        )
        moved |= set(session.scalars(statement))
    return moved


def set_pages(session: Session, pages: dict[uuid.UUID, int]) -> None:
    """Each record's page count, in one executemany by primary key."""
    if pages:
        rows = [{"message_id": m, "pages": n} for m, n in sorted(pages.items())]
        session.execute(update(PrintRecord), rows)


def messages_for_print(
    session: Session, message_ids: Sequence[uuid.UUID]
) -> list[tuple[Message, str, str, str]]:
    """(message, sender name, recipient type, recipient value) per message, in id order."""
    query = (
        select(Message, Sender.name, Mailbox.recipient_type, Mailbox.recipient_value)
        .join(Sender, Sender.id == Message.sender_id)
        .join(Mailbox, Mailbox.id == Message.mailbox_id)
        .where(Message.id.in_(list(message_ids)))
        .order_by(Message.id)
    )
    return [(m, name, kind, value) for m, name, kind, value in session.execute(query)]


def attachment_blobs(session: Session, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Blob]]:
    """The messages' attachments' stored files, in the message's order."""
    found: dict[uuid.UUID, list[Blob]] = {mid: [] for mid in message_ids}
    query = (
        select(MessageAttachment.message_id, Blob)
        .join(Attachment, Attachment.id == MessageAttachment.attachment_id)
        .join(Blob, Blob.id == Attachment.blob_id)
        .where(MessageAttachment.message_id.in_(list(message_ids)))
        .order_by(MessageAttachment.message_id, MessageAttachment.position)
    )
    for message_id, blob in session.execute(query):
        found[message_id].append(blob)
    return found


def not_printed(session: Session, states: Sequence[str], limit: int) -> list[tuple[PrintRecord, str, str]]:
    """(record, sender name, sender reference) of messages in `states`, oldest request first."""
    query = (
        select(PrintRecord, Sender.name, Message.sender_reference)
        .join(Message, Message.id == PrintRecord.message_id)
        .join(Sender, Sender.id == Message.sender_id)
        .where(PrintRecord.state.in_(states))
        .order_by(PrintRecord.requested_at, PrintRecord.message_id)
        .limit(limit)
    )
    return [(record, name, reference) for record, name, reference in session.execute(query)]


def ids_in_states(session: Session, states: Sequence[str], limit: int) -> list[uuid.UUID]:
    query = (
        select(PrintRecord.message_id)
        .where(PrintRecord.state.in_(states))
        .order_by(PrintRecord.requested_at, PrintRecord.message_id)
        .limit(limit)
    )
    return list(session.scalars(query))
