"""Sender route for reachability: would a letter sent now reach these recipients digitally?"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from postvak.api.v1 import examples
from postvak.api.v1.deps import current_sender, json_body
from postvak.api.v1.openapi import json_response, problem_responses, request_body
from postvak.citizens import service as citizens
from postvak.citizens.rules import MAX_REACHABILITY_CHECKS
from postvak.citizens.schemas import ReachabilityCheckIn, ReachabilityOut, ReachabilityResultOut
from postvak.errors import (
    Forbidden,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from postvak.kit.text import escape_controls
from postvak.kit.validation import join_faults
from postvak.runtime import runtime_of
from postvak.senders.models import Sender

router = APIRouter(tags=["reachability"])


@router.post(
    "/reachability-checks",
    operation_id="checkReachability",
    summary=f"Check whether up to {MAX_REACHABILITY_CHECKS:,} recipients can be reached digitally",
    description=(
        "Answers for each recipient, in request order, whether a letter sent now would reach them "
        "digitally: their mailbox is activated, they have a verified way to be told (an e-mail address, "
        "or a mobile number with SMS on), and they did not choose paper for this organisation. Nothing "
        "more is said about a person. A recipient that is not valid (a BSN that fails the elfproef) is "
        "`reachable: false` with a problem; the others are answered all the same. Nothing is stored."
    ),
    response_model=ReachabilityOut,
    response_description="One result per recipient, in request order.",
    responses=problem_responses(
        Unauthorized, Forbidden, RateLimited, ValidationFailed, PayloadTooLarge, UnsupportedMediaType
    ),
    openapi_extra=request_body(ReachabilityCheckIn, examples.CHECK_REACHABILITY),
)
async def check_reachability(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed('body: give an object {"recipients": [...]}')
    unknown = [key for key in body if key != "recipients"]
    faults = [f"{escape_controls(key)}: not a member of a check (only recipients)" for key in unknown]
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        faults.append("recipients: give a non-empty list of recipients")
    elif len(recipients) > MAX_REACHABILITY_CHECKS:
        raise PayloadTooLarge(f"recipients: at most {MAX_REACHABILITY_CHECKS} per check")
    if faults:
        raise ValidationFailed(join_faults(faults))
    runtime = runtime_of(request)

    def run() -> list[citizens.Reachability]:
        with runtime.database.unit_of_work(write=False) as session:
            return citizens.check_reachability(session, sender_id=sender.id, recipients=recipients)

    base_url, path = runtime.settings.base_url, request.url.path
    results = [
        ReachabilityResultOut(
            index=r.index,
            reachable=r.reachable,
            problem=r.problem.to_dict(base_url, f"{path}#/recipients/{r.index}") if r.problem else None,
        )
        for r in await run_in_threadpool(run)
    ]
    return json_response(ReachabilityOut(results=results), 200)
