"""Delivering messages: checks without the database, PDF staging, then one write transaction that stores the
messages, files them into their mailboxes and queues their notifications."""

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
from postvak.flows.due_dates import DueMessage, plan_due_date_ends
from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.messages import service as messages
from postvak.notifications import service as notifications
from postvak.printing import service as printing
from postvak.senders import service as senders
from postvak.senders.models import Sender

# A message stored unreachable (its mailbox not activated) goes on paper at once when its sender asked.
UNREACHABLE_FALLBACK = "if-unreachable"


class Parts(Protocol):
    """What delivering needs of the running system (postvak.runtime.Runtime has it all)."""

    settings: Settings
    database: Database
    keyring: KeyRing
    blobs: BlobStore


def deliver_messages(parts: Parts, *, sender: Sender, items: list[Any]) -> list[messages.Outcome]:
    """Deliver messages (as sent, not yet checked) in request order; each bad item is rejected alone.

    PDFs are checked and sealed before the write transaction so that the database's write
    lock is never held while a child process parses a file. When this returns, every
    created or existing message is committed.
    """
    drafts, rejected = messages.check_messages(items)
    staged = {}
    if contents := messages.inline_contents(drafts):
        with parts.database.unit_of_work(write=False) as session:
            staged = attachments.stage_blobs(
                session, keyring=parts.keyring, store=parts.blobs, settings=parts.settings, contents=contents
            )
    with parts.database.unit_of_work() as session:
        outcomes = store_messages(
            session, keyring=parts.keyring, sender=sender, drafts=drafts, staged=staged, now=clock.now()
        )
    return sorted(outcomes + rejected, key=lambda o: o.index)


def store_messages(
    session: Session,
    *,
    keyring: KeyRing,
    sender: Sender,
    drafts: list[messages.Draft],
    staged: dict[str, attachments.StagedBlob | Blob | Problem],
    now: datetime,
) -> list[messages.Outcome]:
    """The write transaction: the messages with their first events and jobs, each message not scheduled in
    its mailbox, a notification job for each one delivered into an activated mailbox, the end of each
    dueDate, and the printing of those unreachable whose sender asked for that (the outbox: nobody is
    told of, nothing is printed for, a message whose transaction rolls back)."""
    stored = messages.store_messages(
        session, keyring=keyring, sender_id=sender.id, drafts=drafts, staged=staged, now=now
    )
    if stored.to_file:
        name = senders.read_sender_name(session, sender_id=sender.id)
        inbox.file_messages(
            session, messages=[{**row, "sender_name": name} for row in stored.to_file], now=now
        )
    notifications.notify_new_messages(session, message_ids=stored.delivered, now=now)
    delivered = set(stored.delivered)
    printing.plan_fallback_print(
        session,
        message_ids=[
            row["id"]
            for row in stored.to_file
            if row["id"] not in delivered and row["paper_fallback"] == UNREACHABLE_FALLBACK
        ],
        paper_fallback=UNREACHABLE_FALLBACK,
        now=now,
    )
    plan_due_date_ends(session, messages=_with_due_dates(drafts, stored.outcomes))
    return stored.outcomes


def _with_due_dates(drafts: list[messages.Draft], outcomes: list[messages.Outcome]) -> list[DueMessage]:
    """The messages created now that have a dueDate (scheduled ones too: withdrawn, they get nothing)."""
    by_index = {d.index: d.message for d in drafts}
    return [
        DueMessage(o.message_id, m.due_date, m.confirmation_required, m.paper_fallback)
        for o in outcomes
        if o.outcome == "created" and o.message_id and (m := by_index[o.index]).due_date is not None
    ]
