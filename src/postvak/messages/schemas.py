"""API models of letters: what senders send and what they read back."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from postvak.attachments.rules import FILE_NAME_MAX_LENGTH, FILE_NAME_PATTERN, file_name_problem
from postvak.errors import ProblemOut
from postvak.kit import clock
from postvak.kit.pagination import cursor_pattern
from postvak.kit.text import text_pattern, text_problem
from postvak.messages import rules
from postvak.senders.rules import MESSAGE_TYPE_MAX_LENGTH


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# --- text: lengths, then the edge's rule for control and bidirectional-control characters ---------


def _refuse_bad_text(multiline: bool):
    def check(value: str) -> str:
        if problem := text_problem(value, multiline=multiline):
            raise PydanticCustomError("text", problem)
        return value

    return AfterValidator(check)


def checked_text(max_length: int | None, *, multiline: bool = False, min_length: int = 1) -> Any:
    """The type of a string of `min_length` to `max_length` characters that passes kit.text's rule."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length),
        _refuse_bad_text(multiline),
        Field(json_schema_extra={"pattern": text_pattern(multiline=multiline)}),
    ]


def _not_blank(value: str) -> str:
    if not value:
        raise PydanticCustomError("blank", "may not be only white space")
    return value


Reference = checked_text(64)
Subject = checked_text(255)
MessageType = checked_text(MESSAGE_TYPE_MAX_LENGTH)
Body = checked_text(None, multiline=True)  # its limit is in bytes (1 MiB of UTF-8), answered with 413
RecipientValue = checked_text(32, min_length=0)  # empty: an invalid recipient, like any wrong length
NotificationText = checked_text(500, multiline=True, min_length=0)  # e-mails show its paragraphs
AttachmentId = checked_text(None, min_length=0)  # any other string is simply an id that is not found
# Trimmed, but its length is judged as sent, so that the document's maxLength is the truth.
ShortText = Annotated[checked_text(100), AfterValidator(str.strip), AfterValidator(_not_blank)]


def _file_name(value: str) -> str:
    if problem := file_name_problem(value):
        raise PydanticCustomError("file_name", problem)
    return value


FileName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=FILE_NAME_MAX_LENGTH),
    AfterValidator(_file_name),
    Field(json_schema_extra={"pattern": FILE_NAME_PATTERN}),
]


# --- dates and moments: only their JSON spelling, within plausible bounds, moments in UTC ---------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _date_as_sent(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise PydanticCustomError("date_format", "must be a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_calendar", "is not a date on the calendar") from None


def _moment_as_sent(value: object) -> datetime:
    """An RFC 3339 date-time with its offset (Z or ±hh:mm), as UTC; a time without an offset is refused."""
    if isinstance(value, datetime):
        moment = value
    else:
        found = _MOMENT.fullmatch(value.upper()) if isinstance(value, str) else None
        if found is None:
            raise PydanticCustomError(
                "date_time_format", "must be a date and time as in RFC 3339, e.g. 2027-01-05T07:00:00Z"
            )
        if found.group(2) is None:
            raise PydanticCustomError("date_time_offset", "must carry its UTC offset (Z or ±hh:mm)")
        try:
            moment = datetime.fromisoformat(value.upper())
        except ValueError:
            raise PydanticCustomError("date_time_calendar", "is not a moment on the calendar") from None
    if moment.utcoffset() is None:
        raise PydanticCustomError("date_time_offset", "must carry its UTC offset (Z or ±hh:mm)")
    return moment.astimezone(UTC)


def _plausible_due_date(due: date) -> date:
    if problem := rules.due_date_problem(due, today=rules.dutch_date(clock.now())):
        raise PydanticCustomError("due_date", problem)
    return due


def _plausible_publish_at(moment: datetime) -> datetime:
    if problem := rules.publish_at_problem(moment, now=clock.now()):
        raise PydanticCustomError("publish_at", problem)
    return moment


