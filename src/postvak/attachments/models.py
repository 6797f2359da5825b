"""Tables of stored PDF content (one row per distinct file) and senders' attachments."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Blob(Base):
    """One distinct file, keyed by the SHA-256 of its plain bytes.

    The sealed bytes live in the BlobStore under `storage_key`, which is unique per sealing:
    two requests staging the same new file at once each write their own object, and the row
    that wins the insert names the object its wrapped key opens.
    """

    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    kek_id: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Attachment(Base):
    """A sender's handle on a blob: the id senders reference from their messages."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("sender_id", "blob_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("senders.id"))
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
