"""Every query about mailboxes, citizens' accounts, their e-mail addresses and pending changes."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from postvak.citizens.models import Citizen, EmailAddress, Mailbox, PendingChange
from postvak.citizens.rules import Contact
from postvak.kit import clock
from postvak.kit.ids import new_id
from postvak.kit.sql import insert_ignoring_conflicts

RecipientKey = tuple[str, str]  # (recipient type, value)
_CHUNK = 1000
# Values in one IN list: a whole reachability check (10,000) in one query, well below what both
# databases take in one statement (SQLite 32,766 parameters, PostgreSQL 65,535).
_PARAMETERS = 10_000


@dataclass(frozen=True)
class MailboxRef:
    id: uuid.UUID
    activated: bool


def ensure_mailboxes(session: Session, recipients: Iterable[RecipientKey]) -> dict[RecipientKey, MailboxRef]:
    """The mailbox of every recipient, created where there was none (in this transaction)."""
    wanted = set(recipients)
    found = _find(session, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        now = clock.now()
        rows = [
            {"id": new_id(), "recipient_type": t, "recipient_value": v, "created_at": now} for t, v in missing
        ]
        insert_ignoring_conflicts(session, Mailbox.__table__, rows, ["recipient_type", "recipient_value"])
        found.update(_find(session, set(missing)))  # ours, or a concurrent request's
    return found


def _find(session: Session, keys: set[RecipientKey]) -> dict[RecipientKey, MailboxRef]:
    """Looked up per type with `value IN (…)`: a row-value IN list plans badly on PostgreSQL."""
    found: dict[RecipientKey, MailboxRef] = {}
    for kind in {t for t, _ in keys}:
        values = sorted(v for t, v in keys if t == kind)
        for start in range(0, len(values), _CHUNK):
            query = select(Mailbox.id, Mailbox.recipient_value, Mailbox.activated_at).where(
                Mailbox.recipient_type == kind, Mailbox.recipient_value.in_(values[start : start + _CHUNK])
            )
            for mailbox_id, value, activated_at in session.execute(query):
                found[(kind, value)] = MailboxRef(mailbox_id, activated_at is not None)
    return found


def activate_mailbox(session: Session, mailbox_id: uuid.UUID, at: datetime) -> None:
    """From now on messages to this mailbox are delivered, not unreachable (first activation wins)."""
    session.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id, Mailbox.activated_at.is_(None))
        .values(activated_at=at)
    )


def contacts_of(session: Session, recipient_type: str, values: Iterable[str]) -> dict[str, Contact]:
    """What reachability needs of each recipient that has a mailbox, in one query for a whole check:
    the unique (recipient_type, recipient_value) index finds the mailboxes, citizens.mailbox_id and
    email_addresses.citizen_id the rest. Recipients without a mailbox are absent."""
    wanted = sorted(set(values))
    verified_email = (
        exists()
        .where(EmailAddress.citizen_id == Citizen.id, EmailAddress.verified_at.is_not(None))
        .correlate(Citizen)
    )
    found: dict[str, Contact] = {}
    for start in range(0, len(wanted), _PARAMETERS):
        query = (
            select(
                Mailbox.recipient_value,
                Mailbox.activated_at,
                Citizen.phone_verified_at,
                Citizen.sms_notifications,
                verified_email.label("verified_email"),
            )
            .select_from(Mailbox)
            .outerjoin(Citizen, Citizen.mailbox_id == Mailbox.id)
            .where(
                Mailbox.recipient_type == recipient_type,
                Mailbox.recipient_value.in_(wanted[start : start + _PARAMETERS]),
            )
        )
        for value, activated_at, phone_verified_at, sms_on, has_email in session.execute(query):
            found[value] = Contact(
                activated=activated_at is not None,
                verified_email=bool(has_email),
                sms_chosen=phone_verified_at is not None and bool(sms_on),
            )
    return found


# --- citizens --------------------------------------------------------------------------------


def add(session: Session, row: Citizen | EmailAddress | PendingChange) -> None:
    session.add(row)
    session.flush()


def remove(session: Session, row: EmailAddress | PendingChange) -> None:
    session.delete(row)
    session.flush()


def get_citizen(session: Session, citizen_id: uuid.UUID) -> Citizen | None:
    return session.get(Citizen, citizen_id)


def lock_citizen(session: Session, citizen_id: uuid.UUID) -> Citizen | None:
    """The account, locked for this transaction: two changes to its addresses or second factors
    queue up here, so that "never the last one" cannot be raced past by removing two at once."""
    query = select(Citizen).where(Citizen.id == citizen_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).first()


def citizen_by_username(session: Session, username: str) -> Citizen | None:
    return session.scalars(select(Citizen).where(Citizen.username == username)).first()


def citizen_of_mailbox(session: Session, mailbox_id: uuid.UUID) -> Citizen | None:
    return session.scalars(select(Citizen).where(Citizen.mailbox_id == mailbox_id)).first()


def mark_citizen_activated(session: Session, citizen_id: uuid.UUID, at: datetime) -> None:
    session.execute(
        update(Citizen)
        .where(Citizen.id == citizen_id, Citizen.activated_at.is_(None))
        .values(activated_at=at)
    )


# --- e-mail addresses ------------------------------------------------------------------------


def email_address(
    session: Session, citizen_id: uuid.UUID, address: str, *, for_update: bool = False
) -> EmailAddress | None:
    query = select(EmailAddress).where(EmailAddress.citizen_id == citizen_id, EmailAddress.address == address)
    return session.scalars(query.with_for_update() if for_update else query).first()


def pending_email_address(
    session: Session, citizen_id: uuid.UUID, *, for_update: bool = False
) -> EmailAddress | None:
    """The unverified address a code was last sent to."""
    query = (
        select(EmailAddress)
        .where(
            EmailAddress.citizen_id == citizen_id,
            EmailAddress.verified_at.is_(None),
            EmailAddress.code_hash.is_not(None),
        )
        .order_by(EmailAddress.code_expires_at.desc())
        .limit(1)
    )
    return session.scalars(query.with_for_update() if for_update else query).first()


def email_addresses(session: Session, citizen_id: uuid.UUID) -> list[EmailAddress]:
    query = (
        select(EmailAddress)
        .where(EmailAddress.citizen_id == citizen_id)
        .order_by(EmailAddress.created_at, EmailAddress.address)
    )
    return list(session.scalars(query))


def email_address_by_id(
    session: Session, citizen_id: uuid.UUID, address_id: uuid.UUID
) -> EmailAddress | None:
    """Scoped to its owner: another citizen's address id finds nothing."""
    query = select(EmailAddress).where(EmailAddress.id == address_id, EmailAddress.citizen_id == citizen_id)
    return session.scalars(query).first()


