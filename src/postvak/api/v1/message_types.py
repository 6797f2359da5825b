"""Sender routes for settings per message type: after how many days an unread message is reminded."""

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
from postvak.messages.service import describe_validation_error
from postvak.runtime import runtime_of
from postvak.senders import rules
from postvak.senders import service as senders
from postvak.senders.models import Sender
from postvak.senders.schemas import MessageTypeSettingIn, MessageTypeSettingOut, MessageTypeSettingsOut

router = APIRouter(tags=["message-types"])

_AUTH = (Unauthorized, Forbidden, RateLimited)
_DEFAULT = rules.DEFAULT_UNREAD_REMINDER_DAYS
_RANGE = f"{rules.MIN_UNREAD_REMINDER_DAYS} to {rules.MAX_UNREAD_REMINDER_DAYS}"


# `:path` so that every messageType a message may carry can be addressed, a "/" included (as %2F).
_PATH = "/message-types/{messageType:path}"


def _message_type(
    message_type: str = Path(
        alias="messageType",
        min_length=1,
        max_length=rules.MESSAGE_TYPE_MAX_LENGTH,
        # Declared only: the service checks it with kit.text's rule, whose detail names the character.
        json_schema_extra={"pattern": rules.MESSAGE_TYPE_PATTERN},
        description="The `messageType` as the sender's letters carry it, matched exactly (case included).",
        examples=["voorlopige-aanslag"],
    ),
) -> str:
    return message_type


@router.get(
    "/message-types",
    operation_id="listMessageTypeSettings",
    summary="List the sender's reminder settings per message type",
    description=(
        "Every message type for which this organisation chose its own reminder, sorted by "
        f"messageType. An unread letter of any other type is reminded after {_DEFAULT} days."
    ),
    response_model=MessageTypeSettingsOut,
    response_description="The sender's own settings; an empty list when every type has the default.",
    responses=problem_responses(*_AUTH),
)
async def list_message_type_settings(request: Request, sender: Sender = Depends(current_sender)) -> Response:
    runtime = runtime_of(request)

    def run() -> MessageTypeSettingsOut:
        with runtime.database.unit_of_work(write=False) as session:
            return senders.list_message_type_settings(session, sender_id=sender.id)

    return json_response(await run_in_threadpool(run), 200)


@router.put(
    _PATH,
    operation_id="setMessageTypeSetting",
    summary="Choose after how many days an unread letter of this type is reminded",
    description=(
        f"Sets `unreadReminderDays` ({_RANGE}) for the sender's letters of this messageType; "
        f"without a setting it is {_DEFAULT} days. The setting applies to letters delivered "
        "after the change; letters delivered before keep the reminder they were given. "
        "Idempotent: sending the same value again changes nothing (updatedAt included)."
    ),
    response_model=MessageTypeSettingOut,
    response_description="The setting as stored now.",
    # NotFound: a messageType with a line break (%0A) never reaches this route; Starlette's mount
    # of /api/v1 does not match it and the app answers not-found.
    responses=problem_responses(*_AUTH, ValidationFailed, NotFound, PayloadTooLarge, UnsupportedMediaType),
    openapi_extra=request_body(MessageTypeSettingIn, examples.SET_MESSAGE_TYPE_SETTING),
)
async def set_message_type_setting(
    request: Request, message_type: str = Depends(_message_type), sender: Sender = Depends(current_sender)
) -> Response:
    setting = _setting_in(await json_body(request))
    runtime = runtime_of(request)

    def run() -> MessageTypeSettingOut:
        with runtime.database.unit_of_work() as session:
            return senders.set_unread_reminder_days(
                session, sender_id=sender.id, message_type=message_type, days=setting.unread_reminder_days
            )

    return json_response(await run_in_threadpool(run), 200)


@router.delete(
    _PATH,
    operation_id="removeMessageTypeSetting",
    summary="Go back to the default reminder for this message type",
    description=(
        f"Removes the sender's setting: unread letters of this messageType delivered after the "
        f"change are reminded after the default {_DEFAULT} days. Answers 404 when there was no "
        "setting for this messageType (also when only another organisation has one)."
    ),
    status_code=204,
    response_description="The setting is gone; this messageType has the default again.",
    response_class=Response,
    responses=problem_responses(*_AUTH, NotFound, ValidationFailed),
)
async def remove_message_type_setting(
    request: Request, message_type: str = Depends(_message_type), sender: Sender = Depends(current_sender)
) -> Response:
    runtime = runtime_of(request)

    def run() -> None:
        with runtime.database.unit_of_work() as session:
            senders.remove_message_type_setting(session, sender_id=sender.id, message_type=message_type)

    await run_in_threadpool(run)
    return Response(status_code=204)


# Last, so that PUT and DELETE reach their own routes first.
router.routes.append(other_methods(_PATH, "PUT", "DELETE"))


def _setting_in(raw: Any) -> MessageTypeSettingIn:
    try:
        return MessageTypeSettingIn.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(describe_validation_error(exc)) from None
