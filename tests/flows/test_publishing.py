"""Publishing a scheduled letter: into its mailbox and its reader told, once however often the job runs."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from postvak.flows.delivery import deliver_messages
from postvak.flows.publishing import publish_scheduled_message
from postvak.inbox.models import InboxItem
from postvak.jobs.models import Job
from postvak.kit import clock
from postvak.messages import history
from postvak.senders.models import Sender
from tests.support.citizens import make_citizen
from tests.support.letters import letter


def test_a_scheduled_letter_is_filed_and_told_about_at_its_publication_once(runtime, sender, bsns):
    start = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work(write=False) as session:
        who = session.get(Sender, sender.id)
    publish_at = (start + timedelta(hours=2)).isoformat()
    [outcome] = deliver_messages(runtime, sender=who, items=[letter(bsns[0], "PUB-1", publishAt=publish_at)])
    message_id = outcome.message_id
    clock.set_clock(lambda: start + timedelta(hours=2, seconds=1))
    for _ in range(2):
        with runtime.database.unit_of_work() as session:
            publish_scheduled_message(session, {"messageId": str(message_id)})
    with runtime.database.unit_of_work(write=False) as session:
        assert history.types_of(session, message_ids=[message_id])[message_id] == [
            "accepted",
            "scheduled",
            "delivered",
        ]
        assert session.get(InboxItem, message_id) is not None
        keys = sorted(session.scalars(select(Job.dedupe_key)))
    assert keys == [f"notify-email:new:{message_id}", f"publish-message:{message_id}"]
