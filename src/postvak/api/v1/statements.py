"""Sender route for statements: a month's letters, e-mails, SMS and prints, and what they cost."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from postvak.api.v1.deps import current_sender
from postvak.api.v1.openapi import json_response, problem_responses
from postvak.billing import service as billing
from postvak.billing.schemas import StatementOut
from postvak.errors import Forbidden, RateLimited, Unauthorized, ValidationFailed
from postvak.kit import clock
from postvak.runtime import runtime_of
from postvak.senders.models import Sender

router = APIRouter(tags=["statements"])


@router.get(
    "/statements/{month}",
    operation_id="getStatement",
    summary="Read the organisation's statement of one month",
    description=(
        "Counted from the event history and the record of notifications sent: the letters accepted in the "
        "month, the e-mails and text messages sent about the organisation's letters (reminders and daily "
        "digests included), and the letters printed by the paper fallback; the amount at the configured "
        "tariffs, and what the same letters would have cost on paper. A month runs from the 1st 00:00 to "
        "the next month's 1st 00:00, Dutch time (Europe/Amsterdam). The current month answers its "
        "statement so far; a later month, one before 2000-01 or a text that is not `YYYY-MM` answers 400."
    ),
    response_model=StatementOut,
    response_description="The month's usage and its cost.",
    responses=problem_responses(Unauthorized, Forbidden, RateLimited, ValidationFailed),
)
async def get_statement(
    request: Request,
    # The pattern is documented, not enforced here: any other text answers the precise 400 of the rule.
    month: str = Path(
        description="The month, `YYYY-MM` (Dutch time).",
        examples=["2027-03"],
        json_schema_extra={"pattern": "^[0-9]{4}-[0-9]{2}$"},
    ),
    sender: Sender = Depends(current_sender),
) -> Response:
    runtime = runtime_of(request)
    tariffs = billing.tariffs_of(runtime.settings)

    def run() -> StatementOut:
        with runtime.database.unit_of_work(write=False) as session:
            return billing.read_statement(
                session, sender_id=sender.id, month=month, tariffs=tariffs, now=clock.now()
            )

    return json_response(await run_in_threadpool(run), 200)
