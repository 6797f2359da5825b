"""Use cases of sender organisations: register, issue and revoke keys, authenticate, settings per type."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from postvak.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from postvak.kit import clock
from postvak.kit.ids import new_id, parse_id
from postvak.senders import repository, rules
from postvak.senders.models import ApiKey, MessageTypeSetting, Sender
from postvak.senders.schemas import MessageTypeSettingOut, MessageTypeSettingsOut


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    api_key: str


def register_sender(session: Session, *, name: str, oin: str, kind: str) -> Sender:
    name = name.strip()
    if not name:
        raise ValidationFailed("name: must not be empty")
    if problem := rules.oin_problem(oin) or rules.kind_problem(kind):
        raise ValidationFailed(problem)
    if repository.get_sender_by_oin(session, oin):
        raise ValidationFailed("oin: an organisation with this OIN is already registered")
    sender = Sender(id=new_id(), oin=oin, name=name, kind=kind, status="active", created_at=clock.now())
    repository.add(session, sender)
    return sender


def issue_api_key(session: Session, *, sender_id: uuid.UUID) -> IssuedKey:
    if repository.get_sender(session, sender_id) is None:
        raise NotFound("no organisation with this id")
    key = rules.new_api_key()
    row = ApiKey(
        id=new_id(),
        sender_id=sender_id,
        key_hash=rules.hash_api_key(key),
        prefix=rules.display_prefix(key),
        created_at=clock.now(),
    )
    repository.add(session, row)
    return IssuedKey(row.id, key)


def revoke_api_key(session: Session, *, key_id: uuid.UUID) -> None:
    if not repository.revoke_key(session, key_id, clock.now()):
        raise NotFound("no active API key with this id")


def set_sender_status(session: Session, *, sender_id: uuid.UUID, status: str) -> None:
    if status not in rules.STATUSES:
        raise ValidationFailed(f"status must be one of: {', '.join(rules.STATUSES)}")
    if not repository.set_status(session, sender_id, status):
        raise NotFound("no organisation with this id")


def authenticate_sender(session: Session, *, authorization: str | None) -> Sender:
    """The active sender behind an `Authorization: Bearer <apiKey>` header."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized(
            "send the API key as 'Authorization: Bearer <apiKey>'", headers={"WWW-Authenticate": "Bearer"}
        )
    sender = repository.sender_by_key_hash(session, rules.hash_api_key(key.strip()))
    if sender is None:
        raise Unauthorized("the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
    if sender.status != "active":
        raise Forbidden("this organisation is suspended and may not deliver letters")
    return sender


def find_sender(session: Session, *, oin: str | None = None, sender_id: str | None = None) -> Sender:
    """The organisation with this OIN or id (operators name it so); NotFound when there is none."""
    if oin is not None:
        sender = repository.get_sender_by_oin(session, oin)
    else:
        parsed = parse_id(sender_id or "")
        sender = repository.get_sender(session, parsed) if parsed else None
    if sender is None:
        raise NotFound("no organisation with this OIN" if oin is not None else "no organisation with this id")
    return sender


def read_sender_name(session: Session, *, sender_id: uuid.UUID) -> str:
    """The organisation's name as citizens see it on their messages."""
    sender = repository.get_sender(session, sender_id)
    if sender is None:
        raise NotFound("no organisation with this id")
    return sender.name


# --- settings per message type ------------------------------------------------------------------


def set_unread_reminder_days(
    session: Session, *, sender_id: uuid.UUID, message_type: str, days: int
) -> MessageTypeSettingOut:
    """From now on, unread messages of this type are reminded after `days` days instead of the default."""
    if problem := rules.message_type_problem(message_type):
        raise ValidationFailed(f"messageType: {problem}")
    if problem := rules.unread_reminder_days_problem(days):
        raise ValidationFailed(f"unreadReminderDays: {problem}")
    row = repository.set_unread_reminder_days(session, sender_id, message_type, days, clock.now())
    return _setting_view(row)


def list_message_type_settings(session: Session, *, sender_id: uuid.UUID) -> MessageTypeSettingsOut:
    rows = repository.message_type_settings(session, sender_id)
    return MessageTypeSettingsOut(message_types=[_setting_view(row) for row in rows])


def remove_message_type_setting(session: Session, *, sender_id: uuid.UUID, message_type: str) -> None:
    """Messages of this type go back to the default reminder."""
    if problem := rules.message_type_problem(message_type):
        raise ValidationFailed(f"messageType: {problem}")
    if not repository.remove_message_type_setting(session, sender_id, message_type):
        raise NotFound("messageType: this organisation has no setting for this message type")


def find_unread_reminder_days(
    session: Session, *, keys: Iterable[tuple[uuid.UUID, str | None]]
) -> dict[tuple[uuid.UUID, str], int]:
    """The reminder days set for those (sender, message type) pairs that have a setting; the others are
    absent (the caller applies the default)."""
    return repository.unread_reminder_days(session, keys)


def _setting_view(row: MessageTypeSetting) -> MessageTypeSettingOut:
    return MessageTypeSettingOut(
        message_type=row.message_type,
        unread_reminder_days=row.unread_reminder_days,
        updated_at=row.updated_at,
    )
