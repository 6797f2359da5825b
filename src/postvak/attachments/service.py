"""Use cases of attachments: check and stage PDFs, attach them to messages, read them back."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from postvak.attachments import repository
from postvak.attachments.models import Blob
from postvak.attachments.pdf import MAX_ATTACHMENT_BYTES, check_pdf
from postvak.blobs.store import BlobMissing, BlobStore
from postvak.config import Settings
from postvak.errors import IntegrityFailure, NotFound, PayloadTooLarge, Problem
from postvak.kit import clock
from postvak.kit.crypto import IntegrityError, KeyRing, Sealed
from postvak.kit.ids import new_id, parse_id


@dataclass(frozen=True)
class StagedBlob:
    """A checked PDF whose sealed bytes are already in the BlobStore; its row is not yet written."""

    id: str
    storage_key: str
    size: int
    page_count: int
    kek_id: str
    wrapped_key: bytes


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stage_blobs(
    session: Session, *, keyring: KeyRing, store: BlobStore, settings: Settings, contents: Iterable[bytes]
) -> dict[str, StagedBlob | Blob | Problem]:
    """Check and store each distinct content once, outside the message's write transaction.

    Content already known to the database is not checked again. A staged object whose row
    never gets committed is an orphan in the store, never a broken message.
    """
    by_id = {content_id(data): data for data in contents}
    known = repository.blobs_by_id(session, by_id)
    staged: dict[str, StagedBlob | Blob | Problem] = dict(known)
    for blob_id, data in by_id.items():
        if blob_id in known:
            continue
        try:
            staged[blob_id] = _seal_and_store(keyring, store, settings, blob_id, data)
        except Problem as problem:
            staged[blob_id] = problem
    return staged


def _seal_and_store(
    keyring: KeyRing, store: BlobStore, settings: Settings, blob_id: str, data: bytes
) -> StagedBlob:
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(f"an attachment may be at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB")
    pages = check_pdf(data, seconds=settings.pdf_check_seconds, memory_mib=settings.pdf_check_memory_mib)
    sealed = keyring.seal(data, blob_id.encode())
    # Random, not derived from the content: whoever can list the store (a storage provider, a read-only
    # key) must not be able to test whether a known document is in it by its SHA-256.
    storage_key = secrets.token_hex(32)
    store.put(storage_key, sealed.ciphertext)
    return StagedBlob(blob_id, storage_key, len(data), pages, sealed.kek_id, sealed.wrapped_key)


def attach_blobs(
    session: Session,
    *,
    sender_id: uuid.UUID,
    blobs: Iterable[StagedBlob | Blob],
    file_name: str = "bijlage.pdf",
) -> dict[str, uuid.UUID]:
    """Write the rows of staged blobs and the sender's attachment handles; returns blob id → attachment id."""
    blobs = list(blobs)
    now = clock.now()
    repository.insert_blobs(
        session,
        [
            {
                "id": b.id,
                "storage_key": b.storage_key,
                "size": b.size,
                "page_count": b.page_count,
                "kek_id": b.kek_id,
                "wrapped_key": b.wrapped_key,
                "created_at": now,
            }
            for b in blobs
            if isinstance(b, StagedBlob)
        ],
    )
    blob_ids = {b.id for b in blobs}
    existing = repository.attachments_by_blob(session, sender_id, blob_ids)
    repository.insert_attachments(
        session,
        [
            {
                "id": new_id(),
                "sender_id": sender_id,
                "blob_id": blob_id,
                "file_name": file_name,
                "created_at": now,
            }
            for blob_id in blob_ids - existing.keys()
        ],
    )
    return {
        blob_id: a.id for blob_id, a in repository.attachments_by_blob(session, sender_id, blob_ids).items()
    }


def find_attachment_id(session: Session, *, sender_id: uuid.UUID, blob_id: str) -> uuid.UUID | None:
    """The id of the sender's attachment of this blob, if the sender has one."""
    found = repository.attachments_by_blob(session, sender_id, [blob_id])
    return found[blob_id].id if found else None


def find_attachments(session: Session, *, sender_id: uuid.UUID, ids: Iterable[str]):
    """The sender's own attachments by id; another sender's id is simply absent."""
    parsed = [p for p in (parse_id(i) for i in ids) if p is not None]
    return repository.attachments_with_blobs(session, sender_id, parsed)


def get_attachment(session: Session, *, sender_id: uuid.UUID, attachment_id: str):
    """The sender's attachment and its blob; NotFound when the sender has no attachment with this id."""
    found = find_attachments(session, sender_id=sender_id, ids=[attachment_id])
    if not found:
        raise NotFound("no attachment with this id")
    return next(iter(found.values()))


def read_blob(keyring: KeyRing, store: BlobStore, *, blob: Blob) -> bytes:
    """The plain bytes of a blob, verified; tampered or missing storage is never served."""
    try:
        ciphertext = store.get(blob.storage_key)
        data = keyring.open(Sealed(blob.kek_id, blob.wrapped_key, ciphertext), blob.id.encode())
    except (IntegrityError, BlobMissing) as exc:
        raise IntegrityFailure("a stored attachment failed its integrity check") from exc
    if content_id(data) != blob.id:
        raise IntegrityFailure("a stored attachment failed its integrity check")
    return data


def rewrap_blob_keys(session: Session, *, keyring: KeyRing, limit: int = 500) -> int:
    """Re-wrap up to `limit` blobs' data keys under the active key; returns how many (0: all done)."""
    rows = repository.blobs_not_under_key(session, keyring.active_id, limit)
    for blob in rows:
        kek_id, wrapped = keyring.rewrap(blob.kek_id, blob.wrapped_key, blob.id.encode())
        repository.set_blob_key(session, blob.id, kek_id, wrapped)
    return len(rows)
