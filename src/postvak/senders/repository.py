"""Every query about senders and API keys."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postvak.senders.models import ApiKey, Sender


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
