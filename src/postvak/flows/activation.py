"""Activating a mailbox: from then on messages are delivered, and those that waited are delivered now."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from postvak.auth import credentials
from postvak.citizens import service as citizens
from postvak.citizens.models import Citizen
from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.notifications import service as notifications


def register_citizen(
    session: Session,
    *,
    keyring: KeyRing,
    bsn: str,
    email: str,
    password: str,
    totp_secret: str | None = None,
    activated: bool = True,
    language: str = "nl",
    hasher: PasswordHasher | None = None,
) -> tuple[Citizen, str]:
    """A citizen for the person with `bsn`, in their (found or new) mailbox, with a password and a TOTP
    secret (auth.credentials.register_citizen); returns them and the base32 secret.

    An `activated` citizen (operators, tests, the demo) has a verified e-mail address and an activated
    mailbox at once, so the messages that waited for it are delivered now; the others verify their
    address at first log-in (verify_email_address).
    """
    citizen, secret = credentials.register_citizen(
        session,
        keyring=keyring,
        bsn=bsn,
        email=email,
        password=password,
        totp_secret=totp_secret,
        activated=activated,
        language=language,
        hasher=hasher,
    )
    if activated:
        _deliver_waiting(session, citizen.mailbox_id)
    return citizen, secret


def verify_email_address(session: Session, *, citizen_id: uuid.UUID, code: str) -> str:
    """Check the e-mailed code; one of citizens.rules.code_outcome's answers.

    A right code verifies the address and activates the citizen and their mailbox (the first time),
    and the messages that waited are delivered.
    """
    outcome = citizens.verify_email_code(session, citizen_id=citizen_id, code=code)
    if outcome == "ok":
        _deliver_waiting(session, citizens.get_citizen(session, citizen_id=citizen_id).mailbox_id)
    return outcome


def _deliver_waiting(session: Session, mailbox_id: uuid.UUID) -> None:
    delivered = inbox.deliver_waiting_messages(session, mailbox_id=mailbox_id)
    # The citizen is looking at these messages right now: no notification, but their reminders.
    notifications.plan_message_reminders(session, message_ids=delivered, since=clock.now())
