"""Credentials: a citizen's password and TOTP secret, a code accepted once, key rotation of the secrets."""

import pyotp
import pytest
from sqlalchemy import func, select

from postvak.auth import credentials, passwords, repository
from postvak.auth.rules import totp_step
from postvak.citizens import service as citizens
from postvak.citizens.models import Citizen, PendingChange
from postvak.errors import InvalidRecipient, ValidationFailed
from postvak.kit import clock
from tests.support.citizens import PASSWORD, make_citizen


def create(runtime, **fields):
    values = {"bsn": fields.pop("bsn"), "email": "jan@example.nl", "password": PASSWORD, **fields}
    with runtime.database.unit_of_work() as session:
        return credentials.register_citizen(
            session, keyring=runtime.keyring, hasher=passwords.hasher_for(runtime.settings), **values
        )


def test_the_password_is_stored_as_argon2id(runtime, bsns):
    citizen, _ = create(runtime, bsn=bsns[0])
    assert citizen.password_hash.startswith("$argon2id$")
    assert PASSWORD not in citizen.password_hash


def test_long_passwords_are_not_truncated(runtime):
    hasher = passwords.hasher_for(runtime.settings)
    first = "een lange zin over fietsen langs de gracht " * 4 + "A"
    second = first[:-1] + "B"
    assert len(first) > 128
    stored = passwords.hash_password(hasher, first)
    assert passwords.verify_password(hasher, stored, first)
    assert not passwords.verify_password(hasher, stored, second)


def test_the_totp_secret_is_sealed_and_opens_with_the_key_ring(runtime, bsns):
    citizen, secret = create(runtime, bsn=bsns[0])
    assert len(secret) == 32 and secret.encode() not in citizen.totp_sealed
    with runtime.database.unit_of_work(write=False) as session:
        assert credentials.open_totp_secret(session, keyring=runtime.keyring, citizen_id=citizen.id) == secret
    assert pyotp.TOTP(secret).now().isdigit()


def test_a_given_totp_secret_is_kept(runtime, bsns):
    given = pyotp.random_base32()
    _, secret = create(runtime, bsn=bsns[0], totp_secret=given.lower())
    assert secret == given


@pytest.mark.parametrize(
    "fields, problem, text",
    [
        ({"bsn": "123456789"}, InvalidRecipient, "elfproef"),
        ({"email": "not-an-address"}, ValidationFailed, "email:"),
        ({"password": "too short"}, ValidationFailed, "at least 12"),
        ({"password": "wachtwoord123"}, ValidationFailed, "list of passwords"),
        ({"password": "jan@example.nl"}, ValidationFailed, "username"),
        ({"totp_secret": "SHORT"}, ValidationFailed, "totpSecret"),
        ({"language": "de"}, ValidationFailed, "language"),
    ],
)
def test_bad_input_is_refused_clearly(runtime, bsns, fields, problem, text):
    values = {"bsn": bsns[0], **fields}
    with pytest.raises(problem) as raised:
        create(runtime, **values)
    assert text in raised.value.detail and bsns[0] not in raised.value.detail


def test_a_totp_code_is_accepted_once(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    code = pyotp.TOTP(citizen.totp_secret).generate_otp(totp_step(clock.now()))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with runtime.database.unit_of_work() as session:
        assert (
            credentials.verify_totp(session, keyring=runtime.keyring, citizen_id=citizen.id, code=wrong)
            is False
        )
        assert (
            credentials.verify_totp(session, keyring=runtime.keyring, citizen_id=citizen.id, code=code)
            is True
        )
    with runtime.database.unit_of_work() as session:
        assert (
            credentials.verify_totp(session, keyring=runtime.keyring, citizen_id=citizen.id, code=code)
            is False
        )


# --- key rotation ----------------------------------------------------------------------------


def _wrapped_under(runtime, kek_id: str) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        secrets = session.scalar(select(func.count()).where(Citizen.totp_kek_id == kek_id))
        pending = session.scalar(select(func.count()).where(PendingChange.kek_id == kek_id))
    return secrets + pending


def test_rotation_rewraps_totp_secrets_and_pending_changes_without_touching_them(runtime, bsns):
    first, second = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    with runtime.database.unit_of_work() as session:
        credentials.start_totp_replacement(session, keyring=runtime.keyring, citizen_id=first.id)
        code = citizens.request_phone_code(
            session, keyring=runtime.keyring, citizen_id=second.id, number="+31612345678"
        )
        sealed_before = session.scalars(select(Citizen.totp_sealed).order_by(Citizen.id)).all()
        new_secret = credentials.open_new_totp(session, keyring=runtime.keyring, citizen_id=first.id).secret
    old_id = runtime.keyring.active_id
    assert _wrapped_under(runtime, old_id) == 4

    new_id = runtime.keyring.rotate()
    done = []
    for rewrap in (credentials.rewrap_totp_keys, citizens.rewrap_pending_keys):
        while True:
            with runtime.database.unit_of_work() as session:
                if not (count := rewrap(session, keyring=runtime.keyring, limit=1)):
                    break
                done.append(count)
    assert done == [1, 1, 1, 1]
    assert _wrapped_under(runtime, old_id) == 0 and _wrapped_under(runtime, new_id) == 4

    with runtime.database.unit_of_work() as session:
        assert session.scalars(select(Citizen.totp_sealed).order_by(Citizen.id)).all() == sealed_before
        assert (
            credentials.open_totp_secret(session, keyring=runtime.keyring, citizen_id=first.id)
            == first.totp_secret
        )
        assert (
            credentials.open_new_totp(session, keyring=runtime.keyring, citizen_id=first.id).secret
            == new_secret
        )
        assert (
            citizens.find_phone_awaiting_code(session, keyring=runtime.keyring, citizen_id=second.id)
            == "+31612345678"
        )
        assert (
            citizens.verify_phone_code(session, keyring=runtime.keyring, citizen_id=second.id, code=code.code)
            == "ok"
        )


def test_a_secret_replaced_during_the_rewrap_keeps_its_new_key(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    runtime.keyring.rotate()
    with runtime.database.unit_of_work() as session:
        [stale] = repository.totp_keys_not_under(session, runtime.keyring.active_id, 10)
    with runtime.database.unit_of_work() as session:  # meanwhile, the citizen replaces their app
        credentials.start_totp_replacement(session, keyring=runtime.keyring, citizen_id=citizen.id)
        replacement = credentials.open_new_totp(
            session, keyring=runtime.keyring, citizen_id=citizen.id
        ).secret
        code = pyotp.TOTP(replacement).now()
        outcome = credentials.confirm_totp_replacement(
            session, keyring=runtime.keyring, citizen_id=citizen.id, code=code
        )
        assert outcome == "ok"
    with runtime.database.unit_of_work() as session:
        kek_id, wrapped = runtime.keyring.rewrap(stale.kek_id, stale.wrapped_key, citizen.id.bytes)
        assert repository.replace_totp_key(session, stale, kek_id, wrapped) is False
    with runtime.database.unit_of_work(write=False) as session:
        assert (
            credentials.open_totp_secret(session, keyring=runtime.keyring, citizen_id=citizen.id)
            == replacement
        )