def count_verified_addresses(session: Session, citizen_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        EmailAddress.citizen_id == citizen_id, EmailAddress.verified_at.is_not(None)
    )
    return session.scalar(query.select_from(EmailAddress)) or 0


# --- changes waiting for their proof ---------------------------------------------------------


def pending_change(
    session: Session, citizen_id: uuid.UUID, kind: str, *, for_update: bool = False
) -> PendingChange | None:
    query = select(PendingChange).where(PendingChange.citizen_id == citizen_id, PendingChange.kind == kind)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def count_pending_attempt(session: Session, citizen_id: uuid.UUID, kind: str) -> None:
    session.execute(
        update(PendingChange)
        .where(PendingChange.citizen_id == citizen_id, PendingChange.kind == kind)
        .values(attempts=PendingChange.attempts + 1)
    )


def drop_pending_change(session: Session, citizen_id: uuid.UUID, kind: str) -> None:
    session.execute(
        delete(PendingChange)
        .where(PendingChange.citizen_id == citizen_id, PendingChange.kind == kind)
        .execution_options(synchronize_session=False)
    )


# --- key rotation: pending changes whose data key is wrapped under an older key ----------------


@dataclass(frozen=True)
class WrappedKey:
    """Where one pending change's data key is, and under which key it is wrapped."""

    citizen_id: uuid.UUID
    kind: str  # the pending change's kind
    kek_id: str
    wrapped_key: bytes


def pending_keys_not_under(session: Session, kek_id: str, limit: int) -> list[WrappedKey]:
    query = (
        select(PendingChange.citizen_id, PendingChange.kind, PendingChange.kek_id, PendingChange.sealed_key)
        .where(PendingChange.kek_id != kek_id)
        .order_by(PendingChange.citizen_id, PendingChange.kind)
        .limit(limit)
    )
    return [WrappedKey(cid, kind, kid, key) for cid, kind, kid, key in session.execute(query)]


def replace_pending_key(session: Session, old: WrappedKey, kek_id: str, wrapped_key: bytes) -> bool:
    """Only if the pending change is still the one whose key was re-wrapped (every new code replaces it)."""
    result = session.execute(
        update(PendingChange)
        .where(
            PendingChange.citizen_id == old.citizen_id,
            PendingChange.kind == old.kind,
            PendingChange.sealed_key == old.wrapped_key,
        )
        .values(kek_id=kek_id, sealed_key=wrapped_key)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
