"""Use cases of citizens: create one, verify e-mail addresses and a phone, keep preferences.

The citizen is the person with credentials (a username, a password, a second factor) and one mailbox;
the e-mails and pages call that their "account", the code calls it the citizen.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from postvak.citizens import repository, rules
from postvak.citizens.models import Citizen, EmailAddress, PendingChange
from postvak.citizens.schemas import ReachabilityRecipient
from postvak.errors import InvalidRecipient, NotFound, Problem, ValidationFailed
from postvak.kit import clock
from postvak.kit.bsn import bsn_problem
from postvak.kit.crypto import KeyRing, Sealed
from postvak.kit.ids import new_id, parse_id
from postvak.kit.validation import describe_errors


@dataclass(frozen=True)
class EmailCode:
    """A code to e-mail after the transaction commits (the row holds only its hash)."""

    address: str
    code: str
    language: str


def ensure_mailboxes(
    session: Session, *, recipients: set[repository.RecipientKey]
) -> dict[repository.RecipientKey, repository.MailboxRef]:
    """The mailbox of every (recipient type, value), created where there was none (messages are coming)."""
    return repository.ensure_mailboxes(session, recipients)


@dataclass(frozen=True)
class Reachability:
    """The answer about one recipient of a check: reachable or not, or a problem with the recipient."""

    index: int
    reachable: bool
    problem: Problem | None = None


def check_reachability(
    session: Session, *, sender_id: uuid.UUID, recipients: Sequence[Any]
) -> list[Reachability]:
    """Whether a letter from `sender_id` would reach each recipient digitally, in their order.

    Each recipient is judged alone: a malformed one or a BSN that fails the elfproef is not reachable,
    with a problem, and the others are answered. The valid ones are looked up in one query (however
    many: API.md allows 10,000), and the same recipient twice is answered twice.
    """
    checked: list[tuple[int, str | None, Problem | None]] = []
    for index, raw in enumerate(recipients):
        try:
            recipient = ReachabilityRecipient.model_validate(raw)
        except ValidationError as exc:
            checked.append((index, None, ValidationFailed(describe_errors(exc.errors(), whole="recipient"))))
            continue
        if problem := bsn_problem(recipient.value):
            checked.append((index, None, InvalidRecipient(f"value: {problem}")))
        else:
            checked.append((index, recipient.value, None))
    contacts = repository.contacts_of(session, "BSN", [value for _, value, _ in checked if value is not None])
    return [
        Reachability(index, False, problem)
        if value is None
        else Reachability(index, rules.is_reachable(contacts.get(value), sender_id=sender_id))
        for index, value, problem in checked
    ]


def create_citizen(
    session: Session,
    *,
    bsn: str,
    email: str,
    password_hash: str,
    language: str = "nl",
    activated: bool = True,
) -> Citizen:
    """A citizen: the person with `bsn`, in their (found or new) mailbox; auth.credentials calls this
    with the citizen's password hash and then adds their TOTP secret.

    `activated` citizens (operators, tests, the demo) have a verified e-mail address and an activated
    mailbox at once (the messages that waited are delivered by flows.activation); the others verify
    their address at first log-in.
    """
    if problem := bsn_problem(bsn):
        raise InvalidRecipient(problem)
    email = rules.normalise_email(email)
    if problem := rules.email_problem(email):
        raise ValidationFailed(f"email: {problem}")
    if language not in rules.LANGUAGES:
        raise ValidationFailed(f"language: one of {', '.join(rules.LANGUAGES)}")
    username = rules.username_for(email)
    if repository.citizen_by_username(session, username):
        raise ValidationFailed("email: an account with this e-mail address already exists")
    mailbox = repository.ensure_mailboxes(session, [("BSN", bsn)])[("BSN", bsn)]
    if repository.citizen_of_mailbox(session, mailbox.id):
        raise ValidationFailed("bsn: this person already has an account")

    now = clock.now()
    citizen = Citizen(
        id=new_id(),
        mailbox_id=mailbox.id,
        username=username,
        password_hash=password_hash,
        language=language,
        sms_notifications=False,
        created_at=now,
        activated_at=now if activated else None,
    )
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
    return citizen


def get_citizen(session: Session, *, citizen_id: uuid.UUID) -> Citizen | None:
    return repository.get_citizen(session, citizen_id)


def find_citizen(session: Session, *, username: str) -> Citizen | None:
    """`username` as stored: rules.username_for of the address the citizen typed."""
    return repository.citizen_by_username(session, username)


def lock_citizen(session: Session, *, citizen_id: uuid.UUID) -> Citizen | None:
    """The citizen, locked for this transaction: two changes to its addresses or second factors
    queue up here, so that "never the last one" cannot be raced past by removing two at once."""
    return repository.lock_citizen(session, citizen_id)


# --- verifying an e-mail address (activation) ------------------------------------------------


def request_email_code(session: Session, *, citizen_id: uuid.UUID, address: str) -> EmailCode:
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
    code = _new_code()
    row.code_hash = rules.code_hash(row.id, code)
    row.code_expires_at = now + rules.CODE_LIFETIME
    row.code_attempts = 0
    session.flush()
    return EmailCode(address=address, code=code, language=citizen.language)


def verify_email_code(session: Session, *, citizen_id: uuid.UUID, code: str) -> str:
    """Check the e-mailed code; returns rules.code_outcome's answer.

    When right, the address is verified and the citizen and their mailbox are activated: from now
    on messages are delivered, no longer unreachable (those that waited: flows.activation).
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


