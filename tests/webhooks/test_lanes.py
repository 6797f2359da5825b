"""The webhook lane: one sender's endpoint that hangs or fails never delays another sender's
deliveries; and a real letter's events travel from the API to a receiver end to end."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from postvak.jobs.models import Job
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.messages import repository as letters
from postvak.webhooks import service
from postvak.webhooks.lanes import WebhookLane
from tests.support.citizens import make_citizen
from tests.support.letters import letter
from tests.support.receiver import Reply, receiver
from tests.support.webhooks import add_endpoint, claim_deliveries, plan, status_event


@pytest.fixture
def hooks():
    with receiver() as running:
        yield running


@pytest.fixture
def lane(runtime, hooks):
    built = WebhookLane(runtime.database, runtime.keyring, runtime.settings, per_endpoint=2, threads=8)
    yield built
    hooks.released.set()  # a request still hanging ends now, so that close() need not wait for it
    built.close()


def rounds_until(worker: Worker, done, seconds: float = 30.0) -> None:
    """Worker rounds (each hands what is due to the lane, which returns at once) until `done()`."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        if not worker.run_once():
            time.sleep(0.01)


def test_a_hanging_endpoint_of_one_sender_never_delays_another_senders_deliveries(
    runtime, sender, other_sender, hooks, lane
):
    add_endpoint(runtime, sender, hooks.url("/a"))
    add_endpoint(runtime, other_sender, hooks.url("/b"))
    hooks.hanging.add("/a")
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, n) for n in range(1, 11)])  # sender A's, due first
    clock.set_clock(lambda: start + timedelta(seconds=1))
    plan(runtime, [status_event(other_sender, n) for n in range(11, 14)])
    worker = Worker(runtime.database, {}, lanes=[lane])
    rounds_until(worker, lambda: len(hooks.to("/b")) == 3)
    arrived = hooks.wait_for(3, "/b")
    assert sorted(r.headers["webhook-id"] for r in arrived) == ["11", "12", "13"]
    # Meanwhile A's endpoint holds only its own two places; its other eight wait their turn.
    assert len(hooks.to("/a")) == 2
    hooks.released.set()
    assert lane.wait_until_settled(30)
    assert sorted(int(r.headers["webhook-id"]) for r in hooks.to("/a")) == list(range(1, 11))
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalars(select(Job).where(Job.done_at.is_(None))).all() == []


def test_a_failing_endpoint_waits_as_a_whole_until_its_retry(runtime, sender, other_sender, hooks, lane):
    add_endpoint(runtime, sender, hooks.url("/a"))
    add_endpoint(runtime, other_sender, hooks.url("/b"))
    hooks.reply("/a", *[Reply(503, b"down")] * 10)
    lane.per_endpoint = 1
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, n) for n in range(1, 6)])
    plan(runtime, [status_event(other_sender, n) for n in range(6, 9)])
    worker = Worker(runtime.database, {}, lanes=[lane])
    worker.run_once()
    assert lane.wait_until_settled(30)
    assert len(hooks.to("/a")) == 1  # the first failure pauses the endpoint: no attempt for the others
    assert len(hooks.to("/b")) == 3
    with runtime.database.unit_of_work(write=False) as session:
        waiting = session.scalars(select(Job).where(Job.done_at.is_(None))).all()
    assert len(waiting) == 5 and len({job.due_at for job in waiting}) == 1  # the failed one's retry time
    retry_at = clock.as_utc(waiting[0].due_at)
    assert start < retry_at <= start + timedelta(seconds=30)
    # Claimed again before that time (another round, a restart): still not attempted.
    worker.run_once()
    assert lane.wait_until_settled(30) and len(hooks.to("/a")) == 1
    clock.set_clock(lambda: retry_at)
    hooks.clear_replies("/a")  # the endpoint is back
    rounds_until(worker, lambda: len(hooks.to("/a")) >= 6)
    assert lane.wait_until_settled(30)
    assert sorted({r.headers["webhook-id"] for r in hooks.to("/a")}) == ["1", "2", "3", "4", "5"]
    assert failures(runtime) == [0] * 8  # a receiver's 503 and the waits it causes are no job failures


def test_a_backlog_beyond_an_endpoints_share_is_parked_out_of_the_way_and_woken_in_turn(
    runtime, sender, other_sender, hooks, lane
):
    add_endpoint(runtime, sender, hooks.url("/a"))
    add_endpoint(runtime, other_sender, hooks.url("/b"))
    lane.per_endpoint, lane.hold_per_endpoint = 1, 3
    hooks.hanging.add("/a")
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, n) for n in range(1, 21)])  # A's backlog, due first
    clock.set_clock(lambda: start + timedelta(seconds=1))
    plan(runtime, [status_event(other_sender, 21)])
    worker = Worker(runtime.database, {}, lanes=[lane])
    rounds_until(worker, lambda: len(hooks.to("/b")) == 1)
    assert [r.headers["webhook-id"] for r in hooks.wait_for(1, "/b")] == ["21"]
    with runtime.database.unit_of_work(write=False) as session:
        parked = session.scalars(select(Job).where(Job.last_error == "parked: its endpoint is busy")).all()
    assert len(parked) == 17 and all(clock.as_utc(j.due_at) > start + timedelta(minutes=10) for j in parked)
    hooks.released.set()  # A answers again: its parked jobs are woken as its share empties
    rounds_until(worker, lambda: len(hooks.to("/a")) == 20)
    assert lane.wait_until_settled(30)
    assert sorted(int(r.headers["webhook-id"]) for r in hooks.to("/a")) == list(range(1, 21))
    assert clock.now() == start + timedelta(seconds=1)  # nobody waited for the parking to end
    assert failures(runtime) == [0] * 21  # parked and woken, never counted as a lease that ran out


