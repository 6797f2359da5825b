"""Delivering letters as one use case: the letter, its first events, its inbox line and its notification
job are written in one transaction, or none of them."""

import pytest
from sqlalchemy import func, select

from postvak.flows.delivery import deliver_messages, store_messages
from postvak.inbox.models import InboxItem
from postvak.jobs.models import Job
from postvak.kit import clock
from postvak.messages import history
from postvak.messages import service as messages
from postvak.messages.models import Message
from postvak.senders.models import Sender
from tests.support.citizens import make_citizen
from tests.support.letters import letter


def _sender(runtime, handle) -> Sender:
    with runtime.database.unit_of_work(write=False) as session:
        return session.get(Sender, handle.id)


def _count(runtime, model) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_delivered_letter_is_in_its_mailbox_with_its_events_and_notification_job(runtime, sender, bsns):
    make_citizen(runtime, bsns[0])
    [outcome] = deliver_messages(runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "FLOW-1")])
    letter_id = outcome.message_id
    with runtime.database.unit_of_work(write=False) as session:
        assert history.types_of(session, message_ids=[letter_id])[letter_id] == ["accepted", "delivered"]
        assert session.get(InboxItem, letter_id).unread
        keys = list(session.scalars(select(Job.dedupe_key)))
    assert keys == [f"notify-email:new:{letter_id}"]


def test_a_letter_for_a_mailbox_not_yet_activated_waits_in_it_untold(runtime, sender, bsns):
    [outcome] = deliver_messages(runtime, sender=_sender(runtime, sender), items=[letter(bsns[0], "FLOW-2")])
    with runtime.database.unit_of_work(write=False) as session:
        assert history.types_of(session, message_ids=[outcome.message_id])[outcome.message_id] == [
            "accepted",
            "unreachable",
        ]
        assert session.get(InboxItem, outcome.message_id) is not None
    assert _count(runtime, Job) == 0


def test_nothing_of_a_delivery_stays_when_its_transaction_rolls_back(runtime, sender, bsns):
    make_citizen(runtime, bsns[0])
    drafts, _ = messages.check_messages([letter(bsns[0], "FLOW-3")])
    with pytest.raises(RuntimeError), runtime.database.unit_of_work() as session:
        [outcome] = store_messages(
            session,
            keyring=runtime.keyring,
            sender=_sender(runtime, sender),
            drafts=drafts,
            staged={},
            now=clock.now(),
        )
        assert outcome.outcome == "created"
        raise RuntimeError("the request failed after storing")
    assert (_count(runtime, Message), _count(runtime, InboxItem), _count(runtime, Job)) == (0, 0, 0)
