"""The record of every notification sent: one row per (message, reason, channel), so none goes out twice."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Notification(Base):
    """A notification handed to its channel: an e-mail the SMTP server accepted (reference: its
    Message-ID, shared by the messages of one digest) or a text message the SMS provider accepted
    (reference: the provider's id, matched against its delivery report)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("message_id", "reason", "channel"),
        Index("ix_notifications_reference", "channel", "reference"),
        Index("ix_notifications_statement", "channel", "sent_at"),  # billing: a channel's sends in a month
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    reason: Mapped[str] = mapped_column(String(16))  # new | unread | due-date
    channel: Mapped[str] = mapped_column(String(8))  # email | sms
    reference: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(12))  # sent | delivered | failed
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
