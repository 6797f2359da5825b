"""Every query about sessions, the log-in history, throttles and credentials (passkeys, password, TOTP)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postvak.auth.models import LoginEvent, Passkey, Throttle, WebSession
from postvak.auth.rules import ThrottleState
from postvak.citizens.models import Citizen
from postvak.kit.clock import as_utc
from postvak.kit.sql import insert_ignoring_conflicts


@dataclass(frozen=True)
class SessionRow:
    """A session with what every page needs of its citizen, read in one query."""

    token_hash: str
    stage: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    citizen_id: uuid.UUID
    mailbox_id: uuid.UUID
    username: str
    language: str
    activated_at: datetime | None
    authenticated_at: datetime | None


# --- sessions --------------------------------------------------------------------------------


def add_session(session: Session, row: WebSession) -> None:
    session.add(row)
    session.flush()


def session_by_hash(session: Session, token_hash: str) -> SessionRow | None:
    query = (
        select(WebSession, Citizen.mailbox_id, Citizen.username, Citizen.language, Citizen.activated_at)
        .join(Citizen, Citizen.id == WebSession.citizen_id)
        .where(WebSession.token_hash == token_hash)
    )
    found = session.execute(query).first()
    if found is None:
        return None
    web, mailbox_id, username, language, activated_at = found
    return SessionRow(
        token_hash=web.token_hash,
        stage=web.stage,
        csrf_token=web.csrf_token,
        created_at=as_utc(web.created_at),
        last_seen_at=as_utc(web.last_seen_at),
        revoked_at=_utc_or_none(web.revoked_at),
        citizen_id=web.citizen_id,
        mailbox_id=mailbox_id,
        username=username,
        language=language,
        activated_at=_utc_or_none(activated_at),
        authenticated_at=_utc_or_none(web.authenticated_at),
    )


def touch_session(session: Session, token_hash: str, at: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_hash == token_hash).values(last_seen_at=at))


def set_authenticated_at(session: Session, token_hash: str, at: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.token_hash == token_hash).values(authenticated_at=at))


def revoke_session(session: Session, token_hash: str, at: datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash, WebSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def revoke_citizen_sessions(session: Session, citizen_id: uuid.UUID, at: datetime) -> int:
    result = session.execute(
        update(WebSession)
        .where(WebSession.citizen_id == citizen_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount


def live_sessions(session: Session, citizen_id: uuid.UUID, created_since: datetime) -> list[WebSession]:
    """The citizen's sessions that are not revoked and not past the absolute timeout."""
    query = (
        select(WebSession)
        .where(
            WebSession.citizen_id == citizen_id,
            WebSession.revoked_at.is_(None),
            WebSession.created_at > created_since,
        )
        .order_by(WebSession.last_seen_at.desc())
    )
    return list(session.scalars(query))


def set_webauthn_challenge(session: Session, token_hash: str, challenge: bytes) -> None:
    session.execute(
        update(WebSession).where(WebSession.token_hash == token_hash).values(webauthn_challenge=challenge)
    )


def take_webauthn_challenge(session: Session, token_hash: str) -> bytes | None:
    """The session's passkey challenge, cleared as it is read: one challenge answers one ceremony.

    The clearing UPDATE names the challenge it read, so of two requests racing with the same
    answer only one gets it (on PostgreSQL the second waits, then finds nothing to clear).
    """
    query = select(WebSession.webauthn_challenge).where(WebSession.token_hash == token_hash)
    challenge = session.scalar(query)
    if challenge is None:
        return None
    cleared = session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash, WebSession.webauthn_challenge == challenge)
        .values(webauthn_challenge=None)
    )
    return challenge if cleared.rowcount == 1 else None


# --- the log-in history -----------------------------------------------------------------------


def add_login_event(session: Session, event: LoginEvent) -> None:
    session.add(event)
    session.flush()