def find_address_awaiting_code(session: Session, *, citizen_id: uuid.UUID) -> str | None:
    """The unverified address a code was last sent to, also when that code has expired."""
    row = repository.pending_email_address(session, citizen_id)
    return row.address if row else None


# --- settings: as the citizen sees them --------------------------------------------------


@dataclass(frozen=True)
class AddressView:
    id: uuid.UUID
    address: str
    verified: bool
    awaiting_code: bool  # the address the last code went to, while that code is valid


@dataclass(frozen=True)
class CitizenSettings:
    username: str
    language: str
    addresses: list[AddressView]
    phone: str | None  # verified number, E.164
    pending_phone: str | None  # a number whose SMS code has not been entered yet
    sms_notifications: bool
    daily_digest: bool  # messages that ask nothing come in one e-mail a day

    @property
    def verified_addresses(self) -> int:
        return sum(address.verified for address in self.addresses)


def read_settings(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID) -> CitizenSettings:
    citizen = repository.get_citizen(session, citizen_id)
    pending = repository.pending_email_address(session, citizen_id)
    if pending is not None and clock.as_utc(pending.code_expires_at) <= clock.now():
        pending = None
    addresses = [
        AddressView(
            id=row.id,
            address=row.address,
            verified=row.verified_at is not None,
            awaiting_code=pending is not None and row.id == pending.id,
        )
        for row in repository.email_addresses(session, citizen_id)
    ]
    return CitizenSettings(
        username=citizen.username,
        language=citizen.language,
        addresses=addresses,
        phone=citizen.phone if citizen.phone_verified_at else None,
        pending_phone=open_pending_change(session, keyring=keyring, citizen_id=citizen_id, kind="phone"),
        sms_notifications=citizen.sms_notifications and citizen.phone_verified_at is not None,
        daily_digest=citizen.daily_digest,
    )


def set_language(session: Session, *, citizen_id: uuid.UUID, language: str) -> None:
    """The language of the pages (on every device, unless one chose otherwise) and of our e-mails."""
    if language not in rules.LANGUAGES:
        raise ValidationFailed(f"language: one of {', '.join(rules.LANGUAGES)}")
    repository.lock_citizen(session, citizen_id).language = language
    session.flush()


# --- settings: e-mail addresses --------------------------------------------------------------


