"""Tables of messages, their attachments and their append-only status events."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import BigId, UtcDateTime, current_tx_seq


class Message(Base):
    """A message. Its status is not a column: it is read from its events."""

    __tablename__ = "messages"
    # Reference first: lookups are `sender_reference IN (…)` for one sender, and PostgreSQL
    # only walks the index by the references when they lead it.
    __table_args__ = (UniqueConstraint("sender_reference", "sender_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("senders.id"))
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), index=True)
    sender_reference: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    message_type: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(255))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    body_key: Mapped[bytes] = mapped_column(LargeBinary)
    body_kek_id: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    action_kind: Mapped[str | None] = mapped_column(String(20))
    action_label: Mapped[str | None] = mapped_column(String(100))
    action_url: Mapped[str | None] = mapped_column(String(2048))
    confirmation_required: Mapped[bool] = mapped_column(Boolean)
    sensitive: Mapped[bool] = mapped_column(Boolean)
    publish_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paper_fallback: Mapped[str] = mapped_column(String(32))
    notification_text: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MessageAttachment(Base):
    __tablename__ = "message_attachments"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    attachment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("attachments.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))


class MessageEvent(Base):
    """One status change; rows are only ever added."""

    __tablename__ = "message_events"
    __table_args__ = (
        Index("ix_message_events_feed", "sender_id", "tx_seq", "id"),
        Index("ix_message_events_statement", "sender_id", "type", "at"),  # billing: a sender's month
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tx_seq: Mapped[int] = mapped_column(BigInteger, server_default=current_tx_seq())
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), index=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("senders.id"))
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(String(500))