def login_events(session: Session, citizen_id: uuid.UUID, limit: int) -> list[LoginEvent]:
    query = (
        select(LoginEvent)
        .where(LoginEvent.citizen_id == citizen_id)
        .order_by(LoginEvent.at.desc(), LoginEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


# --- throttles ------------------------------------------------------------------------------


def lock_throttles(session: Session, keys: list[str], now: datetime) -> dict[str, ThrottleState]:
    """The throttles of `keys`, locked for this transaction (rows are created first, so there is
    something to lock; keys are locked in sorted order, so two requests never deadlock)."""
    ordered = sorted(set(keys))
    rows = [{"key": key, "failures": 0, "window_started_at": now, "blocked_until": None} for key in ordered]
    insert_ignoring_conflicts(session, Throttle.__table__, rows, ["key"])
    query = select(Throttle).where(Throttle.key.in_(ordered)).order_by(Throttle.key).with_for_update()
    query = query.execution_options(populate_existing=True)
    return {row.key: _state(row) for row in session.scalars(query)}


def save_throttle(session: Session, key: str, state: ThrottleState) -> None:
    """Written whether or not the row is still there: housekeeping may have deleted a quiet throttle
    between lock_throttles' insert and its lock (PostgreSQL), and the attempt must still count."""
    values = {
        "failures": state.failures,
        "window_started_at": state.window_started_at,
        "blocked_until": state.blocked_until,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Throttle).values(key=key, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["key"], set_=values))


def delete_quiet_throttles(session: Session, quiet_since: datetime, limit: int) -> int:
    """Delete up to `limit` throttles with no window and no block after `quiet_since`; returns how many.
    The condition is checked again as rows are deleted: one counted meanwhile is kept."""
    quiet = (Throttle.window_started_at <= quiet_since) & or_(
        Throttle.blocked_until.is_(None), Throttle.blocked_until <= quiet_since
    )
    keys = list(session.scalars(select(Throttle.key).where(quiet).limit(limit)))
    if not keys:
        return 0
    result = session.execute(
        delete(Throttle).where(Throttle.key.in_(keys), quiet).execution_options(synchronize_session=False)
    )
    return result.rowcount


def delete_throttles(session: Session, keys: list[str]) -> None:
    session.execute(
        delete(Throttle).where(Throttle.key.in_(keys)).execution_options(synchronize_session=False)
    )


# --- passkeys --------------------------------------------------------------------------------


def add_passkey(session: Session, passkey: Passkey) -> None:
    session.add(passkey)
    session.flush()


def remove_passkey(session: Session, passkey: Passkey) -> None:
    session.delete(passkey)
    session.flush()


def passkeys_of(session: Session, citizen_id: uuid.UUID) -> list[Passkey]:
    query = select(Passkey).where(Passkey.citizen_id == citizen_id).order_by(Passkey.created_at, Passkey.id)
    return list(session.scalars(query))


def passkey_by_id(session: Session, citizen_id: uuid.UUID, passkey_id: uuid.UUID) -> Passkey | None:
    """Scoped to its owner: another citizen's passkey id finds nothing."""
    query = select(Passkey).where(Passkey.id == passkey_id, Passkey.citizen_id == citizen_id)
    return session.scalars(query).first()


def passkey_by_credential(session: Session, citizen_id: uuid.UUID, credential_id: bytes) -> Passkey | None:
    """The citizen's own passkey with this credential id; someone else's is never found."""
    query = select(Passkey).where(Passkey.credential_id == credential_id, Passkey.citizen_id == citizen_id)
    return session.scalars(query).first()


def credential_exists(session: Session, credential_id: bytes) -> bool:
    return session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None


def mark_passkey_used(session: Session, passkey_id: uuid.UUID, sign_count: int, at: datetime) -> None:
    session.execute(
        update(Passkey)
        .where(Passkey.id == passkey_id)
        .values(sign_count=sign_count, last_used_at=at)
        .execution_options(synchronize_session=False)
    )


# --- the credential columns of the citizen's row (auth's, on citizens' table) ---------------------


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


# --- key rotation: TOTP secrets whose data key is wrapped under an older key --------------------


@dataclass(frozen=True)
class WrappedTotpKey:
    """Where one citizen's TOTP data key is, and under which key it is wrapped."""

    citizen_id: uuid.UUID
    kek_id: str
    wrapped_key: bytes


def totp_keys_not_under(session: Session, kek_id: str, limit: int) -> list[WrappedTotpKey]:
    query = (
        select(Citizen.id, Citizen.totp_kek_id, Citizen.totp_key)
        .where(Citizen.totp_kek_id.is_not(None), Citizen.totp_kek_id != kek_id)
        .order_by(Citizen.id)
        .limit(limit)
    )
    return [WrappedTotpKey(cid, kid, key) for cid, kid, key in session.execute(query)]


def replace_totp_key(session: Session, old: WrappedTotpKey, kek_id: str, wrapped_key: bytes) -> bool:
    """Only if the secret is still the one whose key was re-wrapped (a request may have sealed a new one)."""
    result = session.execute(
        update(Citizen)
        .where(Citizen.id == old.citizen_id, Citizen.totp_key == old.wrapped_key)
        .values(totp_kek_id=kek_id, totp_key=wrapped_key)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _state(row: Throttle) -> ThrottleState:
    return ThrottleState(row.failures, as_utc(row.window_started_at), _utc_or_none(row.blocked_until))


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None