def add_email_address(session: Session, *, citizen_id: uuid.UUID, address: str) -> EmailCode:
    """Another address for notifications, verified by an e-mailed code as at activation."""
    address = rules.normalise_email(address)
    if rules.email_problem(address):
        raise ValidationFailed(rules.NOT_AN_EMAIL)
    repository.lock_citizen(session, citizen_id)
    rows = repository.email_addresses(session, citizen_id)
    # Mailboxes that differ only in case are one mailbox in practice.
    existing = next((row for row in rows if row.address.casefold() == address.casefold()), None)
    if existing is not None and existing.verified_at is not None:
        raise ValidationFailed("This e-mail address is already on your account.")
    if existing is None and (problem := rules.email_limit_problem(len(rows))):
        raise ValidationFailed(problem)
    return request_email_code(
        session, citizen_id=citizen_id, address=existing.address if existing else address
    )


def remove_email_address(session: Session, *, citizen_id: uuid.UUID, address_id: str) -> None:
    """Any address may go except the last verified one: notifications must reach the citizen."""
    repository.lock_citizen(session, citizen_id)
    parsed = parse_id(address_id)
    row = repository.email_address_by_id(session, citizen_id, parsed) if parsed else None
    if row is None:
        raise NotFound("no e-mail address with this id")  # also when it is someone else's
    verified = repository.count_verified_addresses(session, citizen_id)
    if problem := rules.email_removal_problem(verified=row.verified_at is not None, verified_count=verified):
        raise ValidationFailed(problem)
    repository.remove(session, row)


# --- settings: a phone number for SMS --------------------------------------------------------


@dataclass(frozen=True)
class PhoneCode:
    """A code to send by SMS after the transaction commits (the row holds only its hash)."""

    number: str
    code: str
    language: str
    reference: str


def request_phone_code(
    session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, number: str
) -> PhoneCode:
    """Start verifying a mobile number: a 6-digit code, valid 15 minutes, 5 tries.

    The verified number (if any) stays in use until the new one is verified.
    """
    number = rules.normalise_phone(number)
    if problem := rules.phone_problem(number):
        raise ValidationFailed(problem)
    citizen = repository.lock_citizen(session, citizen_id)
    if citizen.phone == number and citizen.phone_verified_at is not None:
        raise ValidationFailed("This number is verified already.")
    code = _new_code()
    keep_pending_change(
        session,
        keyring=keyring,
        citizen_id=citizen_id,
        kind="phone",
        value=number,
        code_hash=rules.code_hash(citizen_id, code),
        lifetime=rules.CODE_LIFETIME,
    )
    return PhoneCode(number=number, code=code, language=citizen.language, reference=f"phone-{new_id()}")


def verify_phone_code(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, code: str) -> str:
    """Check the SMS code; returns rules.code_outcome's answer. When right, the number is verified."""
    row = repository.pending_change(session, citizen_id, "phone", for_update=True)
    if row is None:
        return "none"
    now = clock.now()
    outcome = rules.code_outcome(
        stored_hash=row.code_hash,
        expires_at=clock.as_utc(row.expires_at),
        attempts=row.attempts,
        address_id=citizen_id,
        code=rules.normalise_code(code),
        now=now,
    )
    if outcome == "wrong":
        row.attempts += 1
    elif outcome == "ok":
        citizen = repository.lock_citizen(session, citizen_id)
        citizen.phone, citizen.phone_verified_at = _open(keyring, row), now
        repository.remove(session, row)
    session.flush()
    return outcome


def find_phone_awaiting_code(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID) -> str | None:
    """The number a code was last sent to, also when that code has expired (the page then says so)."""
    row = repository.pending_change(session, citizen_id, "phone")
    return _open(keyring, row) if row else None


def remove_phone(session: Session, *, citizen_id: uuid.UUID) -> None:
    citizen = repository.lock_citizen(session, citizen_id)
    citizen.phone, citizen.phone_verified_at, citizen.sms_notifications = None, None, False
    drop_pending_change(session, citizen_id=citizen_id, kind="phone")
    session.flush()


def set_sms_notifications(session: Session, *, citizen_id: uuid.UUID, on: bool) -> None:
    citizen = repository.lock_citizen(session, citizen_id)
    if on and citizen.phone_verified_at is None:
        raise ValidationFailed("Add and verify a mobile number first.")
    citizen.sms_notifications = on
    session.flush()


