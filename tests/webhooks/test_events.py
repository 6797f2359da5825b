"""Status events reach webhooks by themselves: each event added through messages.history plans its
deliveries in the same transaction, and the worker that runtime.build_worker builds delivers them."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from postvak.flows.delivery import deliver_messages
from postvak.inbox import service as inbox
from postvak.jobs.models import Job
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.messages import history
from postvak.printing import service as printing
from postvak.runtime import build_worker
from postvak.senders.models import Sender
from postvak.webhooks import repository, service
from postvak.webhooks.models import WebhookDelivery
from postvak.webhooks.service import KEEP_DELIVERIES
from tests.support.citizens import make_citizen
from tests.support.letters import letter
from tests.support.notifying import deliver, notifying
from tests.support.printing import register_addresses, send_unreachable
from tests.support.receiver import Received, receiver
from tests.support.webhooks import add_endpoint, counting_statements


@pytest.fixture
def hooks():
    with receiver() as running:
        yield running


def close_lanes(worker: Worker) -> None:
    """What run_forever does when it stops, for a worker driven round by round."""
    for lane in worker.lanes:
        if close := getattr(lane, "close", None):
            close()


def rounds_until(worker: Worker, done, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        if not worker.run_once():
            time.sleep(0.01)


def delivery_jobs(runtime) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).where(Job.kind == service.DELIVERY_JOB))


def verified(secret: str, requests: list[Received]) -> dict[tuple[str, str], dict]:
    """(message id, event type) → the CloudEvent, each request verified as a receiver would."""
    bodies = [Webhook(secret).verify(r.body, r.headers) for r in requests]
    for request, body in zip(requests, bodies, strict=True):
        assert request.headers["webhook-id"] == body["id"]
    return {(b["subject"], b["data"]["type"]): b for b in bodies}


def test_every_kind_of_event_reaches_the_receiver_signed_and_filtered_by_event_types(
    runtime, client, sender, bsns, hooks
):
    _, every_secret = add_endpoint(runtime, sender, hooks.url("/every"))
    _, some_secret = add_endpoint(runtime, sender, hooks.url("/some"), ["read", "fallback-printed"])
    citizen = make_citizen(runtime, bsns[0])
    register_addresses(runtime, [bsns[1]])
    with notifying(runtime) as (sink, worker):
        try:
            online = deliver(client, sender, bsns[0], "WH-ONLINE")
            rounds_until(worker, lambda: sink.messages)  # the e-mail goes out: `notified`
            with runtime.database.unit_of_work() as session:
                inbox.read_message(
                    session, keyring=runtime.keyring, mailbox_id=citizen.mailbox_id, message_id=online
                )
            paper = str(send_unreachable(client, sender, bsns[1], "WH-PAPER"))
            with runtime.database.unit_of_work() as session:
                printing.print_messages(session, message_ids=[uuid.UUID(paper)])
            rounds_until(worker, lambda: len(hooks.to("/every")) >= 7 and len(hooks.to("/some")) >= 2)
            for lane in worker.lanes:
                if hasattr(lane, "wait_until_settled"):
                    assert lane.wait_until_settled(30)
        finally:
            close_lanes(worker)

    every = verified(every_secret, hooks.to("/every"))
    assert set(every) == {
        (online, "accepted"),
        (online, "delivered"),
        (online, "notified"),
        (online, "read"),
        (paper, "accepted"),
        (paper, "unreachable"),
        (paper, "fallback-printed"),
    }
    assert len(hooks.to("/every")) == 7  # once each
    some = verified(some_secret, hooks.to("/some"))
    assert set(some) == {(online, "read"), (paper, "fallback-printed")}
    with pytest.raises(Exception, match="signature"):
        Webhook(some_secret).verify(hooks.to("/every")[0].body, hooks.to("/every")[0].headers)

    # Each body is the event as the sender's feed tells it, with the same id.
    for message_id, reference in ((online, "WH-ONLINE"), (paper, "WH-PAPER")):
        feed = client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()["events"]
        assert len(feed) == len([key for key in every if key[0] == message_id])
        for event in feed:
            body = every[(message_id, event["type"])]
            assert body["data"] == {
                "messageId": message_id,
                "senderReference": reference,
                "type": event["type"],
                "at": event["at"],
                "detail": event["detail"],
            }
    assert every[(online, "notified")]["data"]["detail"] == "email"
    with runtime.database.unit_of_work(write=False) as session:
        open_jobs = session.scalar(
            select(func.count()).where(Job.kind == service.DELIVERY_JOB, Job.done_at.is_(None))
        )
    assert open_jobs == 0


def test_a_withdrawn_letter_tells_the_receiver(runtime, client, sender, bsns, hooks):
    _, secret = add_endpoint(runtime, sender, hooks.url(), ["withdrawn"])
    make_citizen(runtime, bsns[0])
    later = (clock.now() + timedelta(days=2)).isoformat()
    message_id = deliver(client, sender, bsns[0], "WH-LATER", publishAt=later)
    answer = client.delete(f"/api/v1/messages/{message_id}", headers=sender.headers)
    if answer.status_code == 405:
        pytest.skip("DELETE /api/v1/messages/{id} (withdraw) is not on this branch yet")
    assert answer.status_code in (200, 204), answer.text
    worker = build_worker(runtime)
    try:
        rounds_until(worker, lambda: hooks.received)
    finally:
        close_lanes(worker)
    [(key, body)] = verified(secret, hooks.wait_for(1)).items()
    assert key == (message_id, "withdrawn") and body["type"] == "nl.postvak.message.withdrawn"


def test_a_rolled_back_event_leaves_no_delivery_job(runtime, client, sender, bsns):
    add_endpoint(runtime, sender, "http://127.0.0.1:9/hook")
    message_id = uuid.UUID(deliver(client, sender, bsns[0], "WH-ROLLBACK"))  # accepted, unreachable
    assert delivery_jobs(runtime) == 2
    event = history.Event(message_id, sender.id, "fallback-not-printed", clock.now(), "no address")
    with pytest.raises(RuntimeError), runtime.database.unit_of_work() as session:
        history.append(session, events=[event])
        assert session.scalar(select(func.count()).where(Job.kind == service.DELIVERY_JOB)) == 3
        raise RuntimeError("the edge fails after the event was added")
    assert delivery_jobs(runtime) == 2
    with runtime.database.unit_of_work() as session:
        history.append(session, events=[event])
    assert delivery_jobs(runtime) == 3


def test_a_batch_of_a_senders_without_endpoints_costs_one_query_for_webhooks(
    runtime, sender, other_sender, bsns
):
    add_endpoint(runtime, other_sender, "http://127.0.0.1:9/hook")  # someone else's: not this batch's
    with runtime.database.unit_of_work(write=False) as session:
        who = session.get(Sender, sender.id)
    items = [letter(bsn, f"WH-BULK-{n}") for n, bsn in enumerate(bsns[:1000])]
    with counting_statements(runtime.database.writer) as statements:
        outcomes = deliver_messages(runtime, sender=who, items=items)
    assert len(outcomes) == 1000 and all(o.problem is None for o in outcomes)
    webhooks = [s for s in statements if "webhook_endpoints" in s]
    assert len(webhooks) == 1, webhooks
    assert delivery_jobs(runtime) == 0


def test_a_hanging_endpoint_of_one_sender_never_delays_another_senders_events_in_the_worker(
    runtime, client, sender, other_sender, bsns, hooks
):
    """Through the worker `postvak worker` runs: every lane on its own thread, until stopped."""
    runtime.settings = runtime.settings.model_copy(update={"worker_poll_seconds": 0.05})
    add_endpoint(runtime, sender, hooks.url("/a"))
    _, secret_b = add_endpoint(runtime, other_sender, hooks.url("/b"))
    hooks.hanging.add("/a")
    worker = build_worker(runtime)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        for n in range(20):  # letters to people without an account: `accepted` and `unreachable` each
            deliver(client, sender, bsns[n], f"WH-A-{n}")
        assert len(hooks.wait_for(8, "/a")) >= 8  # A's endpoint is stuck with its first deliveries
        theirs = deliver(client, other_sender, bsns[100], "WH-B")
        arrived = hooks.wait_for(2, "/b")
        assert set(verified(secret_b, arrived)) == {(theirs, "accepted"), (theirs, "unreachable")}
        # Meanwhile A's endpoint holds only its own places (8 by default); the rest wait their turn.
        assert len(hooks.to("/a")) == 8
        hooks.released.set()
        assert len(hooks.wait_for(40, "/a")) == 40
    finally:
        hooks.released.set()
        worker.stop()
        thread.join(30)
    assert not thread.is_alive()
    ids = [r.headers["webhook-id"] for r in hooks.to("/a")]
    assert len(set(ids)) == 40
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalars(select(Job).where(Job.done_at.is_(None))).all() == []


def test_housekeeping_forgets_delivery_attempts_older_than_thirty_days(runtime, sender):
    endpoint_id, _ = add_endpoint(runtime, sender, "http://127.0.0.1:9/hook")
    now = clock.now()
    attempt = {"endpoint_id": endpoint_id, "event_type": "read", "outcome": "delivered", "duration_ms": 3}
    with runtime.database.unit_of_work() as session:
        repository.add_deliveries(
            session,
            [
                attempt | {"event_id": 1, "at": now - KEEP_DELIVERIES - timedelta(minutes=1)},
                attempt | {"event_id": 2, "at": now - KEEP_DELIVERIES - timedelta(days=9)},
                attempt | {"event_id": 3, "at": now - KEEP_DELIVERIES + timedelta(minutes=1)},
            ],
        )
    worker = build_worker(runtime)
    try:
        assert worker.housekeep()["webhook-deliveries"] == 2
    finally:
        close_lanes(worker)
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalars(select(WebhookDelivery.event_id)).all() == [3]
