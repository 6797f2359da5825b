"""Use cases of citizens' accounts: create one, seal its TOTP secret, verify an e-mail address."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from postvak.auth import passwords
from postvak.auth.rules import password_problem
from postvak.citizens import repository, rules
from postvak.citizens.models import Citizen, EmailAddress
from postvak.config import get_settings
from postvak.errors import InvalidRecipient, ValidationFailed
from postvak.kit import clock
from postvak.kit.bsn import bsn_problem
from postvak.kit.crypto import KeyRing, Sealed
from postvak.kit.ids import new_id


@dataclass(frozen=True)
class EmailCode:
    """A code to e-mail after the transaction commits (the row holds only its hash)."""

    address: str
    code: str
    language: str


def create_citizen(
    session: Session,
    keyring: KeyRing,
    *,
    bsn: str,
    email: str,
    password: str,
    totp_secret: str | None = None,
    activated: bool = True,
    language: str = "nl",
    hasher: PasswordHasher | None = None,
) -> tuple[Citizen, str]:
    """An account for the person with `bsn`, in their (found or new) mailbox.

    Returns the account and its base32 TOTP secret. `activated` accounts (operators, tests,
    the demo) have a verified e-mail address and an activated mailbox at once; the others
    verify their address at first log-in. `hasher` defaults to the configured argon2 cost.
    """
    if problem := bsn_problem(bsn):
        raise InvalidRecipient(problem)
    email = rules.normalise_email(email)
    if problem := rules.email_problem(email):
        raise ValidationFailed(f"email: {problem}")
    username = rules.username_for(email)
    if problem := password_problem(password, username=username, common=passwords.common_passwords()):
        raise ValidationFailed(f"password: {problem}")
    if language not in rules.LANGUAGES:
        raise ValidationFailed(f"language: one of {', '.join(rules.LANGUAGES)}")
    secret = (totp_secret or pyotp.random_base32()).strip().upper()
    if problem := rules.totp_secret_problem(secret):
        raise ValidationFailed(f"totpSecret: {problem}")
    if repository.citizen_by_username(session, username):
        raise ValidationFailed("email: an account with this e-mail address already exists")
    mailbox = repository.ensure_mailboxes(session, [("BSN", bsn)])[("BSN", bsn)]
    if repository.citizen_of_mailbox(session, mailbox.id):
        raise ValidationFailed("bsn: this person already has an account")

    now = clock.now()
    hasher = hasher or passwords.hasher_for(get_settings())
    citizen = Citizen(
        id=new_id(),
        mailbox_id=mailbox.id,
        username=username,
        password_hash=passwords.hash_password(hasher, password),
        totp_last_step=0,
        language=language,
        sms_notifications=False,
        created_at=now,
        activated_at=now if activated else None,
    )
    _seal_totp_secret(keyring, citizen, secret)
    repository.add(session, citizen)
    repository.add(
        session,
        EmailAddress(
            id=new_id(),
            citizen_id=citizen.id,
            address=email,
            verified_at=now if activated else None,
            code_attempts=0,
            created_at=now,
        ),
    )
    if activated:
        repository.activate_mailbox(session, mailbox.id, now)
    return citizen, secret


def _seal_totp_secret(keyring: KeyRing, citizen: Citizen, secret: str) -> None:
    sealed = keyring.seal(secret.encode(), citizen.id.bytes)
    citizen.totp_sealed, citizen.totp_key, citizen.totp_kek_id = (
        sealed.ciphertext,
        sealed.wrapped_key,
        sealed.kek_id,
    )


def totp_secret_of(keyring: KeyRing, citizen: Citizen) -> str | None:
    """The citizen's TOTP secret, opened with the key ring (None when there is none)."""
    if citizen.totp_sealed is None or citizen.totp_key is None or citizen.totp_kek_id is None:
        return None
    sealed = Sealed(kek_id=citizen.totp_kek_id, wrapped_key=citizen.totp_key, ciphertext=citizen.totp_sealed)
    return keyring.open(sealed, citizen.id.bytes).decode()


# --- verifying an e-mail address (activation) ------------------------------------------------


def request_email_code(session: Session, citizen_id: uuid.UUID, address: str) -> EmailCode:
    """Start verifying `address`: a fresh 6-digit code, valid 15 minutes, 5 tries.

    A new code replaces any earlier one for that address. Send it after the commit.
    """
    address = rules.normalise_email(address)
    if problem := rules.email_problem(address):
        raise ValidationFailed(problem)
    citizen = repository.get_citizen(session, citizen_id)
    now = clock.now()
    row = repository.email_address(session, citizen_id, address, for_update=True)
    if row is None:
        row = EmailAddress(
            id=new_id(), citizen_id=citizen_id, address=address, code_attempts=0, created_at=now
        )
        repository.add(session, row)
    code = f"{secrets.randbelow(10**rules.CODE_DIGITS):0{rules.CODE_DIGITS}d}"
    row.code_hash = rules.code_hash(row.id, code)
    row.code_expires_at = now + rules.CODE_LIFETIME
    row.code_attempts = 0
    session.flush()
    return EmailCode(address=address, code=code, language=citizen.language)


def verify_email_code(session: Session, citizen_id: uuid.UUID, code: str) -> str:
    """Check the e-mailed code; returns rules.code_outcome's answer.

    When right, the address is verified and the account and its mailbox are activated:
    from now on letters are delivered, no longer unreachable.
    """
    row = repository.pending_email_address(session, citizen_id, for_update=True)
    if row is None:
        return "none"
    now = clock.now()
    outcome = rules.code_outcome(
        stored_hash=row.code_hash,
        expires_at=clock.as_utc(row.code_expires_at) if row.code_expires_at else None,
        attempts=row.code_attempts,
        address_id=row.id,
        code=code.strip(),
        now=now,
    )
    if outcome == "wrong":
        row.code_attempts += 1
    elif outcome == "ok":
        row.verified_at, row.code_hash, row.code_expires_at = now, None, None
        citizen = repository.get_citizen(session, citizen_id)
        repository.mark_citizen_activated(session, citizen_id, now)
        repository.activate_mailbox(session, citizen.mailbox_id, now)
    session.flush()
    return outcome


def pending_address(session: Session, citizen_id: uuid.UUID) -> str | None:
    row = repository.pending_email_address(session, citizen_id)
    return row.address if row else None
