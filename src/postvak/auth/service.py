"""Use cases of logging in: sessions, the password step, the second factor, throttling, logging out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from postvak.auth import credentials, passkeys, passwords, repository, rules
from postvak.auth.models import LoginEvent, WebSession
from postvak.auth.passkeys import PasskeyRejected, RelyingParty
from postvak.citizens import service as citizens
from postvak.citizens.rules import username_for
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.text import text_problem

STAGES = (rules.STAGE_PASSWORD, rules.STAGE_FULL)
EVENT_KINDS = (
    *("password-ok", "password-failed", "code-ok", "code-failed", "passkey-ok", "passkey-failed"),
    *("logout", "logout-everywhere", "reauth-ok", "reauth-failed"),
)
HISTORY_LENGTH = 50


@dataclass(frozen=True)
class SessionView:
    """A live session and what pages need of its citizen."""

    token_hash: str
    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    stage: str
    csrf_token: str
    language: str
    username: str
    activated: bool
    touch_due: bool = False  # last_seen_at is older than rules.TOUCH_INTERVAL
    authenticated_at: datetime | None = None  # the full log-in, or the password given again since

    def recently_authenticated(self, now: datetime) -> bool:
        return rules.recently_authenticated(self.authenticated_at, now)


@dataclass(frozen=True)
class StoredPassword:
    """What the password step needs, read before the (slow) hash is verified outside any transaction."""

    citizen_id: uuid.UUID
    password_hash: str


@dataclass(frozen=True)
class SecondFactorResult:
    outcome: Literal["ok", "wrong", "blocked"]
    token: str | None = None  # the new full session's cookie token when ok
    activated: bool = False


# --- sessions --------------------------------------------------------------------------------


def start_session(
    session: Session, *, citizen_id: uuid.UUID, stage: str, ip: str | None, user_agent: str | None
) -> str:
    """A new server-side session; returns the cookie token (only its SHA-256 is stored).

    A full session starts right after the second factor: the citizen has just proved who they are.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown session stage {stage!r}")
    token = rules.new_session_token()
    now = clock.now()
    row = WebSession(
        token_hash=rules.hash_token(token),
        citizen_id=citizen_id,
        stage=stage,
        csrf_token=rules.new_csrf_token(),
        created_at=now,
        last_seen_at=now,
        authenticated_at=now if stage == rules.STAGE_FULL else None,
        ip=_clip(ip, 64),
        user_agent=_clip(user_agent, 300),
    )
    repository.add_session(session, row)
    return token


def resolve_session(session: Session, *, token: str | None) -> SessionView | None:
    """The live session of a cookie token; None when unknown, expired or revoked (a read only)."""
    if not token:
        return None
    row = repository.session_by_hash(session, rules.hash_token(token))
    now = clock.now()
    if row is None or not rules.session_alive(
        stage=row.stage,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
        now=now,
    ):
        return None
    return SessionView(
        token_hash=row.token_hash,
        citizen_id=row.citizen_id,
        mailbox_id=row.mailbox_id,
        stage=row.stage,
        csrf_token=row.csrf_token,
        language=row.language,
        username=row.username,
        activated=row.activated_at is not None,
        touch_due=rules.needs_touch(row.last_seen_at, now),
        authenticated_at=row.authenticated_at,
    )


def touch_session(session: Session, *, view: SessionView) -> None:
    """The session was used now: the idle timeout starts again."""
    repository.touch_session(session, view.token_hash, clock.now())


def end_session(session: Session, *, view: SessionView, ip: str | None, user_agent: str | None) -> None:
    """Log out: the server-side session is revoked, so a copied cookie is worthless from now on."""
    repository.revoke_session(session, view.token_hash, clock.now())
    log_login_event(session, citizen_id=view.citizen_id, kind="logout", ip=ip, user_agent=user_agent)


def revoke_all_sessions(session: Session, *, citizen_id: uuid.UUID) -> int:
    """Log out everywhere: every session of the citizen, on every device."""
    return repository.revoke_citizen_sessions(session, citizen_id, clock.now())


