"""Use cases of messages: check and store (idempotently), publish or withdraw when scheduled, read back, look
up by reference, follow events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from postvak.attachments import service as attachments
from postvak.attachments.models import Blob
from postvak.attachments.pdf import MAX_ATTACHMENT_BYTES
from postvak.citizens import service as citizens
from postvak.errors import (
    DuplicateReference,
    IntegrityFailure,
    InvalidRecipient,
    NotFound,
    NotWithdrawable,
    PayloadTooLarge,
    Problem,
    ValidationFailed,
)
from postvak.jobs import service as jobs
from postvak.jobs.models import NewJob
from postvak.kit.bsn import bsn_problem
from postvak.kit.crypto import IntegrityError, KeyRing, Sealed
from postvak.kit.ids import new_id, parse_id
from postvak.kit.pagination import decode_cursor, encode_cursor
from postvak.kit.validation import describe_errors
from postvak.messages import history, repository, rules
from postvak.messages.models import Message, MessageAttachment
from postvak.messages.schemas import (
    REFERENCE_ADAPTER,
    Action,
    AttachmentOut,
    EventFeedOut,
    EventOut,
    FeedEventOut,
    MessageIn,
    MessageListOut,
    MessageOut,
    Notification,
)

PUBLISH_JOB = "publish-message"


@dataclass
class Draft:
    """A message that passed every check that needs no database."""

    index: int
    message: MessageIn
    content_hash: str
    inline: dict[int, bytes] = field(default_factory=dict)  # attachment position → PDF bytes


@dataclass
class Outcome:
    index: int
    outcome: str  # created | existing | rejected
    message_id: uuid.UUID | None = None
    problem: Problem | None = None


def check_message(raw: Any, *, index: int) -> Draft:
    """Validate one message as sent; raises the Problem that describes its faults (every schema fault,
    else the first of the checks beyond the schema)."""
    try:
        message = MessageIn.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(describe_validation_error(exc)) from None
    if problem := bsn_problem(message.recipient.value):
        raise InvalidRecipient(f"recipient.value: {problem}")
    if fault := rules.paper_fallback_problem(message.paper_fallback, due_date=message.due_date):
        raise ValidationFailed(fault)
    if len(message.body.encode()) > rules.MAX_BODY_BYTES:
        raise PayloadTooLarge("body: a letter's body may be at most 1 MiB of UTF-8")
    inline: dict[int, bytes] = {}
    for position, attachment in enumerate(message.attachments):
        if attachment.content is None:
            continue
        if len(attachment.content) > (MAX_ATTACHMENT_BYTES * 4) // 3 + 4:
            raise PayloadTooLarge(f"attachments[{position}]: an attachment may be at most 10 MiB")
        try:
            inline[position] = attachment.decoded()
        except ValueError as exc:
            raise ValidationFailed(f"attachments[{position}].content: {exc}") from None
        if len(inline[position]) > MAX_ATTACHMENT_BYTES:
            raise PayloadTooLarge(f"attachments[{position}]: an attachment may be at most 10 MiB")
    if sum(len(data) for data in inline.values()) > rules.MAX_ATTACHMENTS_TOTAL_BYTES:
        raise PayloadTooLarge("attachments: together at most 20 MiB per letter")
    canonical = message.model_dump(mode="json", by_alias=True)
    return Draft(index, message, rules.content_hash(canonical), inline)


def describe_validation_error(exc: ValidationError) -> str:
    """Every fault as "field.path: what is wrong", joined in the order of the fields and bounded."""
    return describe_errors(exc.errors())


def check_messages(raws: list[Any]) -> tuple[list[Draft], list[Outcome]]:
    """Every message checked in order: the drafts that passed, and an outcome for each one rejected."""
    drafts, rejected = [], []
    for index, raw in enumerate(raws):
        try:
            drafts.append(check_message(raw, index=index))
        except Problem as problem:
            rejected.append(Outcome(index, "rejected", problem=problem))
    return drafts, rejected


def inline_contents(drafts: list[Draft]) -> list[bytes]:
    """The PDFs sent inline with the drafts, to stage before the write transaction."""
    return [data for d in drafts for data in d.inline.values()]


@dataclass
class Stored:
    """What store_messages did: an outcome per message, and the new messages that go into their mailboxes."""

    outcomes: list[Outcome]
    to_file: list[dict] = field(default_factory=list)  # not scheduled: their Message columns, to file
    delivered: list[uuid.UUID] = field(default_factory=list)  # into an activated mailbox: to tell the reader


def store_messages(
    session: Session,
    *,
    keyring: KeyRing,
    sender_id: uuid.UUID,
    drafts: list[Draft],
    staged: dict[str, attachments.StagedBlob | Blob | Problem],
    now: datetime,
) -> Stored:
    """Store every new message with its first events, attachment links and publication jobs, in the
    caller's transaction.

    Messages whose reference is already stored are answered from the stored copy (same
    content: existing; other content: duplicate-reference) without being sealed again, even
    when their dueDate or publishAt has passed since; a new message dated in the past is rejected.
    `staged` holds the result of attachments.stage_blobs for the drafts' inline PDFs. A message not
    scheduled is to be filed into its mailbox now (flows.delivery does), also one for a mailbox
    that is not activated yet (status `unreachable`): it is there when the citizen activates.
    """
    outcomes: dict[int, Outcome] = {}
    stored = repository.stored_by_reference(session, sender_id, (d.message.sender_reference for d in drafts))
    fresh = []
    for d in drafts:
        if d.message.sender_reference in stored:
            outcomes[d.index] = _retry_outcome(d, stored[d.message.sender_reference])
        elif fault := rules.new_message_date_problem(
            due_date=d.message.due_date, publish_at=d.message.publish_at, now=now
        ):
            outcomes[d.index] = Outcome(d.index, "rejected", problem=ValidationFailed(": ".join(fault)))
        else:
            fresh.append(d)
    links = _resolve_attachments(session, sender_id, fresh, staged, outcomes)
    fresh = [d for d in fresh if d.index not in outcomes]

    boxes = citizens.ensure_mailboxes(session, recipients={("BSN", d.message.recipient.value) for d in fresh})
    rows = {
        d.index: _message_row(keyring, sender_id, d, boxes[("BSN", d.message.recipient.value)].id, now)
        for d in fresh
    }
    inserted = repository.insert_messages(session, list(rows.values()))
    created = [d for d in fresh if rows[d.index]["id"] in inserted]
    for d in created:
        outcomes[d.index] = Outcome(d.index, "created", rows[d.index]["id"])
    lost = [d for d in fresh if rows[d.index]["id"] not in inserted]
    if lost:  # a concurrent request, or an earlier item of this batch, stored the reference first
        stored = repository.stored_by_reference(
            session, sender_id, (d.message.sender_reference for d in lost)
        )
        for d in lost:
            outcomes[d.index] = _retry_outcome(d, stored[d.message.sender_reference])
    result = Stored([outcomes[i] for i in sorted(outcomes)])
    _write_first_events(session, sender_id, created, rows, links, boxes, now, result)
    return result


def _retry_outcome(d: Draft, stored: tuple[uuid.UUID, str]) -> Outcome:
    message_id, content_hash = stored
    if content_hash == d.content_hash:
        return Outcome(d.index, "existing", message_id)
    return Outcome(
        d.index,
        "rejected",
        problem=DuplicateReference("senderReference: already used for a letter with different content"),
    )


def _resolve_attachments(session, sender_id, drafts, staged, outcomes) -> dict[int, list[dict]]:
    """Per draft, its attachment links (position, attachment id, file name); faults reject the draft."""
    referenced = attachments.find_attachments(
        session,
        sender_id=sender_id,
        ids=(a.attachment_id for d in drafts for a in d.message.attachments if a.attachment_id),
    )
    usable = {bid: b for bid, b in staged.items() if not isinstance(b, Problem)}
    handles = attachments.attach_blobs(session, sender_id=sender_id, blobs=usable.values()) if usable else {}
    links: dict[int, list[dict]] = {}
    for d in drafts:
        try:
            links[d.index] = _links_of(d, referenced, staged, handles)
        except Problem as problem:
            outcomes[d.index] = Outcome(d.index, "rejected", problem=problem)
    return links


def _links_of(d: Draft, referenced, staged, handles) -> list[dict]:
    links, total = [], 0
    for position, attachment in enumerate(d.message.attachments):
        if position in d.inline:
            blob = staged[attachments.content_id(d.inline[position])]
            if isinstance(blob, Problem):
                raise type(blob)(f"attachments[{position}]: {blob.detail}")
            attachment_id, size, name = handles[blob.id], blob.size, attachment.file_name
        else:
            found = referenced.get(parse_id(attachment.attachment_id))
            if found is None:
                raise NotFound(f"attachments[{position}].attachmentId: no attachment with this id")
            handle, blob = found
            attachment_id, size, name = handle.id, blob.size, attachment.file_name or handle.file_name
        total += size
        links.append({"position": position, "attachment_id": attachment_id, "file_name": name})
    if total > rules.MAX_ATTACHMENTS_TOTAL_BYTES:
        raise PayloadTooLarge("attachments: together at most 20 MiB per letter")
    return links


def _message_row(keyring: KeyRing, sender_id: uuid.UUID, d: Draft, mailbox_id: uuid.UUID, now) -> dict:
    m = d.message
    message_id = new_id()
    sealed = keyring.seal(m.body.encode(), message_id.bytes)
    return {
        "id": message_id,
        "sender_id": sender_id,
        "mailbox_id": mailbox_id,
        "sender_reference": m.sender_reference,
        "content_hash": d.content_hash,
        "message_type": m.message_type,
        "subject": m.subject,
        "body_sealed": sealed.ciphertext,
        "body_key": sealed.wrapped_key,
        "body_kek_id": sealed.kek_id,
        "due_date": m.due_date,
        "action_kind": m.action.kind if m.action else None,
        "action_label": m.action.label if m.action else None,
        "action_url": m.action.url if m.action else None,
        "confirmation_required": m.confirmation_required,
        "sensitive": m.sensitive,
        "publish_at": m.publish_at,
        "paper_fallback": m.paper_fallback,
        "notification_text": m.notification.text if m.notification else None,
        "created_at": now,
    }


def _write_first_events(session, sender_id, created, rows, links, boxes, now, result: Stored) -> None:
    """Events, attachment links and publication jobs of new messages; the messages not scheduled go into
    `result` to be filed, and those delivered into an activated mailbox to be told about."""
    events, attachment_rows, publish_jobs = [], [], []
    for d in created:
        row = rows[d.index]
        scheduled = d.message.publish_at is not None and d.message.publish_at > now
        activated = boxes[("BSN", d.message.recipient.value)].activated
        for event in rules.delivery_events(scheduled=scheduled, mailbox_activated=activated):
            events.append(history.Event(row["id"], sender_id, event, now))
        attachment_rows += [{"message_id": row["id"], **link} for link in links[d.index]]
        if scheduled:
            publish_jobs.append(
                NewJob(
                    PUBLISH_JOB,
                    f"{PUBLISH_JOB}:{row['id']}",
                    {"messageId": str(row["id"])},
                    d.message.publish_at,
                )
            )
        else:
            result.to_file.append(row)
            if activated:
                result.delivered.append(row["id"])
    repository.insert_message_attachments(session, attachment_rows)
    history.begin(session, events=events)
    jobs.enqueue_many(session, jobs=publish_jobs)


def publish_scheduled_message(session: Session, *, message_id: uuid.UUID | None, now: datetime) -> str | None:
    """A scheduled message reaches its publishAt: it gets `delivered` (`unreachable` while its mailbox is
    not activated), which is returned; None when it is unknown or no longer scheduled (a rerun)."""
    # Locked: a withdrawal at the same moment waits, then finds it no longer scheduled (or the reverse).
    found = repository.get_message_with_mailbox(session, message_id, lock=True) if message_id else None
    if found is None:
        return None
    message, mailbox = found
    if rules.current_status(history.types_of(session, message_ids=[message.id])[message.id]) != "scheduled":
        return None
    event = rules.delivery_events(scheduled=False, mailbox_activated=mailbox.activated_at is not None)[-1]
    history.append(session, events=[history.Event(message.id, message.sender_id, event, now)])
    return event


def withdraw_message(session: Session, *, sender_id: uuid.UUID, message_id: str, now: datetime) -> None:
    """The sender takes back a message still scheduled (its publishAt ahead): it gets `withdrawn`, and its
    publication job will find it no longer scheduled, so the citizen never sees it.

    Another sender's id, or an unknown one, is not found; a message in any other state (published,
    withdrawn before, or due now) is not withdrawable. The message's row is locked, as publication
    locks it: of a withdrawal and a publication at the same moment exactly one happens.
    """
    parsed = parse_id(message_id)
    message = repository.lock_message(session, sender_id, parsed) if parsed else None
    if message is None:
        raise NotFound("no message with this id")
    status = rules.current_status(history.types_of(session, message_ids=[message.id])[message.id])
    if reason := rules.withdrawal_problem(status=status, publish_at=message.publish_at, now=now):
        raise NotWithdrawable(reason)
    history.append(session, events=[history.Event(message.id, sender_id, "withdrawn", now)])


def get_sent_message(session: Session, *, sender_id: uuid.UUID, message_id: str) -> MessageOut:
    """The message as its sender sees it; another sender's id is not found."""
    parsed = parse_id(message_id)
    message = repository.get_message(session, sender_id, parsed) if parsed else None
    if message is None:
        raise NotFound("no message with this id")
    return _sent_view(session, message)


