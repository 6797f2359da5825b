"""Tables of recipients' mailboxes (and, later, citizen accounts)."""

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Mailbox(Base):
    """Every valid recipient that receives a letter has one, activated or not."""

    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("recipient_type", "recipient_value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    recipient_type: Mapped[str] = mapped_column(String(8))
    recipient_value: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
