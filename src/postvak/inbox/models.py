"""Tables of the citizen's side of a message: read state, archive, folders, the bin."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("mailbox_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"))
    name: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboxItem(Base):
    """What the citizen did with a message; created when the message is delivered."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_listing", "mailbox_id", "binned_at", "delivered_at"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"))
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unread: Mapped[bool] = mapped_column(Boolean, default=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    folder_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("folders.id"))
    binned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # in the bin since
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # emptied from the bin
