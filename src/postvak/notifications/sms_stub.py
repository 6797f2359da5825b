"""A stand-in SMS gateway on loopback for tests and the demo: accepts messages, posts delivery reports."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time

import httpx
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from postvak.kit import loopback
from postvak.notifications.sms import mask_number, sign_report

log = structlog.get_logger("postvak.sms")


class StubGateway:
    """Keeps what it was sent; reports each message `delivered` (`failed` for `undeliverable` numbers),
    retrying a report that is not answered 2xx for about half a minute."""

    def __init__(self, token: str, secret: str, undeliverable: frozenset[str] = frozenset()) -> None:
        self.token = token
        self.secret = secret
        self.undeliverable = undeliverable
        self.messages: list[dict] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/messages", self._accept, methods=["POST"])])

    async def _accept(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        body = await request.json()
        if not str(body.get("to", "")).startswith("+"):
            return JSONResponse({"error": "invalid number"}, status_code=400)
        with self._lock:
            message_id = f"stub-{next(self._ids)}"
            self.messages.append({"id": message_id, **body})
        log.info("sms (stub gateway)", to=mask_number(str(body["to"])), text=str(body.get("text", ""))[:320])
        status = "failed" if body["to"] in self.undeliverable else "delivered"
        report = {"id": message_id, "reference": body.get("reference"), "status": status}
        threading.Thread(target=self._report, args=(body.get("callbackUrl"), report), daemon=True).start()
        return JSONResponse({"id": message_id}, status_code=202)

    def _report(self, callback_url: str | None, report: dict) -> None:
        """Posts the report, and again with growing pauses while it is not taken (as gateways do: the
        report may arrive before the sender has committed what it sent)."""
        if not callback_url:
            return
        content = httpx.Request("POST", callback_url, json=report).content
        headers = {"Content-Type": "application/json", "X-Signature": sign_report(content, self.secret)}
        pause = 0.1
        for _ in range(8):
            with contextlib.suppress(httpx.TransportError):
                if httpx.post(callback_url, content=content, timeout=5, headers=headers).is_success:
                    return
            time.sleep(pause)
            pause *= 2


def serve_in_thread(gateway: StubGateway) -> str:
    """Runs the stub on a free loopback port in a daemon thread (the demo); returns its base URL."""
    url, _server, _thread = loopback.serve_in_thread(gateway.app)
    return url
