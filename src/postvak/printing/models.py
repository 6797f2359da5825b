"""Tables of the paper fallback: a record per message asked to be printed, and the batches they go out in."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class PrintBatch(Base):
    """Messages handed to the print provider together, under this id (the folder's name).

    open: claimed, content may still shrink (a message read meanwhile stays out); closed: the
    messages still `claimed` in it are its content, for good; handed-over: done; empty: every
    message stayed out, nothing was handed over.
    """

    __tablename__ = "print_batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    letters: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PrintRecord(Base):
    """One message asked to be printed. The primary key is what makes a message print once: it is
    claimed for one batch only, and the claim is committed before anything is rendered.

    waiting-address: no address in the register (yet); claimed: in `batch_id`, on its way;
    printed: handed over in `batch_id`; left-out: no longer to print (read meanwhile);
    failed: cannot be rendered (`detail` says why). waiting-address and failed are claimed
    again when asked again.
    """

    __tablename__ = "print_records"
    __table_args__ = (Index("ix_print_records_state", "state", "requested_at"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"))
    state: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("print_batches.id"), index=True)
    detail: Mapped[str | None] = mapped_column(String(200))
    pages: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
