"""SMS through the stub gateway on loopback: delivery reports come back signed to /callbacks/sms."""

from __future__ import annotations

import time

import orjson

from postvak.notifications.sms import HttpGatewaySms, sign_report
from postvak.notifications.sms_stub import StubGateway
from tests.support.citizens import make_citizen
from tests.support.live import live_server, serve_app
from tests.support.notifying import add_phone, deliver, events_of, notifying

SECRET = "report-secret"


def wait_for_event(client, sender, message_id, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while wanted not in (found := events_of(client, sender, message_id)):
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    return found


def test_delivery_reports_record_notified_or_failed(runtime, client, sender, bsns):
    reached, unreached = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    add_phone(runtime, reached.id, "+31612345678")
    add_phone(runtime, unreached.id, "+31687654321")
    runtime.settings = runtime.settings.model_copy(update={"sms_callback_secret": SECRET})
    gateway = StubGateway("gateway-token", SECRET, undeliverable=frozenset({"+31687654321"}))
    with serve_app(gateway.app) as gateway_url, live_server(runtime) as base_url:
        runtime.sms = HttpGatewaySms(f"{gateway_url}/messages", "gateway-token", f"{base_url}/callbacks/sms")
        with notifying(runtime) as (sink, worker):
            good = deliver(client, sender, bsns[0], "SMS-good")
            bad = deliver(client, sender, bsns[1], "SMS-bad")
            worker.drain()
            sink.wait_for(2)
            worker.drain()
            wait_for_event(client, sender, good, ("notified", "sms"))
            failed = wait_for_event(
                client, sender, bad, ("notification-failed", "sms: the phone company could not deliver it")
            )
    assert ("notified", "sms") not in failed
    assert sorted(m["to"] for m in gateway.messages) == ["+31612345678", "+31687654321"]
    assert all("\n" not in m["text"] and "/letters/" in m["text"] for m in gateway.messages)


def test_reports_must_be_signed_known_and_well_formed(runtime, client, sender, bsns):
    runtime.settings = runtime.settings.model_copy(update={"sms_callback_secret": SECRET})

    def post(report, signature=None):
        body = orjson.dumps(report)
        headers = {"Content-Type": "application/json", "X-Signature": signature or sign_report(body, SECRET)}
        return client.post("/callbacks/sms", content=body, headers=headers)

    assert post({"id": "stub-1", "status": "delivered"}, signature="0" * 64).status_code == 401
    assert post({"id": "stub-1", "status": "delivered"}).status_code == 404
    answer = post({"id": "stub-1", "status": "lost"})
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert "status" in answer.json()["detail"]


def test_a_repeated_report_changes_nothing(runtime, client, sender, bsns):
    citizen = make_citizen(runtime, bsns[0])
    add_phone(runtime, citizen.id)
    runtime.settings = runtime.settings.model_copy(update={"sms_callback_secret": SECRET})
    gateway = StubGateway("gateway-token", SECRET)
    with serve_app(gateway.app) as gateway_url:
        # Reports go nowhere: the test posts them itself, twice.
        runtime.sms = HttpGatewaySms(f"{gateway_url}/messages", "gateway-token", "http://127.0.0.1:9/cb")
        with notifying(runtime) as (_, worker):
            message_id = deliver(client, sender, bsns[0], "SMS-twice")
            worker.drain()
            worker.drain()
    [sms] = gateway.messages
    body = orjson.dumps({"id": sms["id"], "reference": sms["reference"], "status": "delivered"})
    headers = {"Content-Type": "application/json", "X-Signature": sign_report(body, SECRET)}
    assert client.post("/callbacks/sms", content=body, headers=headers).status_code == 204
    assert client.post("/callbacks/sms", content=body, headers=headers).status_code == 204
    assert events_of(client, sender, message_id).count(("notified", "sms")) == 1
