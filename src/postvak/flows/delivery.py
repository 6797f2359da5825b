"""Delivering letters: checks without the database, PDF staging, then one write transaction that stores the
letters, files them into their mailboxes and queues their notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from postvak.attachments import service as attachments
from postvak.attachments.models import Blob
from postvak.blobs.store import BlobStore
from postvak.config import Settings
from postvak.db import Database
from postvak.errors import Problem
from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.messages import service as messages
from postvak.notifications import service as notifications
from postvak.senders import service as senders
from postvak.senders.models import Sender


class Parts(Protocol):
    """What delivering needs of the running system (postvak.runtime.Runtime has it all)."""

    settings: Settings
    database: Database
    keyring: KeyRing
    blobs: BlobStore


def deliver_letters(parts: Parts, sender: Sender, letters: list[Any]) -> list[messages.Outcome]:
    """Deliver letters in request order; each bad item is rejected alone.

    PDFs are checked and sealed before the write transaction so that the database's write
    lock is never held while a child process parses a file. When this returns, every
    created or existing letter is committed.
    """
    drafts, rejected = messages.draft_all(letters)
    staged = {}
    if contents := messages.inline_contents(drafts):
        with parts.database.unit_of_work(write=False) as session:
            staged = attachments.stage_blobs(
                session, keyring=parts.keyring, store=parts.blobs, settings=parts.settings, contents=contents
            )
    with parts.database.unit_of_work() as session:
        outcomes = store_letters(session, parts.keyring, sender, drafts, staged, clock.now())
    return sorted(outcomes + rejected, key=lambda o: o.index)


def store_letters(
    session: Session,
    keyring: KeyRing,
    sender: Sender,
    drafts: list[messages.Draft],
    staged: dict[str, attachments.StagedBlob | Blob | Problem],
    now: datetime,
) -> list[messages.Outcome]:
    """The write transaction: the letters with their first events and jobs, each letter not scheduled in
    its mailbox, and a notification job for each one delivered into an activated mailbox (the outbox:
    nobody is told of a letter whose transaction rolls back)."""
    stored = messages.store_letters(
        session, keyring, sender_id=sender.id, drafts=drafts, staged=staged, now=now
    )
    if stored.to_file:
        name = senders.read_sender_name(session, sender_id=sender.id)
        inbox.file_letters(session, letters=[{**row, "sender_name": name} for row in stored.to_file], now=now)
    notifications.notify_delivered(session, stored.delivered, now)
    return stored.outcomes
