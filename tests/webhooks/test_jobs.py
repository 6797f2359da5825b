"""One delivery job to a receiver on loopback: signed so that a Standard Webhooks receiver accepts it
and refuses any change, retried with the same webhook-id, disabled by 410, never redirected, and
refused at connection when the host's DNS answer changed after registration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from postvak.jobs.models import Job, NewJob
from postvak.jobs.service import enqueue_many, list_failing_jobs
from postvak.kit import clock
from postvak.kit.netguard import GuardedClient, Policy
from postvak.webhooks import rules, service
from postvak.webhooks.jobs import event_source, run_delivery
from postvak.webhooks.lanes import guarded_client
from postvak.webhooks.models import WebhookEndpoint
from postvak.webhooks.schemas import WebhookEndpointIn
from tests.support.receiver import Reply, receiver
from tests.support.webhooks import add_endpoint, claim_deliveries, plan, status_event

SOURCE = event_source("http://testserver")


@pytest.fixture
def hooks():
    with receiver() as running:
        yield running


@pytest.fixture
def poster(settings):
    client = guarded_client(settings, timeout=5.0)
    yield client
    client.close()


def deliver_due(
    runtime, poster: GuardedClient, now: datetime | None = None, jitter: float = 1.0, max_failures: int = 10
):
    return [
        run_delivery(
            runtime.database,
            runtime.keyring,
            poster,
            job,
            source=SOURCE,
            max_failures=max_failures,
            jitter=lambda: jitter,
        )
        for job in claim_deliveries(runtime, now)
    ]


def pending(runtime) -> list[Job]:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(Job).where(Job.kind == service.DELIVERY_JOB, Job.done_at.is_(None))
        return list(session.scalars(query))


def attempts(runtime, sender, endpoint_id) -> list[service.DeliveryRecord]:
    with runtime.database.unit_of_work(write=False) as session:
        return service.list_latest_deliveries(session, sender_id=sender.id, endpoint_id=str(endpoint_id))


def test_a_delivery_is_a_signed_cloudevent_that_a_standard_webhooks_receiver_accepts(
    runtime, sender, hooks, poster
):
    endpoint_id, secret = add_endpoint(runtime, sender, hooks.url())
    event = status_event(sender, 17, "notified", detail="email")
    plan(runtime, [event])
    assert [o.result for o in deliver_due(runtime, poster)] == ["delivered"]
    [request] = hooks.received
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "17"
    assert request.headers["user-agent"].startswith("Postvak-Webhooks/")
    received = Webhook(secret).verify(request.body, request.headers)
    assert received == {
        "specversion": "1.0",
        "id": "17",
        "source": "http://testserver/api/v1/messages",
        "type": "nl.postvak.message.notified",
        "subject": str(event.message_id),
        "time": rules.rfc3339(event.at),
        "datacontenttype": "application/json",
        "data": {
            "messageId": str(event.message_id),
            "senderReference": "REF-17",
            "type": "notified",
            "at": rules.rfc3339(event.at),
            "detail": "email",
        },
    }
    [record] = attempts(runtime, sender, endpoint_id)
    assert (record.outcome, record.status_code, record.error, record.answer) == ("delivered", 200, None, "ok")
    assert record.event_id == 17 and pending(runtime) == []


def test_a_tampered_body_a_wrong_secret_and_a_stale_timestamp_are_refused(runtime, sender, hooks, poster):
    _, secret = add_endpoint(runtime, sender, hooks.url())
    plan(runtime, [status_event(sender, 1)])
    deliver_due(runtime, poster)
    [request] = hooks.received
    tampered = request.body.replace(b"REF-1", b"REF-2")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.secret_text(rules.new_secret_key())).verify(request.body, request.headers)
    # A delivery signed ten minutes ago (a replay, or a clock far off) is refused for its timestamp.
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    clock.set_clock(lambda: ten_minutes_ago)
    plan(runtime, [status_event(sender, 2)])
    deliver_due(runtime, poster)
    stale = hooks.received[1]
    assert int(stale.headers["webhook-timestamp"]) == int(ten_minutes_ago.timestamp())
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(stale.body, stale.headers)


def test_during_a_rotation_the_old_and_the_new_secret_both_verify(runtime, sender, hooks, poster):
    endpoint_id, old = add_endpoint(runtime, sender, hooks.url())
    with runtime.database.unit_of_work() as session:
        new = service.rotate_secret(
            session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=str(endpoint_id)
        )
    plan(runtime, [status_event(sender, 5)])
    deliver_due(runtime, poster)
    [request] = hooks.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(request.body, request.headers)["id"] == "5"
    assert Webhook(new.secret).verify(request.body, request.headers)["id"] == "5"
    # Once the rotation is over only the new secret signs.
    after = clock.now() + rules.ROTATION_OVERLAP + timedelta(minutes=1)
    clock.set_clock(lambda: after)
    plan(runtime, [status_event(sender, 6)])
    deliver_due(runtime, poster)
    later = hooks.received[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


def test_a_retry_carries_the_same_webhook_id_and_body(runtime, sender, hooks, poster):
    endpoint_id, secret = add_endpoint(runtime, sender, hooks.url())
    hooks.reply("/hook", Reply(503, b"busy"), Reply(500, b"still busy"))
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, 8)])
    [first] = deliver_due(runtime, poster)
    assert first.result == "retry" and first.endpoint_unwell
    assert start < first.retry_at <= start + timedelta(seconds=30)
    assert deliver_due(runtime, poster) == []  # not due yet
    clock.set_clock(lambda: first.retry_at)
    [second] = deliver_due(runtime, poster)
    assert second.result == "retry" and second.retry_at > first.retry_at
    clock.set_clock(lambda: second.retry_at)
    assert [o.result for o in deliver_due(runtime, poster)] == ["delivered"]
    ids = {r.headers["webhook-id"] for r in hooks.received}
    bodies = {r.body for r in hooks.received}
    assert ids == {"8"} and len(bodies) == 1 and len(hooks.received) == 3
    assert len({r.headers["webhook-timestamp"] for r in hooks.received}) == 3
    for request in hooks.received:
        Webhook(secret).verify(request.body, request.headers)
    records = attempts(runtime, sender, endpoint_id)
    assert [(r.outcome, r.status_code, r.answer) for r in records] == [
        ("delivered", 200, "ok"),
        ("retry", 500, "still busy"),
        ("retry", 503, "busy"),
    ]
    assert pending(runtime) == []


def test_an_answer_410_disables_the_endpoint_and_drops_what_was_queued(runtime, sender, hooks, poster):
    endpoint_id, _ = add_endpoint(runtime, sender, hooks.url())
    hooks.reply("/hook", Reply(410, b"gone"))
    plan(runtime, [status_event(sender, 1), status_event(sender, 2)])
    outcomes = deliver_due(runtime, poster)
    assert [o.result for o in outcomes] == ["disabled", "dropped"]
    assert len(hooks.received) == 1
    with runtime.database.unit_of_work(write=False) as session:
        view = service.read_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
    assert view.disabled_at is not None and view.disabled_reason == "answered 410 Gone"
    assert plan(runtime, [status_event(sender, 3)]) == 0
    assert pending(runtime) == []


def test_a_redirect_is_not_followed_but_retried(runtime, sender, hooks, poster):
    add_endpoint(runtime, sender, hooks.url())
    hooks.reply("/hook", Reply(302, b"", {"location": hooks.url("/elsewhere")}))
    plan(runtime, [status_event(sender, 4)])
    [outcome] = deliver_due(runtime, poster)
    assert (outcome.result, outcome.status) == ("retry", 302)
    assert not outcome.endpoint_unwell  # about this answer, not the endpoint's health
    assert [r.path for r in hooks.received] == ["/hook"]
    [job] = pending(runtime)
    assert job.last_error == "answered 302"


def test_a_deleted_endpoint_gets_nothing_more(runtime, sender, hooks, poster):
    endpoint_id, _ = add_endpoint(runtime, sender, hooks.url())
    plan(runtime, [status_event(sender, 1)])
    with runtime.database.unit_of_work() as session:
        service.delete_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
    assert [o.result for o in deliver_due(runtime, poster)] == ["dropped"]
    assert hooks.received == [] and pending(runtime) == []


def test_after_three_days_of_failure_the_delivery_is_given_up(runtime, sender, hooks, poster):
    endpoint_id, _ = add_endpoint(runtime, sender, hooks.url())
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, 1)])
    hooks.reply("/hook", *[Reply(500)] * 3)
    [first] = deliver_due(runtime, poster)
    assert first.result == "retry"
    end = start + rules.GIVE_UP_AFTER
    clock.set_clock(lambda: end)
    assert [o.result for o in deliver_due(runtime, poster)] == ["failed"]
    assert pending(runtime) == []
    assert [r.outcome for r in attempts(runtime, sender, endpoint_id)] == ["failed", "retry"]


def test_a_hanging_receiver_is_a_timeout_and_the_endpoint_is_unwell(runtime, sender, hooks, settings):
    add_endpoint(runtime, sender, hooks.url("/hang"))
    hooks.hanging.add("/hang")
    plan(runtime, [status_event(sender, 1)])
    quick = guarded_client(settings, timeout=1.0)
    try:
        [outcome] = deliver_due(runtime, quick)
    finally:
        quick.close()
    assert (outcome.result, outcome.error, outcome.endpoint_unwell) == ("retry", "timeout", True)


def test_a_dns_answer_that_changed_after_registration_is_refused_at_connection(runtime, sender, hooks):
    class Rebinding:
        answers = [["93.184.215.14"], ["127.0.0.1"]]

        def __call__(self, host: str, port: int) -> list[str]:
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    strict = Policy(allow_private=False, resolver=Rebinding())
    url = f"https://rebind.example.test:{hooks.port}/hook"
    with runtime.database.unit_of_work() as session:
        created = service.create_endpoint(
            session,
            keyring=runtime.keyring,
            sender_id=sender.id,
            endpoint=WebhookEndpointIn(url=url),
            policy=strict,
        )
    plan(runtime, [status_event(sender, 1)])
    [outcome] = deliver_due(runtime, GuardedClient(strict))
    assert (outcome.result, outcome.error) == ("retry", "refused")
    assert hooks.received == []
    [record] = attempts(runtime, sender, uuid.UUID(created.id))
    assert record.error == "refused" and "resolves to 127.0.0.1, a loopback address" in record.answer


def test_a_job_that_plan_deliveries_did_not_make_is_dropped_alone(runtime, sender, hooks, poster):
    endpoint_id, _ = add_endpoint(runtime, sender, hooks.url())
    plan(runtime, [status_event(sender, 1)])
    odd = [
        {},
        {"endpointId": str(endpoint_id), "eventId": "5"},
        {"endpointId": str(endpoint_id), "eventId": 5},
    ]
    planned = [
        NewJob(service.DELIVERY_JOB, f"webhook:odd:{n}", payload, clock.now())
        for n, payload in enumerate(odd)
    ]
    with runtime.database.unit_of_work() as session:
        enqueue_many(session, jobs=planned)
    results = sorted(o.result for o in deliver_due(runtime, poster))
    assert results == ["delivered", "dropped", "dropped", "dropped"]
    assert [orjson.loads(r.body)["id"] for r in hooks.received] == ["1"]
    assert pending(runtime) == []


def test_a_secret_that_fails_its_integrity_check_fails_its_job_alone_and_not_forever(
    runtime, sender, other_sender, hooks, poster
):
    broken, _ = add_endpoint(runtime, sender, hooks.url("/broken"))
    add_endpoint(runtime, other_sender, hooks.url("/fine"))
    with runtime.database.unit_of_work() as session:
        row = session.get(WebhookEndpoint, broken)
        row.secret_sealed = bytes([row.secret_sealed[0] ^ 1]) + row.secret_sealed[1:]
    start = clock.now()
    clock.set_clock(lambda: start)
    plan(runtime, [status_event(sender, 1), status_event(other_sender, 2)])
    outcomes = deliver_due(runtime, poster)
    assert sorted((o.result, o.error) for o in outcomes) == [("delivered", None), ("retry", "internal")]
    assert [r.path for r in hooks.received] == ["/fine"]
    [job] = pending(runtime)
    assert job.last_error.startswith("IntegrityFailure") and job.failures == 1 and job.locked_until is None
    # A run that raises is the job's failure (a receiver's 500 is not): the worker's backoff, and
    # parked after the configured number of failures, for an operator.
    outcomes = [("retry", "internal")]
    while outcomes[-1][0] == "retry":
        due = clock.as_utc(pending(runtime)[0].due_at)
        clock.set_clock(lambda due=due: due)
        outcomes += [(o.result, o.error) for o in deliver_due(runtime, poster, max_failures=3)]
    assert outcomes == [("retry", "internal"), ("retry", "internal"), ("parked", "internal")]
    with runtime.database.unit_of_work(write=False) as session:
        [parked] = list_failing_jobs(session, parked_only=True)
    assert (parked.id, parked.kind, parked.failures) == (job.id, service.DELIVERY_JOB, 3)
    assert [r.path for r in hooks.received] == ["/fine"]