def set_daily_digest(session: Session, *, citizen_id: uuid.UUID, on: bool) -> None:
    """Messages that ask nothing (no action, no deadline, no confirmation) in one e-mail a day, or each in
    its own. Messages that ask something are e-mailed at once either way: the notification job decides."""
    repository.lock_citizen(session, citizen_id).daily_digest = on
    session.flush()


# --- key rotation ----------------------------------------------------------------------------


def rewrap_pending_keys(session: Session, *, keyring: KeyRing, limit: int = 500) -> int:
    """Re-wrap up to `limit` sealed pending changes' data keys (a phone number, a new TOTP secret) under
    the active key, also expired ones: their data is still sealed under the older key. Returns how
    many were looked at: call again (in a new transaction) until it returns 0."""
    rows = repository.pending_keys_not_under(session, keyring.active_id, limit)
    for row in rows:
        kek_id, wrapped = keyring.rewrap(row.kek_id, row.wrapped_key, _pending_aad(row.citizen_id, row.kind))
        repository.replace_pending_key(session, row, kek_id, wrapped)
    return len(rows)


# --- changes waiting for their proof, sealed (a phone number here, a new TOTP secret in auth) ------


@dataclass(frozen=True)
class PendingValue:
    """A pending change, opened: the value, and how far it is in its tries and its lifetime."""

    value: str
    attempts: int
    expires_at: datetime


def keep_pending_change(
    session: Session,
    *,
    keyring: KeyRing,
    citizen_id: uuid.UUID,
    kind: str,
    value: str,
    lifetime: timedelta,
    code_hash: str | None = None,
) -> None:
    """Replace any earlier pending change of this kind: only the latest code or secret counts."""
    sealed = keyring.seal(value.encode(), _pending_aad(citizen_id, kind))
    now = clock.now()
    row = repository.pending_change(session, citizen_id, kind, for_update=True)
    if row is None:
        row = PendingChange(citizen_id=citizen_id, kind=kind, created_at=now)
        session.add(row)
    row.sealed, row.sealed_key, row.kek_id = sealed.ciphertext, sealed.wrapped_key, sealed.kek_id
    row.code_hash, row.attempts, row.expires_at, row.created_at = code_hash, 0, now + lifetime, now
    session.flush()


def open_pending_change(
    session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, kind: str
) -> str | None:
    """The value of the pending change of this kind, opened with the key ring, while it has not expired."""
    row = repository.pending_change(session, citizen_id, kind)
    if row is None or clock.as_utc(row.expires_at) <= clock.now():
        return None
    return _open(keyring, row)


def lock_pending_change(
    session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, kind: str
) -> PendingValue | None:
    """The pending change of this kind, locked for this transaction, also when it has expired."""
    row = repository.pending_change(session, citizen_id, kind, for_update=True)
    if row is None:
        return None
    return PendingValue(_open(keyring, row), row.attempts, clock.as_utc(row.expires_at))


def count_failed_proof(session: Session, *, citizen_id: uuid.UUID, kind: str) -> None:
    """A wrong code or proof: one try fewer is left (rules.MAX_CODE_ATTEMPTS in all)."""
    repository.count_pending_attempt(session, citizen_id, kind)


def drop_pending_change(session: Session, *, citizen_id: uuid.UUID, kind: str) -> None:
    repository.drop_pending_change(session, citizen_id, kind)


def _open(keyring: KeyRing, row: PendingChange) -> str:
    sealed = Sealed(kek_id=row.kek_id, wrapped_key=row.sealed_key, ciphertext=row.sealed)
    return keyring.open(sealed, _pending_aad(row.citizen_id, row.kind)).decode()


def _pending_aad(citizen_id: uuid.UUID, kind: str) -> bytes:
    """Bound to its citizen and kind: a sealed phone number cannot be moved to be a TOTP secret."""
    return citizen_id.bytes + b"|pending|" + kind.encode()


def _new_code() -> str:
    return f"{secrets.randbelow(10**rules.CODE_DIGITS):0{rules.CODE_DIGITS}d}"