@dataclass(frozen=True)
class DeviceSession:
    """A signed-in device, as the settings page lists it."""

    created_at: datetime
    last_seen_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool


def list_devices(session: Session, *, citizen_id: uuid.UUID, current_token_hash: str) -> list[DeviceSession]:
    """Where the citizen is signed in now (both factors done), this device first, then by last use."""
    now = clock.now()
    rows = repository.live_sessions(session, citizen_id, now - rules.ABSOLUTE_TIMEOUT)
    alive = [
        DeviceSession(
            created_at=clock.as_utc(row.created_at),
            last_seen_at=clock.as_utc(row.last_seen_at),
            ip=row.ip,
            user_agent=row.user_agent,
            current=row.token_hash == current_token_hash,
        )
        for row in rows
        if row.stage == rules.STAGE_FULL
        and rules.session_alive(
            stage=row.stage,
            created_at=clock.as_utc(row.created_at),
            last_seen_at=clock.as_utc(row.last_seen_at),
            revoked_at=None,
            now=now,
        )
    ]
    return sorted(alive, key=lambda device: (not device.current, -device.last_seen_at.timestamp()))


def list_login_events(session: Session, *, citizen_id: uuid.UUID) -> list[LoginEvent]:
    """The last HISTORY_LENGTH log-in events, newest first."""
    return repository.login_events(session, citizen_id, HISTORY_LENGTH)


def log_login_event(
    session: Session, *, citizen_id: uuid.UUID, kind: str, ip: str | None, user_agent: str | None
) -> None:
    """One line of the citizen's log-in history; never a password, code or BSN."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown log-in event {kind!r}")
    event = LoginEvent(
        citizen_id=citizen_id, kind=kind, at=clock.now(), ip=_clip(ip, 64), user_agent=_clip(user_agent, 300)
    )
    repository.add_login_event(session, event)


# --- throttling (the rule is in rules.throttle_keys) -----------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One attempt counted on its throttle keys; `allowed` is False when a key was blocked."""

    allowed: bool
    before: dict[str, rules.ThrottleState | None] = field(default_factory=dict)
    counted: dict[str, rules.ThrottleState] = field(default_factory=dict)


def throttle_attempt(session: Session, *, keys: list[tuple[str, rules.ThrottlePolicy]]) -> Attempt:
    """Count one attempt on every key, or refuse it (nothing counted) when any key is blocked.

    Counting before checking, under row locks, means parallel guesses queue up here instead
    of all passing a check that none of them has failed yet. A right answer is taken back.
    """
    now = clock.now()
    states = repository.lock_throttles(session, [key for key, _ in keys], now)
    if any(rules.is_blocked(states.get(key), now) for key, _ in keys):
        return Attempt(False)
    counted = {key: rules.count_attempt(states.get(key), policy, now) for key, policy in keys}
    for key, state in counted.items():
        repository.save_throttle(session, key, state)
    return Attempt(True, before={key: states.get(key) for key, _ in keys}, counted=counted)


def forgive_attempt(session: Session, *, attempt: Attempt, keys: list[str]) -> None:
    """The attempt was right: it no longer counts against these keys."""
    states = repository.lock_throttles(session, keys, clock.now())
    for key in keys:
        if key in states and key in attempt.counted:
            state = rules.forgive_attempt(
                states[key], before=attempt.before[key], counted=attempt.counted[key]
            )
            repository.save_throttle(session, key, state)


def forget_expired_throttles(session: Session, *, limit: int = 10_000) -> int:
    """One bounded step of the worker's housekeeping: forget up to `limit` throttles that count for
    nothing any more (an address or username quiet for 15 minutes); returns how many."""
    return repository.delete_quiet_throttles(session, rules.throttles_quiet_since(clock.now()), limit)


# --- the password step -----------------------------------------------------------------------


