"""Webhook use cases: endpoints with sealed secrets, rotation, and planning deliveries in few statements."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from postvak.errors import NotFound, ValidationFailed
from postvak.jobs.models import Job
from postvak.kit import clock
from postvak.kit.netguard import Answer, Policy
from postvak.webhooks import rules, service
from postvak.webhooks.models import WebhookEndpoint
from postvak.webhooks.schemas import WebhookEndpointIn
from tests.support.letters import register
from tests.support.webhooks import (
    add_endpoint,
    claim_deliveries,
    counting_statements,
    plan,
    references_of,
    status_event,
)

URL = "http://127.0.0.1:9/hook"  # never called here


def test_an_endpoint_keeps_its_secret_sealed_and_shows_it_once(runtime, sender):
    endpoint_id, secret = add_endpoint(runtime, sender, URL, ["read", "delivered", "read"])
    assert secret.startswith("whsec_") and len(rules.secret_key(secret)) >= 24
    with runtime.database.unit_of_work(write=False) as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        view = service.read_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
        listed = service.list_endpoints(session, sender_id=sender.id)
    assert rules.secret_key(secret) not in row.secret_sealed
    assert secret.encode() not in row.secret_sealed
    assert view.event_types == ["delivered", "read"]  # once each, in the contract's order
    assert "secret" not in view.model_dump() and listed.webhook_endpoints == [view]


def test_without_event_types_an_endpoint_receives_every_type(runtime, sender):
    endpoint_id, _ = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work(write=False) as session:
        view = service.read_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
        assert session.get(WebhookEndpoint, endpoint_id).event_types is None  # also types added later
    assert view.event_types == list(rules.EVENT_TYPES)


def test_another_senders_endpoint_is_not_found(runtime, sender, other_sender):
    endpoint_id, _ = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        for call in (
            lambda: service.read_endpoint(session, sender_id=other_sender.id, endpoint_id=str(endpoint_id)),
            lambda: service.delete_endpoint(session, sender_id=other_sender.id, endpoint_id=str(endpoint_id)),
            lambda: service.rotate_secret(
                session, keyring=runtime.keyring, sender_id=other_sender.id, endpoint_id=str(endpoint_id)
            ),
            lambda: service.read_endpoint(session, sender_id=sender.id, endpoint_id="not-an-id"),
        ):
            with pytest.raises(NotFound):
                call()
        assert service.list_endpoints(session, sender_id=other_sender.id).webhook_endpoints == []


def test_a_deleted_endpoint_is_gone_and_keeps_no_secret(runtime, sender):
    endpoint_id, _ = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        service.delete_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
    with runtime.database.unit_of_work(write=False) as session:
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row.deleted_at is not None and row.secret_sealed is None and row.previous_sealed is None
        with pytest.raises(NotFound):
            service.read_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
        assert service.list_endpoints(session, sender_id=sender.id).webhook_endpoints == []


def test_a_rotation_keeps_the_old_secret_signing_for_a_day(runtime, sender):
    endpoint_id, first = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        second = service.rotate_secret(
            session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=str(endpoint_id)
        )
    assert second.secret != first
    view = _view(runtime, sender, endpoint_id)
    assert view.rotation_ends_at == pytest.approx(
        clock.now() + rules.ROTATION_OVERLAP, abs=timedelta(minutes=1)
    )
    with runtime.database.unit_of_work() as session:
        third = service.rotate_secret(
            session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=str(endpoint_id)
        )
    keys = _keys(runtime, sender, endpoint_id)
    assert keys == [rules.secret_key(third.secret), rules.secret_key(second.secret)]  # the first is dropped
    later = clock.now() + rules.ROTATION_OVERLAP + timedelta(seconds=1)
    clock.set_clock(lambda: later)
    assert _keys(runtime, sender, endpoint_id) == [rules.secret_key(third.secret)]
    assert _view(runtime, sender, endpoint_id).rotation_ends_at is None


def _view(runtime, sender, endpoint_id):
    with runtime.database.unit_of_work(write=False) as session:
        return service.read_endpoint(session, sender_id=sender.id, endpoint_id=str(endpoint_id))


_event_ids = itertools.count(900)


def _keys(runtime, sender, endpoint_id) -> list[bytes]:
    """The keys that sign a delivery to the endpoint now."""
    plan(runtime, [status_event(sender, next(_event_ids))])
    [job] = claim_deliveries(runtime)
    with runtime.database.unit_of_work(write=False) as session:
        delivery = service.load_delivery(session, keyring=runtime.keyring, job=job, source="s")
    with runtime.database.unit_of_work() as session:
        service.drop_delivery(session, job=job, now=clock.now())
    assert delivery.endpoint_id == endpoint_id
    return delivery.keys


def test_registration_checks_the_url_and_every_address_it_resolves_to(runtime, sender):
    strict = Policy(allow_private=False)
    cases = [
        ({"url": "http://127.0.0.1:9/hook"}, strict, "url: must be an https URL"),
        ({"url": "https://127.0.0.1/hook"}, strict, "url: 127.0.0.1 is a loopback address"),
        ({"url": "https://hooks.invalid/"}, strict, "url: hooks.invalid does not resolve"),
        ({"url": "https://[::ffff:169.254.169.254]/"}, strict, "link-local"),
    ]
    for fields, policy, reason in cases:
        with runtime.database.unit_of_work() as session, pytest.raises(ValidationFailed, match=reason):
            service.create_endpoint(
                session,
                keyring=runtime.keyring,
                sender_id=sender.id,
                endpoint=WebhookEndpointIn(**fields),
                policy=policy,
            )
    with runtime.database.unit_of_work(write=False) as session:
        assert service.list_endpoints(session, sender_id=sender.id).webhook_endpoints == []


def test_an_organisation_has_at_most_ten_endpoints(runtime, sender):
    for n in range(rules.MAX_ENDPOINTS_PER_SENDER):
        add_endpoint(runtime, sender, f"{URL}/{n}")
    with pytest.raises(ValidationFailed, match="at most 10"):
        add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        first = service.list_endpoints(session, sender_id=sender.id).webhook_endpoints[0]
        service.delete_endpoint(session, sender_id=sender.id, endpoint_id=first.id)
    add_endpoint(runtime, sender, URL)


# --- planning --------------------------------------------------------------------------------------


def test_one_job_per_event_and_endpoint_that_wants_it(runtime, sender, other_sender):
    everything, _ = add_endpoint(runtime, sender, URL)
    only_read, _ = add_endpoint(runtime, sender, URL, ["read"])
    theirs, _ = add_endpoint(runtime, other_sender, URL)
    events = [status_event(sender, 1, "delivered"), status_event(sender, 2, "read")]
    assert plan(runtime, events) == 3
    assert plan(runtime, events) == 3  # planned again: the dedupe keys let nothing in twice
    with runtime.database.unit_of_work(write=False) as session:
        keys = set(session.scalars(select(Job.dedupe_key).where(Job.kind == service.DELIVERY_JOB)))
    assert keys == {f"webhook:{everything}:1", f"webhook:{everything}:2", f"webhook:{only_read}:2"}
    assert not any(str(theirs) in key for key in keys)
    [job] = [j for j in claim_deliveries(runtime) if j.payload["endpointId"] == str(only_read)]
    assert job.payload == {
        "endpointId": str(only_read),
        "eventId": "2",
        "messageId": str(events[1].message_id),
        "senderReference": "REF-2",
        "type": "read",
        "at": rules.rfc3339(events[1].at),
        "detail": None,
        "since": job.payload["since"],
    }


def test_disabled_and_deleted_endpoints_get_nothing(runtime, sender):
    gone, _ = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        service.delete_endpoint(session, sender_id=sender.id, endpoint_id=str(gone))
    disabled, _ = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        session.get(WebhookEndpoint, disabled).disabled_at = clock.now()
    assert plan(runtime, [status_event(sender, 1)]) == 0


def test_planning_a_thousand_events_of_many_senders_takes_two_statements(runtime, sender, other_sender):
    third = register(runtime, "Provincie Ergens", "00000001002220649000")
    add_endpoint(runtime, sender, URL)
    add_endpoint(runtime, sender, URL, ["read"])
    add_endpoint(runtime, other_sender, URL)
    senders = [sender, other_sender, third]  # the third has no endpoint
    events = [status_event(senders[n % 3], n, "delivered" if n % 2 else "read") for n in range(1000)]
    with runtime.database.unit_of_work() as session:
        session.execute(text("SELECT 1"))  # the transaction has begun, as it has when events are written
        with counting_statements(runtime.database.writer) as statements:
            planned = service.plan_deliveries(
                session, events=[e.stored() for e in events], references=references_of(events)
            )
    mine = [e for e in events if e.sender_id == sender.id]
    assert planned == len(mine) + sum(e.type == "read" for e in mine) + sum(
        e.sender_id == other_sender.id for e in events
    )
    assert len(statements) == 2, statements


def test_events_of_senders_without_endpoints_take_one_statement(runtime, sender):
    with runtime.database.unit_of_work() as session:
        session.execute(text("SELECT 1"))
        with counting_statements(runtime.database.writer) as statements:
            events = [status_event(sender, n).stored() for n in range(1000)]
            assert service.plan_deliveries(session, events=events) == 0
    assert len(statements) == 1


# --- housekeeping ----------------------------------------------------------------------------------


def test_after_a_key_rotation_secrets_are_rewrapped_and_still_sign(runtime, sender):
    endpoint_id, first = add_endpoint(runtime, sender, URL)
    with runtime.database.unit_of_work() as session:
        second = service.rotate_secret(
            session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=str(endpoint_id)
        )
    old_kek = runtime.keyring.active_id
    new_kek = runtime.keyring.rotate()
    with runtime.database.unit_of_work() as session:
        assert service.rewrap_secret_keys(session, keyring=runtime.keyring) == 1
    with runtime.database.unit_of_work() as session:
        assert service.rewrap_secret_keys(session, keyring=runtime.keyring) == 0
        row = session.get(WebhookEndpoint, endpoint_id)
        assert row.secret_kek_id == row.previous_kek_id == new_kek != old_kek
    assert _keys(runtime, sender, endpoint_id) == [rules.secret_key(second.secret), rules.secret_key(first)]


def test_old_delivery_attempts_are_forgotten_and_recent_ones_kept(runtime, sender):
    endpoint_id, _ = add_endpoint(runtime, sender, URL)
    start = clock.now()
    for days, event_id in ((40, 1), (31, 2), (1, 3)):
        clock.set_clock(lambda days=days: start - timedelta(days=days))
        plan(runtime, [status_event(sender, event_id)])
        [job] = claim_deliveries(runtime)
        with runtime.database.unit_of_work(write=False) as session:
            delivery = service.load_delivery(session, keyring=runtime.keyring, job=job, source="s")
        with runtime.database.unit_of_work() as session:
            service.settle_attempt(
                session,
                delivery=delivery,
                answer=Answer(200, b"", None, None, 0.01),
                now=clock.now(),
                jitter=0,
            )
    clock.set_clock(lambda: start)
    with runtime.database.unit_of_work() as session:
        assert service.prune_deliveries(session, before=start - service.KEEP_DELIVERIES, limit=1) == 1
        assert service.prune_deliveries(session, before=start - service.KEEP_DELIVERIES) == 1
        assert service.prune_deliveries(session, before=start - service.KEEP_DELIVERIES) == 0
        left = service.list_latest_deliveries(session, sender_id=sender.id, endpoint_id=str(endpoint_id))
    assert [r.event_id for r in left] == [3]
