"""SMS through the HTTP gateway client against the stub gateway on loopback, with signed reports."""

import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postvak.notifications.sms import ConsoleSms, HttpGatewaySms, SmsFailed, mask_number, report_is_authentic
from postvak.notifications.sms_stub import StubGateway
from tests.support.live import serve_app


def test_send_through_the_gateway_and_receive_a_signed_report():
    reports = []

    async def callback(request: Request) -> Response:
        body = await request.body()
        reports.append((body, request.headers.get("x-signature")))
        return Response(status_code=204)

    gateway = StubGateway("token-1", "secret-1")
    receiver = Starlette(routes=[Route("/callback", callback, methods=["POST"])])
    with serve_app(gateway.app) as gateway_url, serve_app(receiver) as receiver_url:
        sms = HttpGatewaySms(f"{gateway_url}/messages", "token-1", f"{receiver_url}/callback")
        provider_id = sms.send("+31612345678", "Gemeente Utrecht: Aanslag\r\nBcc: x", "notify-1")
        deadline = time.monotonic() + 5
        while not reports and time.monotonic() < deadline:
            time.sleep(0.02)
    assert gateway.messages[0]["id"] == provider_id
    assert "\n" not in gateway.messages[0]["text"]
    body, signature = reports[0]
    assert report_is_authentic(body, signature, "secret-1")
    assert not report_is_authentic(body, signature, "another secret")
    assert not report_is_authentic(body.replace(b"delivered", b"failed"), signature, "secret-1")


def test_refusals_are_permanent_and_outages_are_not():
    gateway = StubGateway("token-1", "secret-1")
    with serve_app(gateway.app) as gateway_url:
        with pytest.raises(SmsFailed) as refused:
            HttpGatewaySms(f"{gateway_url}/messages", "wrong", "http://127.0.0.1:9/cb").send(
                "+3161", "x", "r"
            )
        assert refused.value.permanent
    with pytest.raises(SmsFailed) as down:
        HttpGatewaySms("http://127.0.0.1:9/messages", "token-1", "http://127.0.0.1:9/cb", timeout=1).send(
            "+3161", "x", "r"
        )
    assert not down.value.permanent


def test_the_console_provider_masks_numbers():
    assert mask_number("+31612345678") == "••••••••••78"
    assert ConsoleSms().send("+31612345678", "hallo", "r-1") == "console-r-1"
