"""Pure rules of webhooks: signatures a Standard Webhooks receiver accepts, the CloudEvents body,
what an answer means, and the retry schedule."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from postvak.messages import rules as message_rules
from postvak.webhooks import rules

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def test_a_secret_is_whsec_and_base64_of_at_least_24_random_bytes():
    key = rules.new_secret_key()
    text = rules.secret_text(key)
    assert text.startswith("whsec_") and len(key) >= 24
    assert rules.secret_key(text) == key
    assert rules.new_secret_key() != key
    with pytest.raises(ValueError):
        rules.secret_key("sk_" + base64.b64encode(key).decode())


def test_the_signature_is_the_one_standard_webhooks_computes():
    key = rules.new_secret_key()
    body = b'{"specversion":"1.0"}'
    ours = rules.signature(key, "1234", int(START.timestamp()), body)
    theirs = Webhook(rules.secret_text(key)).sign("1234", START, body.decode())
    assert ours == theirs


def test_signed_headers_verify_and_any_change_is_refused():
    key = rules.new_secret_key()
    body = b'{"id":"7"}'
    now = int(datetime.now(UTC).timestamp())
    headers = rules.signed_headers([key], "7", now, body)
    assert Webhook(rules.secret_text(key)).verify(body, headers) == {"id": "7"}
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.secret_text(key)).verify(b'{"id":"8"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.secret_text(rules.new_secret_key())).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.secret_text(key)).verify(body, {**headers, "webhook-id": "8"})
    stale = rules.signed_headers([key], "7", now - 600, body)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(rules.secret_text(key)).verify(body, stale)


def test_during_a_rotation_both_secrets_sign():
    new, old = rules.new_secret_key(), rules.new_secret_key()
    keys = rules.signing_keys(new, old, START + timedelta(hours=1), START)
    assert keys == [new, old]
    body = b"{}"
    headers = rules.signed_headers(keys, "9", int(datetime.now(UTC).timestamp()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (new, old):
        Webhook(rules.secret_text(key)).verify(body, headers)
    assert rules.signing_keys(new, old, START, START) == [new]  # the rotation has ended
    assert rules.signing_keys(new, None, None, START) == [new]


def test_the_body_is_a_cloudevent_exactly_as_api_md_says():
    message_id = str(uuid.uuid4())
    body = rules.cloud_event(
        event_id="42",
        message_id=message_id,
        sender_reference="IB-1",
        event_type="read",
        at="2027-01-04T12:00:00Z",
        detail=None,
        source="https://postvak.example.nl/api/v1/messages",
    )
    assert orjson.loads(body) == {
        "specversion": "1.0",
        "id": "42",
        "source": "https://postvak.example.nl/api/v1/messages",
        "type": "nl.postvak.message.read",
        "subject": message_id,
        "time": "2027-01-04T12:00:00Z",
        "datacontenttype": "application/json",
        "data": {
            "messageId": message_id,
            "senderReference": "IB-1",
            "type": "read",
            "at": "2027-01-04T12:00:00Z",
            "detail": None,
        },
    }


def test_moments_are_written_in_utc_with_a_z():
    assert rules.rfc3339(datetime(2027, 1, 4, 13, 0, tzinfo=UTC) + timedelta(microseconds=5)) == (
        "2027-01-04T13:00:00.000005Z"
    )


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "delivered"),
        (201, "delivered"),
        (204, "delivered"),
        (299, "delivered"),
        (410, "disable"),
        (301, "retry"),
        (302, "retry"),
        (307, "retry"),
        (400, "retry"),
        (404, "retry"),
        (429, "retry"),
        (500, "retry"),
        (503, "retry"),
        (None, "retry"),
    ],
)
def test_what_an_answer_means(status, verdict):
    assert rules.verdict(status) == verdict


def test_only_failures_that_concern_the_endpoint_pause_it():
    assert rules.endpoint_unwell(None) and rules.endpoint_unwell(503) and rules.endpoint_unwell(429)
    assert not rules.endpoint_unwell(400) and not rules.endpoint_unwell(302)


def test_event_types_filter_and_their_validation():
    assert (
        rules.wants(None, "read") and rules.wants(["read"], "read") and not rules.wants(["read"], "notified")
    )
    assert rules.event_types_problem(["read", "withdrawn"]) is None
    assert "unknown event type 'opened'" in rules.event_types_problem(["read", "opened"])
    assert "at least one" in rules.event_types_problem([])


def test_every_event_type_a_letter_can_have_can_be_asked_for():
    assert rules.EVENT_TYPES == message_rules.API_EVENT_TYPES


def test_the_dedupe_key_is_one_per_endpoint_and_event():
    endpoint = uuid.uuid4()
    assert rules.dedupe_key(endpoint, 5) == rules.dedupe_key(endpoint, 5)
    assert rules.dedupe_key(endpoint, 5) != rules.dedupe_key(endpoint, 6)
    assert len(rules.dedupe_key(endpoint, 2**63 - 1)) <= 200


def test_the_first_retry_is_within_30_seconds():
    for jitter in (0.0, 0.5, 0.999):
        retry = rules.next_attempt(since=START, now=START, jitter=jitter)
        assert START + timedelta(seconds=15) <= retry <= START + timedelta(seconds=30)


def test_retries_about_double_and_end_after_about_three_days():
    now, waits = START, []
    while (retry := rules.next_attempt(since=START, now=now, jitter=1.0)) is not None:
        waits.append(retry - now)
        now = retry
    assert now == START + rules.GIVE_UP_AFTER
    assert waits[0] == timedelta(seconds=30) and waits[1] == timedelta(seconds=30)
    assert waits[2] == timedelta(seconds=60) and waits[3] == timedelta(seconds=120)
    assert max(waits) == rules.LONGEST_WAIT
    assert 12 <= len(waits) <= 20


@given(
    failing_for=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_a_retry_never_comes_before_now_nor_after_the_three_days(failing_for, jitter):
    now = START + failing_for
    retry = rules.next_attempt(since=START, now=now, jitter=jitter)
    if now >= START + rules.GIVE_UP_AFTER:
        assert retry is None
    else:
        assert now < retry <= START + rules.GIVE_UP_AFTER
        assert retry - now <= max(failing_for, rules.FIRST_RETRY)


def test_an_answer_is_kept_as_short_single_line_text():
    assert rules.answer_excerpt(b"") is None
    assert rules.answer_excerpt(b"ok\r\n\x1b[31mred\x00") == "ok [31mred"
    assert len(rules.answer_excerpt(b"x" * 10_000)) == 500
    assert rules.answer_excerpt(b"\xff\xfe ok") == "\ufffd\ufffd ok"
