"""What every sender route needs: the authenticated sender, the JSON body."""

from __future__ import annotations

import json
from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from postvak.errors import RateLimited, UnsupportedMediaType, ValidationFailed
from postvak.kit.ratelimit import retry_after_header
from postvak.runtime import runtime_of
from postvak.senders import service as senders
from postvak.senders.models import Sender


async def current_sender(request: Request) -> Sender:
    """The sender behind the API key, within its request rate."""
    runtime = runtime_of(request)
    header = request.headers.get("authorization")

    def authenticate() -> Sender:
        with runtime.database.unit_of_work(write=False) as session:
            return senders.authenticate_sender(session, authorization=header)

    sender = await run_in_threadpool(authenticate)
    wait = request.app.state.rate_limiter.take(sender.id)
    if wait:
        raise RateLimited(
            "too many requests for this organisation; slow down",
            headers={"Retry-After": retry_after_header(wait)},
        )
    request.state.sender_id = str(sender.id)
    return sender


def require_media_type(request: Request, expected: str) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != expected:
        raise UnsupportedMediaType(f"send the body as {expected}")


async def json_body(request: Request) -> Any:
    require_media_type(request, "application/json")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _json_orjson_refused(raw, str(exc))


def _json_orjson_refused(raw: bytes, why: str) -> Any:
    """orjson refuses a lone surrogate ("\\ud800"), which JSON's grammar allows. The standard parser
    reads it, so that the text rule can name the field that carries it; anything else it refuses
    too is not JSON."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise ValidationFailed("body: not UTF-8") from None
    except (ValueError, RecursionError):
        raise ValidationFailed(f"body: not valid JSON ({why})") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")
