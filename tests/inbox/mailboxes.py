"""Mailboxes with letters in them, for the inbox tests: activated or still waiting for their citizen."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from postvak.citizens import repository as mailboxes
from postvak.citizens.models import Mailbox
from postvak.flows.delivery import deliver_messages
from postvak.kit import clock
from postvak.messages import repository as letters
from postvak.runtime import Runtime
from postvak.senders.models import Sender
from tests.support.letters import SenderHandle


def mailbox(runtime: Runtime, bsn: str, *, activated: bool = True) -> uuid.UUID:
    """The mailbox of `bsn`; activated as the citizens' activation would do it, minus the account."""
    with runtime.database.unit_of_work() as session:
        ref = mailboxes.ensure_mailboxes(session, [("BSN", bsn)])[("BSN", bsn)]
        if activated:
            session.execute(update(Mailbox).where(Mailbox.id == ref.id).values(activated_at=clock.now()))
    return ref.id


def send(runtime: Runtime, sender: SenderHandle, *items: dict) -> list[uuid.UUID]:
    """Deliver letters as the sender API does; returns their ids in order."""
    with runtime.database.unit_of_work(write=False) as session:
        who = session.get(Sender, sender.id)
    outcomes = deliver_messages(runtime, sender=who, items=list(items))
    assert all(o.outcome == "created" for o in outcomes), [o.problem for o in outcomes]
    return [o.message_id for o in outcomes]


def history(runtime: Runtime, message_id: uuid.UUID) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        return [e.type for e in letters.events_of(session, [message_id])[message_id]]


def mailbox_of(runtime: Runtime, bsn: str) -> uuid.UUID:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalars(select(Mailbox.id).where(Mailbox.recipient_value == bsn)).one()
