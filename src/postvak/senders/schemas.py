"""API models of a sender's settings per message type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field, StrictInt

from postvak.kit.schemas import ApiModel
from postvak.senders import rules


def _whole_number(value: object) -> object:
    """JSON has one kind of number: 56.0 is the integer 56 (as JSON Schema says), 56.5 is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


ReminderDays = Annotated[
    StrictInt,
    Field(
        ge=rules.MIN_UNREAD_REMINDER_DAYS,
        le=rules.MAX_UNREAD_REMINDER_DAYS,
        description=(
            "Days after delivery after which an unread letter of this type gets a reminder "
            f"notification; without a setting it is {rules.DEFAULT_UNREAD_REMINDER_DAYS}."
        ),
        examples=[14],
    ),
    BeforeValidator(_whole_number),  # last, so that it runs first and the bounds stay in the document
]


class MessageTypeSettingIn(ApiModel):
    unread_reminder_days: ReminderDays


class MessageTypeSettingOut(ApiModel):
    message_type: str = Field(
        description="The `messageType` of the sender's letters, matched exactly.",
        examples=["voorlopige-aanslag"],
    )
    unread_reminder_days: ReminderDays
    updated_at: datetime = Field(
        description="When the setting last changed.", examples=["2027-01-04T12:00:00Z"]
    )


class MessageTypeSettingsOut(ApiModel):
    message_types: list[MessageTypeSettingOut] = Field(
        description="Sorted by messageType.",
        examples=[
            [
                {
                    "messageType": "voorlopige-aanslag",
                    "unreadReminderDays": 14,
                    "updatedAt": "2027-01-04T12:00:00Z",
                }
            ]
        ],
    )
