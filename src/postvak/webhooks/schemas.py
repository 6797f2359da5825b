"""API models of webhook endpoints: what a sender registers and what it reads back."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from postvak.kit.netguard import MAX_URL_LENGTH
from postvak.kit.schemas import ApiModel
from postvak.webhooks import rules

EventType = Literal[rules.EVENT_TYPES]  # type: ignore[valid-type]

_SECRET = Field(
    description=(
        "The signing secret: `whsec_` and base64 of 32 random bytes. Shown only in this answer; keep "
        "it to verify the `webhook-signature` of every delivery (Standard Webhooks)."
    ),
    examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5p1PIkQ1xj8="],
)


class WebhookEndpointIn(ApiModel):
    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description=(
            "Where to POST the events: an `https` URL whose host resolves only to public addresses "
            "(checked now and at every delivery). No user name or password, no fragment."
        ),
        examples=["https://hooks.gemeente.example.nl/postvak"],
    )
    event_types: list[EventType] | None = Field(
        default=None,
        min_length=1,
        max_length=len(rules.EVENT_TYPES),
        description=(
            "The status event types to receive; leave out to receive every type, also types added later."
        ),
        examples=[["read", "confirmed", "never-read"]],
    )


class WebhookEndpointOut(ApiModel):
    id: str = Field(description="The endpoint's id.", examples=["0193a1c2-7d4e-7b7a-9c1d-2f3e4a5b6c7d"])
    url: str = Field(
        description="Where the events are POSTed.", examples=["https://hooks.gemeente.example.nl/postvak"]
    )
    event_types: list[EventType] = Field(
        description="The event types this endpoint receives (every type when none were chosen).",
        examples=[["read", "confirmed", "never-read"]],
    )
    created_at: datetime = Field(
        description="When the endpoint was registered.", examples=["2027-01-04T12:00:00Z"]
    )
    disabled_at: datetime | None = Field(
        default=None,
        description="When deliveries stopped for good (the receiver answered 410 Gone); null while enabled.",
        examples=[None],
    )
    disabled_reason: str | None = Field(
        default=None,
        description="Why deliveries stopped; null while enabled.",
        examples=["answered 410 Gone"],
    )
    rotation_ends_at: datetime | None = Field(
        default=None,
        description=(
            "During a secret rotation: until when the previous secret signs beside the new one "
            "(both signatures in `webhook-signature`); null otherwise."
        ),
        examples=[None],
    )


class CreatedWebhookEndpointOut(WebhookEndpointOut):
    secret: str = _SECRET


class WebhookEndpointsOut(ApiModel):
    webhook_endpoints: list[WebhookEndpointOut] = Field(
        description="The organisation's endpoints, oldest first.", examples=[[]]
    )


class WebhookSecretOut(ApiModel):
    secret: str = _SECRET
