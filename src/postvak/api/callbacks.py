"""Callbacks from the providers we use: the SMS gateway's signed delivery reports."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from postvak.errors import Problem, Unauthorized, ValidationFailed
from postvak.notifications import service as notifications
from postvak.notifications.sms import report_is_authentic
from postvak.runtime import SMS_REPORTS_PATH, runtime_of
from postvak.web.problems import problem_response

router = APIRouter()

_STATUSES = {"delivered": True, "failed": False}


@router.post(SMS_REPORTS_PATH, include_in_schema=False)
async def sms_report(request: Request) -> Response:
    """`{"id": <gateway's id>, "reference": <ours>, "status": "delivered" | "failed"}`, signed with
    HMAC-SHA256 of the raw body in `X-Signature` (hex). A repeated report is answered 204 again."""
    runtime = runtime_of(request)
    body = await request.body()
    secret = runtime.settings.sms_callback_secret
    try:
        if not secret or not report_is_authentic(body, request.headers.get("x-signature", ""), secret):
            raise Unauthorized("the report's signature does not match")
        report = _parse(body)
        with runtime.database.unit_of_work() as session:
            notifications.record_sms_report(
                session, provider_id=report["id"], delivered=_STATUSES[report["status"]]
            )
    except Problem as problem:
        return problem_response(request, problem)
    return Response(status_code=204)


def _parse(body: bytes) -> dict:
    try:
        report = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationFailed("body: not JSON") from None
    if not isinstance(report, dict) or not isinstance(report.get("id"), str) or not report["id"]:
        raise ValidationFailed("id: the gateway's message id is required")
    if report.get("status") not in _STATUSES:
        raise ValidationFailed("status: one of delivered, failed")
    return report