def find_sent_messages(session: Session, *, sender_id: uuid.UUID, sender_reference: str) -> MessageListOut:
    """The sender's messages with this reference, as GET /messages/{id} shows each: one at most, as a
    reference is unique per sender; none for another sender's reference. A reference no letter could
    have (empty, over 64 characters, control characters) is refused, naming the parameter."""
    try:
        REFERENCE_ADAPTER.validate_python(sender_reference)
    except ValidationError as exc:
        raise ValidationFailed(describe_errors(exc.errors(), whole="senderReference")) from None
    message = repository.get_by_reference(session, sender_id, sender_reference)
    return MessageListOut(messages=[_sent_view(session, message)] if message else [])


def _sent_view(session: Session, message: Message) -> MessageOut:
    events = repository.events_of(session, [message.id])[message.id]
    return MessageOut(
        id=str(message.id),
        sender_reference=message.sender_reference,
        status=rules.current_status(e.type for e in events) or "accepted",
        message_type=message.message_type,
        subject=message.subject,
        due_date=message.due_date,
        action=Action(kind=message.action_kind, label=message.action_label, url=message.action_url)
        if message.action_kind
        else None,
        confirmation_required=message.confirmation_required,
        sensitive=message.sensitive,
        publish_at=message.publish_at,
        paper_fallback=message.paper_fallback,
        notification=Notification(text=message.notification_text) if message.notification_text else None,
        attachments=[
            AttachmentOut(
                attachment_id=str(link.attachment_id),
                file_name=link.file_name,
                size=blob.size,
                pages=blob.page_count,
            )
            for link, blob in repository.attachments_of(session, message.id)
        ],
        created_at=message.created_at,
        events=[EventOut(type=e.type, at=e.at, detail=e.detail) for e in events],
    )