def test_a_job_handed_back_after_another_worker_claimed_it_is_left_to_that_worker(
    runtime, sender, hooks, lane
):
    add_endpoint(runtime, sender, hooks.url("/a"))
    lane.per_endpoint, lane.hold_per_endpoint = 1, 1
    hooks.hanging.add("/a")
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, 1)])
    Worker(runtime.database, {}, lanes=[lane], lease=timedelta(hours=1)).run_once()
    hooks.wait_for(1, "/a")  # its delivery hangs: the endpoint's share is full
    plan(runtime, [status_event(sender, 2)])
    [stale] = claim_deliveries(runtime, start)
    later = start + timedelta(minutes=6)
    clock.set_clock(lambda: later)
    [taken] = claim_deliveries(runtime, later)  # this lane held it past its lease: another worker took it
    assert taken.id == stale.id and taken.attempt == stale.attempt + 1
    before = stored(runtime, taken.id)
    lane.run([stale])  # it would be parked out of the way: the endpoint is busy
    assert stored(runtime, taken.id) == before
    hooks.released.set()
    assert lane.wait_until_settled(30)
    lane.idle()  # would wake what the lane had parked
    assert stored(runtime, taken.id) == before
    assert [r.headers["webhook-id"] for r in hooks.to("/a")] == ["1"]


def test_a_lane_that_closes_hands_its_waiting_jobs_back_due_now(runtime, sender, hooks, lane):
    add_endpoint(runtime, sender, hooks.url("/a"))
    lane.per_endpoint = 1
    hooks.hanging.add("/a")
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, n) for n in range(1, 4)])
    Worker(runtime.database, {}, lanes=[lane]).run_once()
    hooks.wait_for(1, "/a")  # one hangs, two wait for their endpoint
    closing = threading.Thread(target=lane.close)
    closing.start()  # hands the waiting two back, then waits for the hanging delivery
    deadline = time.monotonic() + 30
    while sum(j.locked_until is None for j in open_jobs(runtime)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    hooks.released.set()
    closing.join(30)
    assert not closing.is_alive()
    [first] = [r.headers["webhook-id"] for r in hooks.to("/a")]
    waiting = open_jobs(runtime)
    assert len(waiting) == 2 and first not in {j.payload["eventId"] for j in waiting}
    assert all(j.locked_until is None and clock.as_utc(j.due_at) == start for j in waiting)
    assert [j.failures for j in waiting] == [0, 0]  # a stop is no failure of theirs


def failures(runtime) -> list[int]:
    with runtime.database.unit_of_work(write=False) as session:
        return list(session.scalars(select(Job.failures).where(Job.kind == service.DELIVERY_JOB)))


def open_jobs(runtime) -> list[Job]:
    with runtime.database.unit_of_work(write=False) as session:
        found = list(session.scalars(select(Job).where(Job.done_at.is_(None)).order_by(Job.id)))
        session.expunge_all()
        return found


def stored(runtime, job_id: int) -> tuple:
    with runtime.database.unit_of_work(write=False) as session:
        job = session.get(Job, job_id)
        return (job.due_at, job.locked_until, job.attempts, job.failures, job.last_error, job.done_at)


def test_a_delivered_letters_events_reach_the_senders_receiver(runtime, client, sender, bsns, hooks, lane):
    _, secret = add_endpoint(runtime, sender, hooks.url())
    make_citizen(runtime, bsns[0])
    answer = client.post("/api/v1/messages", json=letter(bsns[0], "WH-1"), headers=sender.headers)
    assert answer.status_code == 201, answer.text
    message_id = answer.json()["id"]
    with runtime.database.unit_of_work(write=False) as session:
        events = letters.events_of(session, [uuid.UUID(message_id)])[uuid.UUID(message_id)]
    assert [e.type for e in events] == ["accepted", "delivered"]  # planned as they were stored
    worker = Worker(runtime.database, {}, lanes=[lane])
    rounds_until(worker, lambda: len(hooks.received) == 2)
    assert lane.wait_until_settled(30)
    received = [Webhook(secret).verify(r.body, r.headers) for r in hooks.wait_for(2)]
    by_type = {r["data"]["type"]: r for r in received}
    assert set(by_type) == {"accepted", "delivered"}
    feed = client.get("/api/v1/messages/" + message_id, headers=sender.headers).json()["events"]
    for event in feed:
        body = by_type[event["type"]]
        assert body["type"] == f"nl.postvak.message.{event['type']}"
        assert body["subject"] == message_id and body["source"] == "http://testserver/api/v1/messages"
        assert body["data"] == {
            "messageId": message_id,
            "senderReference": "WH-1",
            "type": event["type"],
            "at": event["at"],
            "detail": None,
        }
    ids = {r.headers["webhook-id"] for r in hooks.received}
    assert ids == {str(e.id) for e in events} == {r["id"] for r in received}
    assert all(orjson.loads(r.body)["time"] == orjson.loads(r.body)["data"]["at"] for r in hooks.received)
    with runtime.database.unit_of_work(write=False) as session:
        kinds = session.scalars(select(Job.kind).where(Job.done_at.is_(None))).all()
    assert service.DELIVERY_JOB not in kinds
