"""API models of a sender's settings per message type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictInt

from postvak.messages.schemas import ApiModel
from postvak.senders import rules

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
]


class MessageTypeSettingIn(ApiModel):
    unread_reminder_days: ReminderDays


class MessageTypeSettingOut(ApiModel):
    message_type: str = Field(description="The `messageType` of the sender's letters, matched exactly.")
    unread_reminder_days: ReminderDays
    updated_at: datetime = Field(description="When the setting last changed.")


class MessageTypeSettingsOut(ApiModel):
    message_types: list[MessageTypeSettingOut] = Field(description="Sorted by messageType.")
