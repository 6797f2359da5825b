"""Sender routes for webhook endpoints: register, list, read, delete, rotate the signing secret."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from postvak.api.v1 import examples
from postvak.api.v1.deps import current_sender, json_body
from postvak.api.v1.openapi import json_response, other_methods, problem_responses, request_body
from postvak.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from postvak.kit.netguard import Policy
from postvak.messages.service import describe_validation_error
from postvak.runtime import runtime_of
from postvak.senders.models import Sender
from postvak.webhooks import service as webhooks
from postvak.webhooks.schemas import (
    CreatedWebhookEndpointOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointsOut,
    WebhookSecretOut,
)

router = APIRouter(tags=["webhook-endpoints"])

_AUTH = (Unauthorized, Forbidden, RateLimited)
_DELIVERY = (
    "Each status event is POSTed to the URL as a CloudEvents 1.0 JSON body, signed as Standard Webhooks "
    "sign (`webhook-id`: the event id, the same on every retry; `webhook-timestamp`; "
    "`webhook-signature`). Any 2xx answer is success; 410 Gone disables the endpoint; anything else "
    "(a redirect too: none is followed) is retried, the first time within 30 s, then about doubling "
    "the wait, for about 3 days. Each attempt may take 15 s."
)


def _endpoint_id(
    endpoint_id: str = Path(
        alias="endpointId",
        min_length=1,
        max_length=64,
        description="The endpoint's id, as its registration answered.",
        examples=["0193a1c2-7d4e-7b7a-9c1d-2f3e4a5b6c7d"],
    ),
) -> str:
    return endpoint_id


@router.post(
    "/webhook-endpoints",
    operation_id="createWebhookEndpoint",
    summary="Register a URL that receives the status events of the sender's letters",
    description=(
        "Answers 201 with the endpoint and its signing `secret`, which no later answer shows again. "
        "The URL must be `https` and its host must resolve only to public addresses; this is checked "
        "now and again at every delivery. At most 10 endpoints per organisation. " + _DELIVERY
    ),
    status_code=201,
    response_model=CreatedWebhookEndpointOut,
    response_description="The endpoint, with the secret that signs its deliveries.",
    responses=problem_responses(*_AUTH, ValidationFailed, PayloadTooLarge, UnsupportedMediaType),
    openapi_extra=request_body(WebhookEndpointIn, examples.CREATE_WEBHOOK_ENDPOINT),
)
async def create_webhook_endpoint(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    endpoint = _endpoint_in(await json_body(request))
    runtime = runtime_of(request)
    policy = Policy(allow_private=runtime.settings.webhooks_allow_private)

    def run() -> CreatedWebhookEndpointOut:
        with runtime.database.unit_of_work() as session:
            return webhooks.create_endpoint(
                session, keyring=runtime.keyring, sender_id=sender.id, endpoint=endpoint, policy=policy
            )

    return json_response(await run_in_threadpool(run), 201)


@router.get(
    "/webhook-endpoints",
    operation_id="listWebhookEndpoints",
    summary="List the sender's webhook endpoints",
    description="Every endpoint of this organisation, oldest first, without secrets.",
    response_model=WebhookEndpointsOut,
    response_description="The organisation's endpoints; an empty list when it has none.",
    responses=problem_responses(*_AUTH),
)
async def list_webhook_endpoints(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    runtime = runtime_of(request)

    def run() -> WebhookEndpointsOut:
        with runtime.database.unit_of_work(write=False) as session:
            return webhooks.list_endpoints(session, sender_id=sender.id)

    return json_response(await run_in_threadpool(run), 200)


@router.get(
    "/webhook-endpoints/{endpointId}",
    operation_id="getWebhookEndpoint",
    summary="Read one webhook endpoint",
    description=(
        "The endpoint without its secret; whether deliveries stopped (410 Gone) and whether a secret "
        "rotation is running. Another organisation's endpoint id answers 404."
    ),
    response_model=WebhookEndpointOut,
    response_description="The endpoint.",
    responses=problem_responses(*_AUTH, NotFound, ValidationFailed),
)
async def get_webhook_endpoint(
    request: Request, endpoint_id: str = Depends(_endpoint_id), sender: Sender = Depends(current_sender)
) -> Response:
    runtime = runtime_of(request)

    def run() -> WebhookEndpointOut:
        with runtime.database.unit_of_work(write=False) as session:
            return webhooks.read_endpoint(session, sender_id=sender.id, endpoint_id=endpoint_id)

    return json_response(await run_in_threadpool(run), 200)


@router.delete(
    "/webhook-endpoints/{endpointId}",
    operation_id="deleteWebhookEndpoint",
    summary="Stop delivering to a webhook endpoint",
    description=(
        "Removes the endpoint: no event is delivered to it any more, also none that was waiting for "
        "a retry. Another organisation's endpoint id answers 404."
    ),
    status_code=204,
    response_class=Response,
    response_description="The endpoint is gone.",
    responses=problem_responses(*_AUTH, NotFound, ValidationFailed),
)
async def delete_webhook_endpoint(
    request: Request, endpoint_id: str = Depends(_endpoint_id), sender: Sender = Depends(current_sender)
) -> Response:
    runtime = runtime_of(request)

    def run() -> None:
        with runtime.database.unit_of_work() as session:
            webhooks.delete_endpoint(session, sender_id=sender.id, endpoint_id=endpoint_id)

    await run_in_threadpool(run)
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpointId}/secret-rotations",
    operation_id="rotateWebhookSecret",
    summary="Replace the endpoint's signing secret, the old one still signing for 24 hours",
    description=(
        "Answers 201 with the new `secret`, shown only here. For 24 hours every delivery carries two "
        "signatures in `webhook-signature`, space-separated: one with the new secret and one with the "
        "previous one, so the receiver can switch without refusing a delivery. Rotating again within "
        "those hours drops the oldest secret. No request body."
    ),
    status_code=201,
    response_model=WebhookSecretOut,
    response_description="The new secret.",
    responses=problem_responses(*_AUTH, NotFound, ValidationFailed),
)
async def rotate_webhook_secret(
    request: Request, endpoint_id: str = Depends(_endpoint_id), sender: Sender = Depends(current_sender)
) -> Response:
    runtime = runtime_of(request)

    def run() -> WebhookSecretOut:
        with runtime.database.unit_of_work() as session:
            return webhooks.rotate_secret(
                session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=endpoint_id
            )

    return json_response(await run_in_threadpool(run), 201)


# Last, so that every route of the path is tried first.
router.routes.append(other_methods("/webhook-endpoints", "GET", "POST"))
router.routes.append(other_methods("/webhook-endpoints/{endpointId}", "GET", "DELETE"))


def _endpoint_in(raw: Any) -> WebhookEndpointIn:
    try:
        return WebhookEndpointIn.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(describe_validation_error(exc)) from None
