"""Use cases of a citizen's credentials: the password, the TOTP secret and passkeys, from creation to removal.

The person (who, which mailbox, which language) is citizens'; auth reads it through citizens.service
and keeps the credentials: the passkeys table, and the password hash and TOTP columns of the citizen.
"Account" here is only the authenticator app's word: the entry in the app that holds the TOTP secret.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from postvak.auth import passkeys, passwords, repository, rules
from postvak.auth.models import Passkey
from postvak.auth.passkeys import PasskeyRejected, RelyingParty
from postvak.citizens import service as citizens
from postvak.citizens.models import Citizen
from postvak.citizens.rules import MAX_CODE_ATTEMPTS, normalise_code, username_for
from postvak.config import get_settings
from postvak.errors import NotFound, ValidationFailed
from postvak.kit import clock
from postvak.kit.crypto import KeyRing, Sealed
from postvak.kit.ids import new_id, parse_id

NEW_TOTP = "totp"  # the kind of citizens' pending change that holds a new secret until its first code


# --- a citizen with credentials ---------------------------------------------------------------


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
    """A citizen (citizens.create_citizen) who can log in: their password hashed with argon2id, and a
    TOTP secret (`totp_secret`, or a new one) sealed with the key ring. Returns the citizen and the
    base32 secret. The credentials are checked before the person; `hasher` defaults to the configured
    argon2 cost.
    """
    username = username_for(email)
    if problem := rules.password_problem(password, username=username, common=passwords.common_passwords()):
        raise ValidationFailed(f"password: {problem}")
    secret = (totp_secret or pyotp.random_base32()).strip().upper()
    if problem := rules.totp_secret_problem(secret):
        raise ValidationFailed(f"totpSecret: {problem}")
    hasher = hasher or passwords.hasher_for(get_settings())
    citizen = citizens.create_citizen(
        session,
        bsn=bsn,
        email=email,
        password_hash=passwords.hash_password(hasher, password),
        language=language,
        activated=activated,
    )
    _seal_totp_secret(keyring, citizen, secret)
    session.flush()
    return citizen, secret


# --- the authenticator app (TOTP) ------------------------------------------------------------


@dataclass(frozen=True)
class NewTotp:
    """A new TOTP secret waiting for its first code; it replaces the old one only then."""

    secret: str
    account: str  # the name the authenticator app shows for its entry: the username
    uri: str  # otpauth://, for apps that take a link

    @property
    def grouped(self) -> str:
        return rules.group_secret(self.secret)


def open_totp_secret(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID) -> str | None:
    """The citizen's TOTP secret, opened with the key ring (None when there is none)."""
    citizen = citizens.get_citizen(session, citizen_id=citizen_id)
    if citizen.totp_sealed is None or citizen.totp_key is None or citizen.totp_kek_id is None:
        return None
    sealed = Sealed(kek_id=citizen.totp_kek_id, wrapped_key=citizen.totp_key, ciphertext=citizen.totp_sealed)
    return keyring.open(sealed, citizen.id.bytes).decode()


def verify_totp(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, code: str) -> bool:
    """A code of the citizen's app, accepted once: its time step must be newer than the last one
    accepted, and recording it is one statement, so two requests racing with one code cannot both win."""
    citizen = citizens.get_citizen(session, citizen_id=citizen_id)
    secret = open_totp_secret(session, keyring=keyring, citizen_id=citizen_id)
    steps = rules.totp_candidate_steps(clock.now(), citizen.totp_last_step)
    step = rules.totp_matching_step(secret, normalise_code(code), steps) if secret else None
    return step is not None and repository.advance_totp_step(session, citizen_id, step)


def start_totp_replacement(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID) -> None:
    """A fresh secret for a new authenticator app; the current one keeps working meanwhile."""
    citizens.lock_citizen(session, citizen_id=citizen_id)
    citizens.keep_pending_change(
        session,
        keyring=keyring,
        citizen_id=citizen_id,
        kind=NEW_TOTP,
        value=pyotp.random_base32(),
        lifetime=rules.NEW_TOTP_LIFETIME,
    )


def open_new_totp(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID) -> NewTotp | None:
    """The secret waiting for its first code, opened for the page that shows it (None: none waits)."""
    secret = citizens.open_pending_change(session, keyring=keyring, citizen_id=citizen_id, kind=NEW_TOTP)
    if secret is None:
        return None
    username = citizens.get_citizen(session, citizen_id=citizen_id).username
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Postvak")
    return NewTotp(secret, username, uri)


def confirm_totp_replacement(session: Session, *, keyring: KeyRing, citizen_id: uuid.UUID, code: str) -> str:
    """A code from the NEW secret replaces the old secret; one of "ok", "wrong", "exhausted", "none".

    The code's time step is recorded as used, so it cannot log anyone in afterwards.
    """
    pending = citizens.lock_pending_change(session, keyring=keyring, citizen_id=citizen_id, kind=NEW_TOTP)
    now = clock.now()
    if pending is None or pending.expires_at <= now:
        return "none"
    if pending.attempts >= MAX_CODE_ATTEMPTS:
        return "exhausted"
    current = rules.totp_step(now)
    step = rules.totp_matching_step(pending.value, normalise_code(code), [current, current - 1, current + 1])
    if step is None:
        citizens.count_failed_proof(session, citizen_id=citizen_id, kind=NEW_TOTP)
        return "wrong"
    citizen = citizens.lock_citizen(session, citizen_id=citizen_id)
    _seal_totp_secret(keyring, citizen, pending.value)
    citizen.totp_last_step = max(citizen.totp_last_step, step)
    citizens.drop_pending_change(session, citizen_id=citizen_id, kind=NEW_TOTP)
    session.flush()
    return "ok"


