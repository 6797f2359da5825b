"""Every query about blobs and attachments."""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postvak.attachments.models import Attachment, Blob
from postvak.kit.sql import insert_ignoring_conflicts


def blobs_by_id(session: Session, blob_ids: Iterable[str]) -> dict[str, Blob]:
    ids = sorted(set(blob_ids))
    if not ids:
        return {}
    return {b.id: b for b in session.scalars(select(Blob).where(Blob.id.in_(ids)))}


def insert_blobs(session: Session, rows: Sequence[dict]) -> None:
    insert_ignoring_conflicts(session, Blob.__table__, sorted(rows, key=lambda r: r["id"]), ["id"])


def insert_attachments(session: Session, rows: Sequence[dict]) -> None:
    insert_ignoring_conflicts(
        session, Attachment.__table__, sorted(rows, key=lambda r: r["blob_id"]), ["sender_id", "blob_id"]
    )


def attachments_by_blob(
    session: Session, sender_id: uuid.UUID, blob_ids: Iterable[str]
) -> dict[str, Attachment]:
    ids = sorted(set(blob_ids))
    if not ids:
        return {}
    query = select(Attachment).where(Attachment.sender_id == sender_id, Attachment.blob_id.in_(ids))
    return {a.blob_id: a for a in session.scalars(query)}


def attachments_with_blobs(
    session: Session, sender_id: uuid.UUID, attachment_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[Attachment, Blob]]:
    ids = sorted(set(attachment_ids))
    if not ids:
        return {}
    query = (
        select(Attachment, Blob)
        .join(Blob, Blob.id == Attachment.blob_id)
        .where(Attachment.sender_id == sender_id, Attachment.id.in_(ids))
    )
    return {a.id: (a, b) for a, b in session.execute(query)}


def blobs_not_under_key(session: Session, kek_id: str, limit: int) -> list[Blob]:
    query = select(Blob).where(Blob.kek_id != kek_id).order_by(Blob.id).limit(limit)
    return list(session.scalars(query))


def set_blob_key(session: Session, blob_id: str, kek_id: str, wrapped_key: bytes) -> None:
    session.execute(update(Blob).where(Blob.id == blob_id).values(kek_id=kek_id, wrapped_key=wrapped_key))