def throttle_password_attempt(session: Session, *, username: str, ip: str | None) -> Attempt:
    return throttle_attempt(session, keys=rules.throttle_keys(username_for(username), ip).all)


def find_stored_password(session: Session, *, username: str) -> StoredPassword | None:
    """The password hash of the citizen with this username (None: nobody has it)."""
    username = username_for(username)
    if text_problem(username):  # nobody's username, and PostgreSQL cannot even compare a NUL
        return None
    citizen = citizens.find_citizen(session, username=username)
    return StoredPassword(citizen.id, citizen.password_hash) if citizen else None


def password_matches(hasher: PasswordHasher, *, stored: StoredPassword | None, password: str) -> bool:
    """Verified outside any transaction: argon2 is slow on purpose, and must not hold a lock."""
    return passwords.verify_password(hasher, stored.password_hash if stored else None, password)


def pass_password_step(
    session: Session,
    *,
    hasher: PasswordHasher,
    stored: StoredPassword,
    password: str,
    attempt: Attempt,
    ip: str | None,
    user_agent: str | None,
    replaces: str | None = None,
) -> str:
    """The password was right: a new session at the password stage; returns its cookie token.

    The attempt is forgiven, so the real user's own log-in never pauses their second factor;
    an attacker who knows the password still has every wrong code counted.
    """
    citizen = citizens.get_citizen(session, citizen_id=stored.citizen_id)
    keys = [key for key, _ in rules.throttle_keys(citizen.username, ip).all]
    forgive_attempt(session, attempt=attempt, keys=keys)
    if passwords.needs_rehash(hasher, stored.password_hash):
        repository.set_password_hash(session, citizen.id, passwords.hash_password(hasher, password))
    if replaces:
        repository.revoke_session(session, replaces, clock.now())
    log_login_event(session, citizen_id=citizen.id, kind="password-ok", ip=ip, user_agent=user_agent)
    return start_session(
        session, citizen_id=citizen.id, stage=rules.STAGE_PASSWORD, ip=ip, user_agent=user_agent
    )


def fail_password_step(
    session: Session, *, stored: StoredPassword | None, ip: str | None, user_agent: str | None
) -> None:
    """A wrong password: the history of the citizen whose username it was (if any) shows it."""
    if stored is not None:
        log_login_event(
            session, citizen_id=stored.citizen_id, kind="password-failed", ip=ip, user_agent=user_agent
        )


# --- the password again, before a sensitive change ("sudo mode") ----------------------------


def read_stored_password(session: Session, *, citizen_id: uuid.UUID) -> StoredPassword:
    citizen = citizens.get_citizen(session, citizen_id=citizen_id)
    return StoredPassword(citizen.id, citizen.password_hash)


def pass_reauthentication(
    session: Session, *, view: SessionView, attempt: Attempt, ip: str | None, user_agent: str | None
) -> None:
    """The password was right: sensitive changes are allowed in this session for the next
    rules.REAUTHENTICATION_WINDOW. Throttled and logged as the log-in's password step is."""
    forgive_attempt(
        session, attempt=attempt, keys=[key for key, _ in rules.throttle_keys(view.username, ip).all]
    )
    repository.set_authenticated_at(session, view.token_hash, clock.now())
    log_login_event(session, citizen_id=view.citizen_id, kind="reauth-ok", ip=ip, user_agent=user_agent)


def fail_reauthentication(
    session: Session, *, view: SessionView, ip: str | None, user_agent: str | None
) -> None:
    log_login_event(session, citizen_id=view.citizen_id, kind="reauth-failed", ip=ip, user_agent=user_agent)


# --- the second factor -----------------------------------------------------------------------