def remove_totp(session: Session, *, citizen_id: uuid.UUID) -> None:
    """Only when a passkey remains: the second factor is always on."""
    citizen = citizens.lock_citizen(session, citizen_id=citizen_id)
    problem = rules.factor_removal_problem(
        has_totp=citizen.totp_sealed is not None,
        passkeys=len(repository.passkeys_of(session, citizen_id)),
        removing="totp",
    )
    if problem:
        raise ValidationFailed(problem)
    citizen.totp_sealed, citizen.totp_key, citizen.totp_kek_id = None, None, None
    citizens.drop_pending_change(session, citizen_id=citizen_id, kind=NEW_TOTP)
    session.flush()


def rewrap_totp_keys(session: Session, *, keyring: KeyRing, limit: int = 500) -> int:
    """Re-wrap up to `limit` TOTP secrets' data keys under the active key; the sealed secrets stay as
    they are. Returns how many were looked at: call again (in a new transaction) until it returns 0.

    A secret replaced meanwhile keeps its new key (sealed under the key its request had active).
    """
    rows = repository.totp_keys_not_under(session, keyring.active_id, limit)
    for row in rows:
        kek_id, wrapped = keyring.rewrap(row.kek_id, row.wrapped_key, row.citizen_id.bytes)
        repository.replace_totp_key(session, row, kek_id, wrapped)
    return len(rows)


def _seal_totp_secret(keyring: KeyRing, citizen: Citizen, secret: str) -> None:
    sealed = keyring.seal(secret.encode(), citizen.id.bytes)
    citizen.totp_sealed, citizen.totp_key, citizen.totp_kek_id = (
        sealed.ciphertext,
        sealed.wrapped_key,
        sealed.kek_id,
    )


# --- the second factors as the settings page lists them --------------------------------------


@dataclass(frozen=True)
class PasskeyView:
    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class SecondFactors:
    has_totp: bool
    passkeys: list[PasskeyView]

    @property
    def count(self) -> int:
        return len(self.passkeys) + self.has_totp

    @property
    def passkey_limit_reached(self) -> bool:
        return rules.passkey_limit_problem(len(self.passkeys)) is not None


def list_second_factors(session: Session, *, citizen_id: uuid.UUID) -> SecondFactors:
    citizen = citizens.get_citizen(session, citizen_id=citizen_id)
    views = [
        PasskeyView(
            p.id, p.name, clock.as_utc(p.created_at), clock.as_utc(p.last_used_at) if p.last_used_at else None
        )
        for p in repository.passkeys_of(session, citizen_id)
    ]
    return SecondFactors(has_totp=citizen.totp_sealed is not None, passkeys=views)


# --- passkeys: registration in settings, and removal -----------------------------------------


def start_passkey_registration(
    session: Session, *, rp: RelyingParty, citizen_id: uuid.UUID, token_hash: str
) -> str:
    """Options for navigator.credentials.create, whose challenge this session keeps; the browser is told
    which passkeys exist already."""
    citizen = citizens.get_citizen(session, citizen_id=citizen_id)
    existing = repository.passkeys_of(session, citizen_id)
    if problem := rules.passkey_limit_problem(len(existing)):
        raise ValidationFailed(problem)
    options, challenge = passkeys.registration_options(
        rp,
        citizen_id=citizen.id,
        username=citizen.username,
        existing=[passkey.credential_id for passkey in existing],
    )
    repository.set_webauthn_challenge(session, token_hash, challenge)
    return options


def register_passkey(
    session: Session, *, rp: RelyingParty, citizen_id: uuid.UUID, token_hash: str, name: str, credential: str
) -> Passkey | None:
    """Store a new passkey once the browser's answer verifies against this session's challenge.

    Raises ValidationFailed for the name or the limit (nothing is spent: the citizen may correct
    the name and answer again); None when the ceremony failed, which spends its challenge.
    """
    citizens.lock_citizen(session, citizen_id=citizen_id)
    name = " ".join(name.split())
    existing = repository.passkeys_of(session, citizen_id)
    names = [p.name for p in existing]
    problem = rules.passkey_name_problem(name, names) or rules.passkey_limit_problem(len(existing))
    if problem:
        raise ValidationFailed(problem)
    challenge = repository.take_webauthn_challenge(session, token_hash)
    try:
        if challenge is None:
            raise PasskeyRejected("no passkey registration in progress")
        new = passkeys.verify_registration(rp, credential=credential, challenge=challenge)
    except PasskeyRejected:
        return None
    if repository.credential_exists(session, new.credential_id):
        return None  # registered already (browsers are told to exclude it, but may not)
    passkey = Passkey(
        id=new_id(),
        citizen_id=citizen_id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        name=name,
        created_at=clock.now(),
    )
    repository.add_passkey(session, passkey)
    return passkey


def remove_passkey(session: Session, *, citizen_id: uuid.UUID, passkey_id: str) -> None:
    """Only when another second factor remains (TOTP or another passkey)."""
    citizen = citizens.lock_citizen(session, citizen_id=citizen_id)
    parsed = parse_id(passkey_id)
    row = repository.passkey_by_id(session, citizen_id, parsed) if parsed else None
    if row is None:
        raise NotFound("no passkey with this id")  # also when it is someone else's
    problem = rules.factor_removal_problem(
        has_totp=citizen.totp_sealed is not None,
        passkeys=len(repository.passkeys_of(session, citizen_id)),
        removing="passkey",
    )
    if problem:
        raise ValidationFailed(problem)
    repository.remove_passkey(session, row)
