"""Activating a mailbox delivers the messages that waited for it, and the mailbox stays the same one."""

from sqlalchemy import select

from postvak.citizens.models import Mailbox
from tests.support.citizens import make_citizen
from tests.support.letters import letter


def test_the_citizen_joins_the_mailbox_that_messages_already_went_to(runtime, client, sender, bsns):
    sent = client.post("/api/v1/messages", json=letter(bsns[0], "EARLY-1"), headers=sender.headers).json()
    assert sent["status"] == "unreachable"
    handle = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work(write=False) as session:
        boxes = list(session.scalars(select(Mailbox)))
    assert [box.id for box in boxes] == [handle.mailbox_id]
    waited = client.get(f"/api/v1/messages/{sent['id']}", headers=sender.headers).json()
    assert [e["type"] for e in waited["events"]] == ["accepted", "unreachable", "delivered"]
    later = client.post("/api/v1/messages", json=letter(bsns[0], "LATER-1"), headers=sender.headers).json()
    assert later["status"] == "delivered"
