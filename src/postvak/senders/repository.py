"""Every query about senders, API keys and their settings per message type."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postvak.senders.models import ApiKey, MessageTypeSetting, Sender

SettingKey = tuple[uuid.UUID, str]  # (sender id, message type)
_CHUNK = 500


def add(session: Session, row: Sender | ApiKey) -> None:
    session.add(row)
    session.flush()


def get_sender(session: Session, sender_id: uuid.UUID) -> Sender | None:
    return session.get(Sender, sender_id)


def get_sender_by_oin(session: Session, oin: str) -> Sender | None:
    return session.scalars(select(Sender).where(Sender.oin == oin)).first()


def list_senders(session: Session) -> list[Sender]:
    return list(session.scalars(select(Sender).order_by(Sender.name)))


def sender_by_key_hash(session: Session, key_hash: str) -> Sender | None:
    query = (
        select(Sender)
        .join(ApiKey, ApiKey.sender_id == Sender.id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )
    return session.scalars(query).first()


def list_keys(session: Session, sender_id: uuid.UUID) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.sender_id == sender_id).order_by(ApiKey.created_at)
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: uuid.UUID, at: datetime) -> bool:
    result = session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=at)
    )
    return result.rowcount == 1


def set_status(session: Session, sender_id: uuid.UUID, status: str) -> bool:
    result = session.execute(update(Sender).where(Sender.id == sender_id).values(status=status))
    return result.rowcount == 1


# --- settings per message type ------------------------------------------------------------------


def set_unread_reminder_days(
    session: Session, sender_id: uuid.UUID, message_type: str, days: int, now: datetime
) -> MessageTypeSetting:
    """Insert or update one setting; `updated_at` moves only when the days change (retries do not)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(MessageTypeSetting).values(
        sender_id=sender_id, message_type=message_type, unread_reminder_days=days, updated_at=now
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["sender_id", "message_type"],
            set_={"unread_reminder_days": insert.excluded.unread_reminder_days, "updated_at": now},
            where=MessageTypeSetting.unread_reminder_days != insert.excluded.unread_reminder_days,
        )
    )
    query = select(MessageTypeSetting).where(
        MessageTypeSetting.sender_id == sender_id, MessageTypeSetting.message_type == message_type
    )
    return session.scalars(query.execution_options(populate_existing=True)).one()


def remove_message_type_setting(session: Session, sender_id: uuid.UUID, message_type: str) -> bool:
    result = session.execute(
        delete(MessageTypeSetting).where(
            MessageTypeSetting.sender_id == sender_id, MessageTypeSetting.message_type == message_type
        )
    )
    return result.rowcount == 1


def message_type_settings(session: Session, sender_id: uuid.UUID) -> list[MessageTypeSetting]:
    """Sorted by message type in code-point order, whatever the database's collation."""
    rows = session.scalars(select(MessageTypeSetting).where(MessageTypeSetting.sender_id == sender_id))
    return sorted(rows, key=lambda row: row.message_type)


def unread_reminder_days(
    session: Session, keys: Iterable[tuple[uuid.UUID, str | None]]
) -> dict[tuple[uuid.UUID, str], int]:
    """The configured reminder days of those (sender, message type) pairs that have a setting.

    Pairs without a type or without a setting are absent (the caller applies the default).
    One query per chunk of pairs, as `sender_id IN (…) AND message_type IN (…)` on the primary
    key: a row-value IN list plans badly on PostgreSQL. The query may return pairs nobody asked
    for (another asked sender's type); they are dropped here.
    """
    wanted = sorted(
        {(sender_id, message_type) for sender_id, message_type in keys if message_type is not None}
    )
    found: dict[SettingKey, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(
            MessageTypeSetting.sender_id,
            MessageTypeSetting.message_type,
            MessageTypeSetting.unread_reminder_days,
        ).where(
            MessageTypeSetting.sender_id.in_(sorted({sender_id for sender_id, _ in chunk})),
            MessageTypeSetting.message_type.in_(sorted({message_type for _, message_type in chunk})),
        )
        asked = set(chunk)
        for sender_id, message_type, days in session.execute(query):
            if (sender_id, message_type) in asked:
                found[(sender_id, message_type)] = days
    return found
