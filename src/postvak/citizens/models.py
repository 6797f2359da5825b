"""Tables of recipients' mailboxes and citizens' accounts: e-mail addresses, changes waiting for proof."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import UtcDateTime


class Mailbox(Base):
    """Every valid recipient that receives a message has one, activated or not."""

    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("recipient_type", "recipient_value"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    recipient_type: Mapped[str] = mapped_column(String(8))
    recipient_value: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Citizen(Base):
    """A citizen's account: logs in with username + password and always a second factor."""

    __tablename__ = "citizens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mailboxes.id"), unique=True)
    username: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased e-mail address
    # The credentials (the password hash and the TOTP columns) are auth's: only auth reads and writes
    # them; they live on this row because one account has one of each.
    password_hash: Mapped[str] = mapped_column(String(200))
    # The TOTP seed is sealed with the key ring (aad: the citizen id), never stored in clear.
    totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_kek_id: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(BigInteger, default=0)  # a code is never accepted twice
    language: Mapped[str] = mapped_column(String(5), default="nl")
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sms_notifications: Mapped[bool] = mapped_column(Boolean, default=False)
    # Messages that ask nothing (no action, no deadline) in one e-mail a day instead of one each.
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # first verified e-mail address


class EmailAddress(Base):
    __tablename__ = "email_addresses"
    __table_args__ = (UniqueConstraint("citizen_id", "address"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("citizens.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    code_hash: Mapped[str | None] = mapped_column(String(64))  # the e-mailed code, hashed
    code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PendingChange(Base):
    """A change to the account that waits for its proof: a phone number for the code sent to it by
    SMS, a new TOTP secret for the first code of the app it was added to. One per kind; the value
    is sealed with the key ring (aad: the citizen id and the kind)."""

    __tablename__ = "pending_changes"

    citizen_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("citizens.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # "phone" or "totp"
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str | None] = mapped_column(String(64))  # the SMS code, hashed; None for TOTP
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
