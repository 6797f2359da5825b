"""Delivering letters: checks without the database, PDF staging, then one write transaction."""

from __future__ import annotations

from typing import Any

from postvak.attachments import service as attachments
from postvak.messages import service as messages
from postvak.runtime import Runtime
from postvak.senders.models import Sender


def deliver_letters(runtime: Runtime, sender: Sender, raws: list[Any]) -> list[messages.Outcome]:
    """Deliver letters in request order; each bad item is rejected alone.

    PDFs are checked and sealed before the write transaction so that the database's write
    lock is never held while a child process parses a file. When this returns, every
    created or existing letter is committed.
    """
    drafts, rejected = messages.draft_all(raws)
    staged = {}
    if contents := messages.inline_contents(drafts):
        with runtime.database.unit_of_work(write=False) as session:
            staged = attachments.stage(session, runtime.keyring, runtime.blobs, runtime.settings, contents)
    with runtime.database.unit_of_work() as session:
        outcomes = messages.deliver(session, runtime.keyring, sender.id, drafts, staged)
    return sorted(outcomes + rejected, key=lambda o: o.index)
