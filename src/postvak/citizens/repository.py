"""Every query about mailboxes, citizens' accounts and their e-mail addresses."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postvak.citizens.models import Citizen, EmailAddress, Mailbox
from postvak.kit import clock
from postvak.kit.ids import new_id
from postvak.kit.sql import insert_ignoring_conflicts

RecipientKey = tuple[str, str]  # (recipient type, value)
_CHUNK = 1000


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
    """From now on letters to this mailbox are delivered, not unreachable (first activation wins)."""
    session.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id, Mailbox.activated_at.is_(None))
        .values(activated_at=at)
    )


# --- citizens --------------------------------------------------------------------------------


def add(session: Session, row: Citizen | EmailAddress) -> None:
    session.add(row)
    session.flush()


def get_citizen(session: Session, citizen_id: uuid.UUID) -> Citizen | None:
    return session.get(Citizen, citizen_id)


def citizen_by_username(session: Session, username: str) -> Citizen | None:
    return session.scalars(select(Citizen).where(Citizen.username == username)).first()


def citizen_of_mailbox(session: Session, mailbox_id: uuid.UUID) -> Citizen | None:
    return session.scalars(select(Citizen).where(Citizen.mailbox_id == mailbox_id)).first()


def advance_totp_step(session: Session, citizen_id: uuid.UUID, step: int) -> bool:
    """Record `step` as the last TOTP step used, only if it is newer: one statement, so two
    requests racing with the same code cannot both win."""
    result = session.execute(
        update(Citizen)
        .where(Citizen.id == citizen_id, Citizen.totp_last_step < step)
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def set_password_hash(session: Session, citizen_id: uuid.UUID, password_hash: str) -> None:
    session.execute(update(Citizen).where(Citizen.id == citizen_id).values(password_hash=password_hash))


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