def sender_of(session: Session, *, message_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the organisation that sent the message (None for an unknown message)."""
    return repository.sender_of(session, message_id)


def list_attachments(session: Session, *, message_id: uuid.UUID) -> list[tuple[MessageAttachment, Blob]]:
    """A message's attachment links, in their order, each with its stored blob."""
    return repository.attachments_of(session, message_id)


def read_event_feed(session: Session, *, sender_id: uuid.UUID, after: str | None, limit: int) -> EventFeedOut:
    """The sender's events in order; following nextCursor reads each exactly once."""
    position = decode_cursor(after, 2) if after is not None else (0, 0)
    rows = repository.event_feed(session, sender_id, position, limit)
    if rows:
        position = (rows[-1][0].tx_seq, rows[-1][0].id)
    return EventFeedOut(
        events=[
            FeedEventOut(
                id=str(e.id),
                message_id=str(e.message_id),
                sender_reference=ref,
                type=e.type,
                at=e.at,
                detail=e.detail,
            )
            for e, ref in rows
        ],
        next_cursor=encode_cursor(*position),
    )


def open_body(keyring: KeyRing, *, message: Message) -> str:
    """The message's Markdown as sent, verified; tampered storage is never served."""
    try:
        plain = keyring.open(
            Sealed(message.body_kek_id, message.body_key, message.body_sealed), message.id.bytes
        )
    except IntegrityError as exc:
        raise IntegrityFailure("a stored letter failed its integrity check") from exc
    return plain.decode()


def rewrap_body_keys(session: Session, *, keyring: KeyRing, limit: int = 500) -> int:
    """Re-wrap up to `limit` messages' data keys under the active key; the sealed bodies stay as they are.

    Returns how many were re-wrapped: call again (in a new transaction) until it returns 0.
    """
    rows = repository.messages_not_under_key(session, keyring.active_id, limit)
    for message_id, kek_id, wrapped in rows:
        new_kek, new_wrapped = keyring.rewrap(kek_id, wrapped, message_id.bytes)
        repository.set_body_key(session, message_id, new_kek, new_wrapped)
    return len(rows)
