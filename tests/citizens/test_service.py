"""Accounts: creation (validation, argon2id, the sealed TOTP secret, the mailbox), the daily digest choice."""

import pyotp
import pytest
from sqlalchemy import func, select

from postvak.auth import passwords
from postvak.citizens import repository, service
from postvak.citizens.models import Citizen, EmailAddress, Mailbox, PendingChange
from postvak.errors import InvalidRecipient, ValidationFailed
from tests.support.citizens import PASSWORD, make_citizen


def create(runtime, **fields):
    values = {"bsn": fields.pop("bsn"), "email": "jan@example.nl", "password": PASSWORD, **fields}
    with runtime.database.unit_of_work() as session:
        return service.create_citizen(
            session, runtime.keyring, hasher=passwords.hasher_for(runtime.settings), **values
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
        stored = session.get(Citizen, citizen.id)
        assert service.totp_secret_of(runtime.keyring, stored) == secret
    assert pyotp.TOTP(secret).now().isdigit()


def test_a_given_totp_secret_is_kept(runtime, bsns):
    given = pyotp.random_base32()
    _, secret = create(runtime, bsn=bsns[0], totp_secret=given.lower())
    assert secret == given


def test_an_activated_account_has_a_verified_address_and_an_activated_mailbox(runtime, bsns):
    citizen, _ = create(runtime, bsn=bsns[0], email="Jan@Example.NL")
    with runtime.database.unit_of_work(write=False) as session:
        [address] = session.scalars(select(EmailAddress).where(EmailAddress.citizen_id == citizen.id))
        mailbox = session.get(Mailbox, citizen.mailbox_id)
    assert citizen.username == "jan@example.nl" and address.address == "Jan@example.nl"
    assert address.verified_at is not None and citizen.activated_at is not None
    assert mailbox.activated_at is not None


def test_an_account_that_is_not_activated_leaves_the_mailbox_unreachable(runtime, bsns):
    citizen, _ = create(runtime, bsn=bsns[0], activated=False)
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Mailbox, citizen.mailbox_id).activated_at is None
    assert citizen.activated_at is None


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


def test_one_account_per_address_and_per_person(runtime, bsns):
    create(runtime, bsn=bsns[0])
    with pytest.raises(ValidationFailed, match="e-mail address already exists"):
        create(runtime, bsn=bsns[1], email="JAN@example.nl")
    with pytest.raises(ValidationFailed, match="already has an account"):
        create(runtime, bsn=bsns[0], email="other@example.nl")


def digest_chosen(runtime, citizen_id) -> bool:
    with runtime.database.unit_of_work(write=False) as session:
        return service.account_settings(session, runtime.keyring, citizen_id).daily_digest


def test_the_daily_digest_is_off_until_chosen_and_can_be_turned_off_again(runtime, bsns):
    citizen, _ = create(runtime, bsn=bsns[0])
    assert digest_chosen(runtime, citizen.id) is False
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, citizen.id, True)
    assert digest_chosen(runtime, citizen.id) is True
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Citizen, citizen.id).daily_digest is True  # the column the notification job reads
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, citizen.id, False)
    assert digest_chosen(runtime, citizen.id) is False


def test_the_daily_digest_is_one_citizens_choice(runtime, bsns):
    mine, _ = create(runtime, bsn=bsns[0])
    theirs, _ = create(runtime, bsn=bsns[1], email="piet@example.nl")
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, mine.id, True)
    assert (digest_chosen(runtime, mine.id), digest_chosen(runtime, theirs.id)) == (True, False)


# --- key rotation ----------------------------------------------------------------------------


def _wrapped_under(runtime, kek_id: str) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        secrets = session.scalar(select(func.count()).where(Citizen.totp_kek_id == kek_id))
        pending = session.scalar(select(func.count()).where(PendingChange.kek_id == kek_id))
    return secrets + pending


def test_rotation_rewraps_totp_secrets_and_pending_changes_without_touching_them(runtime, bsns):
    first, second = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    with runtime.database.unit_of_work() as session:
        service.start_totp_replacement(session, runtime.keyring, first.id)
        code = service.request_phone_code(session, runtime.keyring, second.id, "+31612345678")
        sealed_before = session.scalars(select(Citizen.totp_sealed).order_by(Citizen.id)).all()
        new_secret = service.new_totp(session, runtime.keyring, first.id).secret
    old_id = runtime.keyring.active_id
    assert _wrapped_under(runtime, old_id) == 4

    new_id = runtime.keyring.rotate()
    done = []
    for rewrap in (service.rewrap_totp_keys, service.rewrap_pending_keys):
        while True:
            with runtime.database.unit_of_work() as session:
                if not (count := rewrap(session, runtime.keyring, limit=1)):
                    break
                done.append(count)
    assert done == [1, 1, 1, 1]
    assert _wrapped_under(runtime, old_id) == 0 and _wrapped_under(runtime, new_id) == 4

    with runtime.database.unit_of_work() as session:
        assert session.scalars(select(Citizen.totp_sealed).order_by(Citizen.id)).all() == sealed_before
        stored = session.get(Citizen, first.id)
        assert service.totp_secret_of(runtime.keyring, stored) == first.totp_secret
        assert service.new_totp(session, runtime.keyring, first.id).secret == new_secret
        assert service.pending_phone(session, runtime.keyring, second.id) == "+31612345678"
        assert service.verify_phone_code(session, runtime.keyring, second.id, code.code) == "ok"


def test_a_secret_replaced_during_the_rewrap_keeps_its_new_key(runtime, bsns):
    citizen = make_citizen(runtime, bsns[0])
    runtime.keyring.rotate()
    with runtime.database.unit_of_work() as session:
        [stale] = repository.totp_keys_not_under(session, runtime.keyring.active_id, 10)
    with runtime.database.unit_of_work() as session:  # meanwhile, the citizen replaces their app
        service.start_totp_replacement(session, runtime.keyring, citizen.id)
        replacement = service.new_totp(session, runtime.keyring, citizen.id).secret
        code = pyotp.TOTP(replacement).now()
        assert service.confirm_totp_replacement(session, runtime.keyring, citizen.id, code) == "ok"
    with runtime.database.unit_of_work() as session:
        kek_id, wrapped = runtime.keyring.rewrap(stale.kek_id, stale.wrapped_key, citizen.id.bytes)
        assert repository.replace_totp_key(session, stale, kek_id, wrapped) is False
    with runtime.database.unit_of_work(write=False) as session:
        assert service.totp_secret_of(runtime.keyring, session.get(Citizen, citizen.id)) == replacement