DueDate = Annotated[date, BeforeValidator(_date_as_sent), AfterValidator(_plausible_due_date)]
PublishAt = Annotated[datetime, BeforeValidator(_moment_as_sent), AfterValidator(_plausible_publish_at)]
DUE_DATE = Field(
    default=None,
    description="The deadline of the action asked (YYYY-MM-DD, a day in Dutch time). A new letter's "
    "dueDate lies from yesterday to ten years ahead; a retry of a letter already stored is answered "
    "with that letter also after its dueDate has passed. A date before 2000-01-01 is always refused.",
)
PUBLISH_AT = Field(
    default=None,
    description="When the letter appears in the mailbox: an RFC 3339 date-time with its UTC offset "
    "(`Z` or `±hh:mm`; a time without one is refused), stored and echoed in UTC. A new letter's "
    "publishAt lies from one day ago (a moment already past means: deliver now) to one year ahead; "
    "a retry of a letter already stored is answered with that letter also after its publishAt has "
    "passed. A moment before 2000-01-01 is always refused.",
)


class Recipient(ApiModel):
    type: Literal["BSN"] = Field(description="Kind of identifier; `BSN` now, `KVK` later.")
    value: RecipientValue = Field(description="The identifier; a BSN must pass the elfproef.")


class Action(ApiModel):
    kind: Literal["pay", "respond", "confirm", "appointment", "info"]
    label: ShortText = Field(description="The button's text, 1 to 100 characters, not blank.")
    url: str = Field(max_length=2048, description="An https URL.")

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not rules.is_https_url(url):
            raise PydanticCustomError("https_url", "must be an https URL (no spaces or control characters)")
        return url


class Notification(ApiModel):
    text: NotificationText = Field(
        description="Plain text added to the notification e-mail; paragraphs may be separated by line breaks."
    )


_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class AttachmentIn(ApiModel):
    """Either inline (`fileName`, `mediaType`, base64 `content`) or a reference (`attachmentId`).

    A null member counts as absent, as many JSON writers send one for every empty field.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["attachmentId"],
                    "properties": {"attachmentId": {"type": "string"}, "content": {"type": "null"}},
                },
                {
                    "required": ["fileName", "content"],
                    "properties": {
                        "fileName": {"type": "string"},
                        "content": {"type": "string"},
                        "attachmentId": {"type": "null"},
                    },
                },
            ]
        }
    )

    attachment_id: AttachmentId | None = Field(default=None, description="From POST /attachments.")
    file_name: FileName | None = Field(
        default=None, description="The name citizens see; with attachmentId it replaces the uploaded name."
    )
    media_type: Literal["application/pdf"] | None = None
    content: str | None = Field(
        default=None,
        description="Base64 of the PDF (RFC 4648, with padding).",
        json_schema_extra={
            "pattern": _BASE64,
            "contentEncoding": "base64",
            "contentMediaType": "application/pdf",
        },
    )

    @model_validator(mode="after")
    def _one_form(self) -> AttachmentIn:
        if self.attachment_id is not None:
            if self.content is not None:
                raise PydanticCustomError("attachment_form", "give either attachmentId or content, not both")
        elif self.content is None or self.file_name is None:
            raise PydanticCustomError("attachment_form", "give attachmentId, or fileName with base64 content")
        return self

    def decoded(self) -> bytes:
        try:
            return base64.b64decode(self.content or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("content is not valid base64") from exc


class MessageIn(ApiModel):
    recipient: Recipient
    sender_reference: Reference
    message_type: MessageType | None = None
    subject: Subject
    body: Body = Field(
        description="Markdown subset, at most 1 MiB of UTF-8."
    )
    due_date: DueDate | None = DUE_DATE
    action: Action | None = None
    confirmation_required: StrictBool = False
    sensitive: StrictBool = False
    publish_at: PublishAt | None = PUBLISH_AT
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


FEED_CURSOR_PATTERN = cursor_pattern(2)


class EventFeedOut(ApiModel):
    events: list[FeedEventOut]
    next_cursor: str = Field(
        description="Pass it as `after` to read on from here.",
        json_schema_extra={"pattern": FEED_CURSOR_PATTERN},
    )
