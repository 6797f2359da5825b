"""Every query of notifications: what a job needs to know about its messages, and the record of sends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from postvak.citizens.models import Citizen, EmailAddress
from postvak.inbox.models import InboxItem
from postvak.kit import clock
from postvak.kit.sql import insert_ignoring_conflicts
from postvak.messages.models import Message
from postvak.notifications.models import Notification
from postvak.notifications.rules import EMAIL, NEW, MessageSummary
from postvak.senders.models import Sender


@dataclass(frozen=True)
class Reader:
    """The citizen a notification goes to, and how they want to be told."""

    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    language: str
    addresses: tuple[str, ...]  # verified e-mail addresses
    phone: str | None  # verified mobile number
    sms_chosen: bool
    digest_chosen: bool


@dataclass(frozen=True)
class MessageState:
    """A delivered message as a notification job sees it."""

    message_id: uuid.UUID
    sender_id: uuid.UUID
    message_type: str | None
    summary: MessageSummary
    delivered_at: datetime
    read: bool
    binned: bool
    reader: Reader


_MESSAGE_COLUMNS = (
    Message.id,
    Message.sender_id,
    Message.message_type,
    Message.subject,
    Message.action_kind,
    Message.due_date,
    Message.sensitive,
    Message.notification_text,
    Message.confirmation_required,
    Sender.name,
    InboxItem.delivered_at,
    InboxItem.unread,
    InboxItem.binned_at,
    InboxItem.purged_at,
    Citizen.id.label("citizen_id"),
)


def _messages_query():
    return (
        select(*_MESSAGE_COLUMNS)
        .join(Sender, Sender.id == Message.sender_id)
        .join(InboxItem, InboxItem.message_id == Message.id)
        .join(Citizen, Citizen.mailbox_id == Message.mailbox_id)
    )


def message_states(session: Session, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, MessageState]:
    """The delivered messages among `message_ids` whose mailbox has an account, with their readers."""
    if not message_ids:
        return {}
    rows = list(session.execute(_messages_query().where(Message.id.in_(list(message_ids)))))
    readers = readers_of(session, {row.citizen_id for row in rows})
    return {row.id: _state(row, readers[row.citizen_id]) for row in rows}


def readers_of(session: Session, citizen_ids: set[uuid.UUID]) -> dict[uuid.UUID, Reader]:
    if not citizen_ids:
        return {}
    addresses: dict[uuid.UUID, list[str]] = {cid: [] for cid in citizen_ids}
    query = (
        select(EmailAddress.citizen_id, EmailAddress.address)
        .where(EmailAddress.citizen_id.in_(citizen_ids), EmailAddress.verified_at.is_not(None))
        .order_by(EmailAddress.created_at, EmailAddress.address)
    )
    for citizen_id, address in session.execute(query):
        addresses[citizen_id].append(address)
    readers = {}
    for citizen in session.scalars(select(Citizen).where(Citizen.id.in_(citizen_ids))):
        phone = citizen.phone if citizen.phone_verified_at is not None else None
        readers[citizen.id] = Reader(
            citizen_id=citizen.id,
            mailbox_id=citizen.mailbox_id,
            language=citizen.language,
            addresses=tuple(addresses[citizen.id]),
            phone=phone,
            sms_chosen=phone is not None and citizen.sms_notifications,
            digest_chosen=citizen.daily_digest,
        )
    return readers


def reader_of_mailbox(session: Session, mailbox_id: uuid.UUID) -> Reader | None:
    citizen_id = session.scalar(select(Citizen.id).where(Citizen.mailbox_id == mailbox_id))
    return readers_of(session, {citizen_id})[citizen_id] if citizen_id else None


def _state(row, reader: Reader) -> MessageState:
    return MessageState(
        message_id=row.id,
        sender_id=row.sender_id,
        message_type=row.message_type,
        summary=MessageSummary(
            sender_name=row.name,
            subject=row.subject,
            action_kind=row.action_kind,
            due_date=row.due_date,
            sensitive=row.sensitive,
            custom_text=row.notification_text,
            confirmation_required=row.confirmation_required,
        ),
        delivered_at=clock.as_utc(row.delivered_at),
        read=not row.unread,
        binned=row.binned_at is not None or row.purged_at is not None,
        reader=reader,
    )


def digest_messages(session: Session, mailbox_id: uuid.UUID, now: datetime, limit: int) -> list[MessageState]:
    """Unread messages of the mailbox that ask nothing and were not notified yet, oldest first."""
    reader = reader_of_mailbox(session, mailbox_id)
    if reader is None:
        return []
    notified = exists().where(
        Notification.message_id == Message.id, Notification.reason == NEW, Notification.channel == EMAIL
    )
    query = (
        _messages_query()
        .where(
            Message.mailbox_id == mailbox_id,
            InboxItem.unread.is_(True),
            InboxItem.binned_at.is_(None),
            InboxItem.delivered_at <= now,
            or_(Message.action_kind.is_(None), Message.action_kind == "info"),
            Message.due_date.is_(None),
            Message.confirmation_required.is_(False),
            ~notified,
        )
        .order_by(InboxItem.delivered_at, Message.id)
        .limit(limit)
    )
    return [_state(row, reader) for row in session.execute(query)]


def sent_notifications(session: Session, message_ids: Sequence[uuid.UUID]) -> set[tuple[uuid.UUID, str, str]]:
    """(message, reason, channel) of every notification sent about these messages."""
    if not message_ids:
        return set()
    query = select(Notification.message_id, Notification.reason, Notification.channel).where(
        Notification.message_id.in_(list(message_ids))
    )
    return {tuple(row) for row in session.execute(query)}


def insert_notifications(session: Session, rows: Sequence[dict]) -> set[uuid.UUID]:
    """Returns the ids of the rows stored; a (message, reason, channel) stored already is skipped."""
    return insert_ignoring_conflicts(
        session, Notification.__table__, rows, ["message_id", "reason", "channel"], returning="id"
    )


def sms_by_reference(session: Session, reference: str) -> Notification | None:
    query = select(Notification).where(Notification.channel == "sms", Notification.reference == reference)
    return session.scalars(query.with_for_update()).first()


def report(session: Session, notification_id: uuid.UUID, state: str, now: datetime) -> bool:
    """Records a delivery report once: only a notification still `sent` changes; returns whether it did."""
    result = session.execute(
        update(Notification)
        .where(and_(Notification.id == notification_id, Notification.state == "sent"))
        .values(state=state, reported_at=now)
    )
    return result.rowcount == 1
