"""Sender routes for messages: deliver one, deliver a batch, read one back, look one up by reference,
withdraw one still scheduled."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from postvak.api.v1 import examples
from postvak.api.v1.deps import current_sender, json_body
from postvak.api.v1.openapi import json_response, other_methods, problem_responses, request_body
from postvak.errors import (
    AttachmentRejected,
    DuplicateReference,
    Forbidden,
    InvalidRecipient,
    NotFound,
    NotWithdrawable,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from postvak.flows.delivery import deliver_messages
from postvak.kit import clock
from postvak.kit.text import SINGLE_LINE_PATTERN, escape_controls
from postvak.kit.validation import join_faults
from postvak.messages import rules
from postvak.messages import service as messages
from postvak.messages.schemas import (
    ID_EXAMPLE,
    REFERENCE_EXAMPLE,
    BatchOut,
    BatchResultOut,
    MessageBatchIn,
    MessageIn,
    MessageListOut,
    MessageOut,
)
from postvak.runtime import runtime_of
from postvak.senders.models import Sender

router = APIRouter(tags=["messages"])

_AUTH = (Unauthorized, Forbidden, RateLimited)
_DELIVERY = (
    ValidationFailed,
    InvalidRecipient,
    AttachmentRejected,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
)


@router.post(
    "/messages",
    operation_id="deliverMessage",
    summary="Deliver one letter",
    description=(
        "Stores the letter in the recipient's mailbox (created when needed) and answers 201. "
        "Retrying with the same senderReference and identical content answers 200 with the "
        "same message; different content answers 409."
    ),
    status_code=201,
    response_model=MessageOut,
    responses={
        200: {"description": "The letter was stored before (idempotent retry).", "model": MessageOut},
        **problem_responses(*_AUTH, *_DELIVERY, DuplicateReference),
    },
    openapi_extra=request_body(MessageIn, examples.DELIVER_MESSAGE),
)
async def deliver_message(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    raw = await json_body(request)
    runtime = runtime_of(request)

    def run() -> tuple[int, MessageOut]:
        [outcome] = deliver_messages(runtime, sender=sender, items=[raw])
        if outcome.problem is not None:
            raise outcome.problem
        with runtime.database.unit_of_work(write=False) as session:
            view = messages.get_sent_message(session, sender_id=sender.id, message_id=str(outcome.message_id))
        return (201 if outcome.outcome == "created" else 200), view

    status, view = await run_in_threadpool(run)
    return json_response(view, status)


@router.post(
    "/message-batches",
    operation_id="deliverMessageBatch",
    summary="Deliver up to 1000 letters",
    description=(
        "Each item is judged alone: bad items are rejected with a problem, good items are "
        "stored. Results come in request order. When the answer arrives every created or "
        "existing item is durably stored."
    ),
    response_model=BatchOut,
    responses=problem_responses(*_AUTH, ValidationFailed, PayloadTooLarge, UnsupportedMediaType),
    openapi_extra=request_body(MessageBatchIn, examples.DELIVER_MESSAGE_BATCH),
)
async def deliver_message_batch(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ValidationFailed('body: give an object {"messages": [...]}')
    unknown = [key for key in body if key != "messages"]
    faults = [f"{escape_controls(key)}: not a member of a batch (only messages)" for key in unknown]
    items = body.get("messages")
    if not isinstance(items, list) or not items:
        faults.append("messages: give a non-empty list of letters")
    elif len(items) > rules.MAX_BATCH:
        faults.append(f"messages: at most {rules.MAX_BATCH} letters per batch")
    if faults:
        raise ValidationFailed(join_faults(faults))
    runtime = runtime_of(request)
    base_url = runtime.settings.base_url
    outcomes = await run_in_threadpool(deliver_messages, runtime, sender=sender, items=items)
    results = [
        BatchResultOut(
            index=o.index,
            outcome=o.outcome,
            id=str(o.message_id) if o.message_id else None,
            problem=o.problem.to_dict(base_url, f"{request.url.path}#/messages/{o.index}")
            if o.problem
            else None,
        )
        for o in outcomes
    ]
    return json_response(BatchOut(results=results), 200)


@router.get(
    "/messages/{messageId}",
    operation_id="getMessage",
    summary="Read a letter's fields, status and events",
    description=(
        "The letter as its sender sees it: the fields sent, the current status and every "
        "status event so far. Another organisation's message id answers 404."
    ),
    response_model=MessageOut,
    responses=problem_responses(*_AUTH, NotFound),
)
async def get_message(
    request: Request,
    messageId: str = Path(  # noqa: N803
        description="The message's id, as its delivery answered.", examples=[ID_EXAMPLE]
    ),
    sender: Sender = Depends(current_sender),
) -> Response:
    runtime = runtime_of(request)

    def run() -> MessageOut:
        with runtime.database.unit_of_work(write=False) as session:
            return messages.get_sent_message(session, sender_id=sender.id, message_id=messageId)

    return json_response(await run_in_threadpool(run), 200)


@router.get(
    "/messages",
    operation_id="findMessages",
    summary="Look up a letter by its senderReference",
    description=(
        "The sender's own letter with this senderReference, as GET /messages/{messageId} shows it, in "
        "a list: empty when the sender has no letter with it (another organisation's reference included). "
        "A reference no letter can have, a parameter given twice or any other parameter is refused "
        "(validation-failed naming it)."
    ),
    response_model=MessageListOut,
    responses=problem_responses(*_AUTH, ValidationFailed),
)
async def find_messages(
    request: Request,
    senderReference: str = Query(  # noqa: N803
        description="The senderReference the letter was delivered with (1 to 64 characters).",
        examples=[REFERENCE_EXAMPLE],
        # Declared only: the service checks it, with the same words as a letter's senderReference.
        json_schema_extra={"minLength": 1, "maxLength": 64, "pattern": SINGLE_LINE_PATTERN},
    ),
    sender: Sender = Depends(current_sender),
) -> Response:
    # A misspelt filter (`?reference=…`) must not pass for a lookup that found nothing.
    query = request.query_params
    faults = [
        f"{escape_controls(name)}: not a parameter of this lookup (senderReference)"
        for name in sorted(set(query) - {"senderReference"})
    ]
    if len(query.getlist("senderReference")) > 1:
        faults.append("senderReference: given more than once")
    if faults:
        raise ValidationFailed(join_faults(faults))
    runtime = runtime_of(request)

    def run() -> MessageListOut:
        with runtime.database.unit_of_work(write=False) as session:
            return messages.find_sent_messages(session, sender_id=sender.id, sender_reference=senderReference)

    return json_response(await run_in_threadpool(run), 200)


@router.delete(
    "/messages/{messageId}",
    operation_id="withdrawMessage",
    summary="Withdraw a letter that is still scheduled",
    description=(
        "Takes back a letter whose publishAt lies ahead: it gets the status and event `withdrawn`, and "
        "the citizen never sees it (no mailbox, notification or print). A letter published already, "
        "withdrawn before, or whose publishAt has passed answers 409 not-withdrawable. Another "
        "organisation's message id answers 404."
    ),
    status_code=204,
    response_class=Response,
    response_description="The letter is withdrawn.",
    responses=problem_responses(*_AUTH, NotFound, NotWithdrawable),
)
async def withdraw_message(
    request: Request,
    messageId: str = Path(  # noqa: N803
        description="The message's id, as its delivery answered.", examples=[ID_EXAMPLE]
    ),
    sender: Sender = Depends(current_sender),
) -> Response:
    runtime = runtime_of(request)

    def run() -> None:
        with runtime.database.unit_of_work() as session:
            messages.withdraw_message(session, sender_id=sender.id, message_id=messageId, now=clock.now())

    await run_in_threadpool(run)
    return Response(status_code=204)


# Last, so that every route of a path is tried first.
router.routes.append(other_methods("/messages", "GET", "POST"))
router.routes.append(other_methods("/messages/{messageId}", "GET", "DELETE"))
