"""API models of messages: what senders send and what they read back."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from postvak.attachments.rules import FILE_NAME_MAX_LENGTH, FILE_NAME_PATTERN, file_name_problem
from postvak.errors import ProblemOut
from postvak.kit import clock
from postvak.kit.pagination import cursor_pattern
from postvak.kit.schemas import ApiModel
from postvak.kit.text import text_pattern, text_problem
from postvak.messages import rules
from postvak.senders.rules import MESSAGE_TYPE_MAX_LENGTH

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
    examples=["2027-03-31"],
)
PUBLISH_AT = Field(
    default=None,
    description="When the letter appears in the mailbox: an RFC 3339 date-time with its UTC offset "
    "(`Z` or `±hh:mm`; a time without one is refused), stored and echoed in UTC. A new letter's "
    "publishAt lies from one day ago (a moment already past means: deliver now) to one year ahead; "
    "a retry of a letter already stored is answered with that letter also after its publishAt has "
    "passed. A moment before 2000-01-01 is always refused.",
    examples=["2027-01-05T07:00:00Z"],
)


# Examples of the document, one message throughout (a test BSN: it passes the elfproef, no one has it).
ID_EXAMPLE = "0193a1c2-7d4e-7b7a-9c1d-2f3e4a5b6c7d"
ATTACHMENT_ID_EXAMPLE = "0193a1c2-8f10-7c3b-a2d4-5e6f7a8b9c0d"
RECIPIENT_EXAMPLE = {"type": "BSN", "value": "999993653"}
REFERENCE_EXAMPLE = "IB-2026-000123"
MESSAGE_TYPE_EXAMPLE = "voorlopige-aanslag"
SUBJECT_EXAMPLE = "Voorlopige aanslag inkomstenbelasting 2027"
BODY_EXAMPLE = (
    "Geachte heer Jansen,\n\nU ontvangt de voorlopige aanslag inkomstenbelasting 2027. Het bedrag "
    "van **€ 1.234** betaalt u vóór 31 maart 2027.\n\nMet vriendelijke groet,\n\nBelastingdienst"
)
ACTION_EXAMPLE = {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/IB-2026-000123"}
NOTIFICATION_EXAMPLE = {"text": "U kunt de aanslag ook in maandelijkse termijnen betalen."}
FILE_NAME_EXAMPLE = "aanslag.pdf"
ATTACHMENT_OUT_EXAMPLE = {
    "attachmentId": ATTACHMENT_ID_EXAMPLE,
    "fileName": FILE_NAME_EXAMPLE,
    "size": 48213,
    "pages": 2,
}
EVENT_EXAMPLES = [
    {"type": "accepted", "at": "2027-01-05T07:00:00Z", "detail": None},
    {"type": "delivered", "at": "2027-01-05T07:00:00Z", "detail": None},
    {"type": "notified", "at": "2027-01-05T07:00:04Z", "detail": "email"},
]
STATUS_DESCRIPTION = (
    "The letter's current status: the type of its last event, except that `notification-failed`, "
    "`reminded` and `fallback-not-printed` leave it as it was, and `notified` follows only `delivered`."
)
EVENT_TYPE_DESCRIPTION = (
    "What happened: `accepted` (stored), `scheduled` (waits for publishAt), `delivered` (in the "
    "mailbox), `notified`, `notification-failed`, `reminded`, `read`, `confirmed` (receipt "
    "confirmed), `unreachable` (no activated mailbox), `fallback-printed` (printed and posted), "
    "`fallback-not-printed` (printing was asked but not possible; detail says why), `never-read` and "
    "`never-confirmed` (at the end of dueDate), `expired`, `deleted-by-recipient`, `withdrawn`."
)


class Recipient(ApiModel):
    type: Literal["BSN"] = Field(description="Kind of identifier; `BSN` now, `KVK` later.", examples=["BSN"])
    value: RecipientValue = Field(
        description="The identifier; a BSN must pass the elfproef.", examples=[RECIPIENT_EXAMPLE["value"]]
    )


class Action(ApiModel):
    kind: Literal[rules.ACTION_KINDS] = Field(  # type: ignore[valid-type]
        description="What the citizen is asked to do; the letter shows it as a button.",
        examples=[ACTION_EXAMPLE["kind"]],
    )
    label: ShortText = Field(
        description="The button's text, 1 to 100 characters, not blank.", examples=[ACTION_EXAMPLE["label"]]
    )
    url: str = Field(max_length=2048, description="An https URL.", examples=[ACTION_EXAMPLE["url"]])

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not rules.is_https_url(url):
            raise PydanticCustomError("https_url", "must be an https URL (no spaces or control characters)")
        return url


class Notification(ApiModel):
    text: NotificationText = Field(
        description="Plain text added to the notification e-mail; line breaks separate paragraphs.",
        examples=[NOTIFICATION_EXAMPLE["text"]],
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

    attachment_id: AttachmentId | None = Field(
        default=None,
        description="An attachmentId from POST /attachments (then no content).",
        examples=[ATTACHMENT_ID_EXAMPLE],
    )
    file_name: FileName | None = Field(
        default=None,
        description="The name citizens see; with attachmentId it replaces the uploaded name.",
        examples=[FILE_NAME_EXAMPLE],
    )
    media_type: Literal["application/pdf"] | None = Field(
        default=None, description="Only PDF is taken; may be left out.", examples=["application/pdf"]
    )
    content: str | None = Field(
        default=None,
        description="Base64 of the PDF (RFC 4648, with padding). The example is only a PDF's first bytes.",
        examples=["JVBERi0xLjcKJeLjz9MKMSAwIG9iago="],
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


PaperFallback = Literal[rules.PAPER_FALLBACKS]  # type: ignore[valid-type]
EventType = Literal[rules.API_EVENT_TYPES]  # type: ignore[valid-type]
Status = Literal[rules.STATUSES]  # type: ignore[valid-type]


REFERENCE_ADAPTER: TypeAdapter[str] = TypeAdapter(Reference)


def _about(description: str, examples: list[Any]) -> dict[str, Any]:
    return {"description": description, "examples": examples}


# What a message says, in the same words where it is sent and where it is read back.
RECIPIENT = _about("Who receives the letter: a citizen, by BSN.", [RECIPIENT_EXAMPLE])
SENDER_REFERENCE = _about(
    "The sender's own reference, unique per sender: a retry with the same reference and "
    "identical content answers with the letter stored before; other content answers 409.",
    [REFERENCE_EXAMPLE],
)
MESSAGE_TYPE = _about(
    "The sender's own code for this kind of letter; its settings "
    "(PUT /message-types/{messageType}) apply to it.",
    [MESSAGE_TYPE_EXAMPLE],
)
SUBJECT = _about("The subject citizens see in their inbox, on one line.", [SUBJECT_EXAMPLE])
ACTION = _about("The one thing the citizen is asked to do, shown as a button.", [ACTION_EXAMPLE])
CONFIRMATION_REQUIRED = _about(
    "Whether the citizen is asked to confirm receipt (then the `confirmed` event follows).",
    [False],
)
SENSITIVE = _about("A sensitive letter's notifications name only the sender, never the subject.", [False])
PAPER_FALLBACK = _about(
    "When the letter is printed and posted as well: `never`; `if-unreachable` (at once, "
    "when the citizen has no activated mailbox); `if-unread-by-due-date` (when still unread at the end "
    "of dueDate). The address comes from the address register.",
    ["if-unreachable"],
)
NOTIFICATION = _about("Text added to the notification e-mail.", [NOTIFICATION_EXAMPLE])


class MessageIn(ApiModel):
    recipient: Recipient = Field(**RECIPIENT)
    sender_reference: Reference = Field(**SENDER_REFERENCE)
    message_type: MessageType | None = Field(default=None, **MESSAGE_TYPE)
    subject: Subject = Field(**SUBJECT)
    body: Body = Field(
        description="The letter in a Markdown subset, at most 1 MiB of UTF-8.", examples=[BODY_EXAMPLE]
    )
    due_date: DueDate | None = DUE_DATE
    action: Action | None = Field(default=None, **ACTION)
    confirmation_required: StrictBool = Field(default=False, **CONFIRMATION_REQUIRED)
    sensitive: StrictBool = Field(default=False, **SENSITIVE)
    publish_at: PublishAt | None = PUBLISH_AT
    paper_fallback: PaperFallback = Field(default="never", **PAPER_FALLBACK)
    notification: Notification | None = Field(default=None, **NOTIFICATION)
    attachments: list[AttachmentIn] = Field(
        default_factory=list,
        max_length=rules.MAX_ATTACHMENTS,
        description="PDF files, each inline (fileName and base64 content) or uploaded before (attachmentId); "
        "at most 10 MiB each and 20 MiB together.",
        examples=[[{"attachmentId": ATTACHMENT_ID_EXAMPLE, "fileName": FILE_NAME_EXAMPLE}]],
    )


class MessageBatchIn(ApiModel):
    messages: list[MessageIn] = Field(
        min_length=1,
        max_length=rules.MAX_BATCH,
        description="The letters; each is judged alone, and the results come in this order.",
        examples=[
            [
                {
                    "recipient": RECIPIENT_EXAMPLE,
                    "senderReference": REFERENCE_EXAMPLE,
                    "subject": SUBJECT_EXAMPLE,
                    "body": BODY_EXAMPLE,
                }
            ]
        ],
    )


EVENT_DETAIL = Field(
    default=None,
    description="For `notified` the channel (`email`, `sms`); for `notification-failed` the channel and "
    "why it failed; for `reminded` which reminder (`unread`, `due-date`); for `fallback-not-printed` "
    "why not; null for other events.",
    examples=["email"],
)
EVENT_AT = Field(description="When it happened (UTC).", examples=["2027-01-05T07:00:04Z"])


class EventOut(ApiModel):
    type: EventType = Field(description=EVENT_TYPE_DESCRIPTION, examples=["notified"])
    at: datetime = EVENT_AT
    detail: str | None = EVENT_DETAIL


class AttachmentOut(ApiModel):
    attachment_id: str = Field(
        description="The attachment's id; other letters may reference it as attachmentId.",
        examples=[ATTACHMENT_ID_EXAMPLE],
    )
    file_name: str = Field(description="The name citizens see.", examples=[FILE_NAME_EXAMPLE])
    size: int = Field(description="The PDF's size in bytes.", examples=[48213])
    pages: int = Field(description="The PDF's number of pages.", examples=[2])


class MessageOut(ApiModel):
    id: str = Field(description="The message's id, as in GET /messages/{messageId}.", examples=[ID_EXAMPLE])
    sender_reference: str = Field(**SENDER_REFERENCE)
    status: Status = Field(description=STATUS_DESCRIPTION, examples=["notified"])
    message_type: str | None = Field(**MESSAGE_TYPE)
    subject: str = Field(**SUBJECT)
    due_date: date | None = Field(
        description="The deadline of the action asked, as sent; null: none.", examples=["2027-03-31"]
    )
    action: Action | None = Field(**ACTION)
    confirmation_required: bool = Field(**CONFIRMATION_REQUIRED)
    sensitive: bool = Field(**SENSITIVE)
    publish_at: datetime | None = Field(
        description="When the letter appears (appeared) in the mailbox, in UTC; null: at once.",
        examples=["2027-01-05T07:00:00Z"],
    )
    paper_fallback: PaperFallback = Field(**PAPER_FALLBACK)
    notification: Notification | None = Field(**NOTIFICATION)
    attachments: list[AttachmentOut] = Field(
        description="The letter's PDF attachments, in the order sent.",
        examples=[[ATTACHMENT_OUT_EXAMPLE]],
    )
    created_at: datetime = Field(
        description="When the letter was accepted (UTC).", examples=["2027-01-04T15:12:45Z"]
    )
    events: list[EventOut] = Field(
        description="Every status event so far, oldest first.", examples=[EVENT_EXAMPLES]
    )


MESSAGE_OUT_EXAMPLE = {
    "id": ID_EXAMPLE,
    "senderReference": REFERENCE_EXAMPLE,
    "status": "notified",
    "messageType": MESSAGE_TYPE_EXAMPLE,
    "subject": SUBJECT_EXAMPLE,
    "dueDate": "2027-03-31",
    "action": ACTION_EXAMPLE,
    "confirmationRequired": False,
    "sensitive": False,
    "publishAt": "2027-01-05T07:00:00Z",
    "paperFallback": "if-unreachable",
    "notification": NOTIFICATION_EXAMPLE,
    "attachments": [ATTACHMENT_OUT_EXAMPLE],
    "createdAt": "2027-01-05T07:00:00Z",
    "events": EVENT_EXAMPLES,
}


class MessageListOut(ApiModel):
    messages: list[MessageOut] = Field(
        description="The sender's letters that match, each as GET /messages/{messageId} shows it; a "
        "senderReference is unique per sender, so there is one at most. Empty when none matches.",
        examples=[[MESSAGE_OUT_EXAMPLE]],
    )


class BatchResultOut(ApiModel):
    index: int = Field(description="The item's position in the request, from 0.", examples=[0])
    outcome: Literal["created", "existing", "rejected"] = Field(
        description="`created`: stored now; `existing`: stored before with identical content (the id is "
        "that letter's); `rejected`: not stored, see problem.",
        examples=["created"],
    )
    id: str | None = Field(
        default=None, description="The message's id; null when the item was rejected.", examples=[ID_EXAMPLE]
    )
    problem: ProblemOut | None = Field(
        default=None,
        description="Why the item was rejected: a problem whose instance points at the item; else null.",
        examples=[
            {
                "type": "https://postvak.example.nl/problems/invalid-recipient",
                "title": "Invalid recipient",
                "status": 422,
                "detail": "recipient.value: the BSN fails the check digit (elfproef)",
                "instance": "/api/v1/message-batches#/messages/3",
            }
        ],
    )


class BatchOut(ApiModel):
    results: list[BatchResultOut] = Field(
        description="One result per letter, in request order.",
        examples=[[{"index": 0, "outcome": "created", "id": ID_EXAMPLE, "problem": None}]],
    )


class FeedEventOut(ApiModel):
    id: str = Field(description="The event's id.", examples=["81234"])
    message_id: str = Field(description="The id of the letter it happened to.", examples=[ID_EXAMPLE])
    sender_reference: str = Field(**SENDER_REFERENCE)
    type: EventType = Field(description=EVENT_TYPE_DESCRIPTION, examples=["read"])
    at: datetime = EVENT_AT
    detail: str | None = EVENT_DETAIL


FEED_CURSOR_PATTERN = cursor_pattern(2)


class EventFeedOut(ApiModel):
    events: list[FeedEventOut] = Field(
        description="The events after the cursor, oldest first; empty when there are none (yet).",
        examples=[
            [
                {
                    "id": "81234",
                    "messageId": ID_EXAMPLE,
                    "senderReference": REFERENCE_EXAMPLE,
                    "type": "read",
                    "at": "2027-01-07T18:21:09Z",
                    "detail": None,
                }
            ]
        ],
    )
    next_cursor: str = Field(
        description="Pass it as `after` to read on from here.",
        examples=["00000000000003e80000000000013d52"],
        json_schema_extra={"pattern": FEED_CURSOR_PATTERN},
    )
