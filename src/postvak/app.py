"""Builds the ASGI app: the sender API at /api/v1, the web pages at /, and the shared middleware."""

from __future__ import annotations

import time

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postvak import API_VERSION
from postvak.api import callbacks
from postvak.api.v1.app import build_api
from postvak.errors import PayloadTooLarge
from postvak.kit.logging import configure_logging
from postvak.runtime import Runtime
from postvak.web.app import build_web

log = structlog.get_logger("postvak.http")


def build_app(runtime: Runtime) -> FastAPI:
    configure_logging(runtime.settings.log_level, json=runtime.settings.log_json)
    app = build_web(runtime)
    app.include_router(callbacks.router)
    app.mount("/api/v1", build_api(runtime))
    app.add_middleware(BodyLimit, limits=_body_limits(runtime))
    app.add_middleware(ApiVersionAndAccessLog)
    return app


def _body_limits(runtime: Runtime) -> dict[str, int]:
    s = runtime.settings
    return {
        "/api/v1/messages": s.max_message_request_bytes,
        "/api/v1/message-batches": s.max_batch_request_bytes,
        "/api/v1/attachments": 10 * 1024 * 1024 + 1024,
        "": s.max_request_bytes,
    }


class BodyLimit:
    """Answers 413 before a body over its route's limit is read whole.

    A declared Content-Length over the limit is refused at once; a chunked body is counted
    as it arrives and refused at the first byte past the limit.
    """

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limits[""])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            scope["postvak.too_large"] = limit
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if "postvak.too_large" in scope:
                raise PayloadTooLarge(f"the request body may be at most {limit} bytes")
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(f"the request body may be at most {limit} bytes")
            return message

        await self.app(scope, counted, send)


class ApiVersionAndAccessLog:
    """Adds API-Version to every response and logs one line per request (no bodies, no BSNs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_version(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"api-version", API_VERSION.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_version)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                sender=scope.get("state", {}).get("sender_id"),
            )