def log_in_with_totp(
    session: Session,
    *,
    keyring: KeyRing,
    view: SessionView,
    code: str,
    ip: str | None,
    user_agent: str | None,
) -> SecondFactorResult:
    """A TOTP code as the second factor; when right, the session id changes and the session becomes full.

    A code is accepted once: its time step must be newer than the last one accepted.
    """
    keys = rules.throttle_keys(view.username, ip)
    attempt = throttle_attempt(session, keys=keys.all)
    if not attempt.allowed:
        return SecondFactorResult("blocked")
    if not credentials.verify_totp(session, keyring=keyring, citizen_id=view.citizen_id, code=code):
        log_login_event(session, citizen_id=view.citizen_id, kind="code-failed", ip=ip, user_agent=user_agent)
        return SecondFactorResult("wrong")
    return _pass_second_factor(session, view, attempt, keys, "code-ok", ip=ip, user_agent=user_agent)


def _pass_second_factor(
    session: Session,
    view: SessionView,
    attempt: Attempt,
    keys: rules.AttemptKeys,
    kind: str,
    *,
    ip: str | None,
    user_agent: str | None,
) -> SecondFactorResult:
    """The second factor was right (a code or a passkey): the password-stage session ends and a
    full one with a new id begins; the failed attempts on the citizen's username no longer count."""
    citizen = citizens.get_citizen(session, citizen_id=view.citizen_id)
    forgive_attempt(session, attempt=attempt, keys=[keys.address[0]])
    repository.delete_throttles(session, [keys.username[0], keys.username_from_address[0]])
    repository.revoke_session(session, view.token_hash, clock.now())
    log_login_event(session, citizen_id=citizen.id, kind=kind, ip=ip, user_agent=user_agent)
    token = start_session(
        session, citizen_id=citizen.id, stage=rules.STAGE_FULL, ip=ip, user_agent=user_agent
    )
    return SecondFactorResult("ok", token, activated=citizen.activated_at is not None)


# --- passkeys: log-in as the second factor (registration: credentials) ---------------------------


def start_passkey_login(session: Session, *, rp: RelyingParty, view: SessionView) -> str | None:
    """Options for navigator.credentials.get, limited to the citizen's passkeys (None: they have none).

    The challenge is kept with the password-stage session, which is the only one that may answer it.
    """
    credential_ids = [passkey.credential_id for passkey in repository.passkeys_of(session, view.citizen_id)]
    if not credential_ids:
        return None
    options, challenge = passkeys.authentication_options(rp, credential_ids=credential_ids)
    repository.set_webauthn_challenge(session, view.token_hash, challenge)
    return options


def has_passkeys(session: Session, *, citizen_id: uuid.UUID) -> bool:
    return bool(repository.passkeys_of(session, citizen_id))


def log_in_with_passkey(
    session: Session,
    *,
    rp: RelyingParty,
    view: SessionView,
    credential: str,
    ip: str | None,
    user_agent: str | None,
) -> SecondFactorResult:
    """A passkey as the second factor, throttled like codes. When it verifies, the session becomes
    full exactly as after a right code.

    The challenge answers one ceremony only; the passkey must be this citizen's own (another
    citizen's passkey is not even looked up); its signature counter must move forward.
    """
    keys = rules.throttle_keys(view.username, ip)
    attempt = throttle_attempt(session, keys=keys.all)
    if not attempt.allowed:
        return SecondFactorResult("blocked")
    challenge = repository.take_webauthn_challenge(session, view.token_hash)
    try:
        credential_id = passkeys.credential_id_of(credential=credential)
        passkey = repository.passkey_by_credential(session, view.citizen_id, credential_id)
        if challenge is None or passkey is None:
            raise PasskeyRejected("no ceremony in progress, or not one of this citizen's passkeys")
        sign_count = passkeys.verify_authentication(
            rp,
            credential=credential,
            challenge=challenge,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
        )
    except PasskeyRejected:
        log_login_event(
            session, citizen_id=view.citizen_id, kind="passkey-failed", ip=ip, user_agent=user_agent
        )
        return SecondFactorResult("wrong")
    repository.mark_passkey_used(session, passkey.id, sign_count, clock.now())
    return _pass_second_factor(session, view, attempt, keys, "passkey-ok", ip=ip, user_agent=user_agent)


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
