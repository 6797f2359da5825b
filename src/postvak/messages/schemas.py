"""API models of letters: what senders send and what they read back."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from postvak.errors import ProblemOut
from postvak.messages import rules
from postvak.senders.rules import MESSAGE_TYPE_MAX_LENGTH, MESSAGE_TYPE_PATTERN


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f]+$")]


class Recipient(ApiModel):
    type: Literal["BSN"] = Field(description="Kind of identifier; `BSN` now, `KVK` later.")
    value: str = Field(max_length=32, description="The identifier; a BSN must pass the elfproef.")


class Action(ApiModel):
    kind: Literal["pay", "respond", "confirm", "appointment", "info"]
    label: ShortText
    url: str = Field(max_length=2048, description="An https URL.")

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not rules.is_https_url(url):
            raise ValueError("must be an https URL")
        return url


class Notification(ApiModel):
    text: str = Field(max_length=500, description="Plain text added to the notification.")


class AttachmentIn(ApiModel):
    """Either inline (`fileName`, `mediaType`, base64 `content`) or a reference (`attachmentId`)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["attachmentId"]}, {"required": ["fileName", "content"]}]}
    )

    attachment_id: str | None = Field(default=None, description="From POST /attachments.")
    file_name: FileName | None = None
    media_type: Literal["application/pdf"] | None = None
    content: str | None = Field(default=None, description="Base64 of the PDF.")

    @model_validator(mode="after")
    def _one_form(self) -> AttachmentIn:
        if self.attachment_id is not None:
            if self.content is not None:
                raise ValueError("give either attachmentId or content, not both")
        elif self.content is None or self.file_name is None:
            raise ValueError("give attachmentId, or fileName with base64 content")
        return self

    def decoded(self) -> bytes:
        try:
            return base64.b64decode(self.content or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content is not valid base64") from exc


class MessageIn(ApiModel):
    recipient: Recipient
    sender_reference: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    message_type: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=MESSAGE_TYPE_MAX_LENGTH, pattern=MESSAGE_TYPE_PATTERN),
        ]
        | None
    ) = None
    subject: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    body: str = Field(min_length=1, description="Markdown subset, at most 1 MiB of UTF-8.")
    due_date: date | None = None
    action: Action | None = None
    confirmation_required: bool = False
    sensitive: bool = False
    publish_at: AwareDatetime | None = None
    paper_fallback: Literal["never", "if-unreachable", "if-unread-by-due-date"] = "never"
    notification: Notification | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=rules.MAX_ATTACHMENTS)


class MessageBatchIn(ApiModel):
    messages: list[MessageIn] = Field(min_length=1, max_length=rules.MAX_BATCH)


EVENT_DETAIL = Field(
    default=None,
    description="For `notified` the channel (`email`, `sms`); for `notification-failed` the channel and "
    "why it failed; for `reminded` which reminder (`unread`, `due-date`); null for other events.",
)


class EventOut(ApiModel):
    type: str
    at: datetime
    detail: str | None = EVENT_DETAIL


class AttachmentOut(ApiModel):
    attachment_id: str
    file_name: str
    size: int
    pages: int


class MessageOut(ApiModel):
    id: str
    sender_reference: str
    status: str
    message_type: str | None
    subject: str
    due_date: date | None
    action: Action | None
    confirmation_required: bool
    sensitive: bool
    publish_at: datetime | None
    paper_fallback: str
    notification: Notification | None
    attachments: list[AttachmentOut]
    created_at: datetime
    events: list[EventOut]


class BatchResultOut(ApiModel):
    index: int
    outcome: Literal["created", "existing", "rejected"]
    id: str | None = None
    problem: ProblemOut | None = None


class BatchOut(ApiModel):
    results: list[BatchResultOut]


class FeedEventOut(ApiModel):
    id: str
    message_id: str
    sender_reference: str
    type: str
    at: datetime
    detail: str | None = EVENT_DETAIL


class EventFeedOut(ApiModel):
    events: list[FeedEventOut]
    next_cursor: str
