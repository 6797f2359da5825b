"""Accounts: creation (the person, the first address, the mailbox), the daily digest choice."""

import pytest
from sqlalchemy import select

from postvak.auth import passwords
from postvak.citizens import service
from postvak.citizens.models import Citizen, EmailAddress, Mailbox
from postvak.errors import ValidationFailed
from tests.support.citizens import PASSWORD


def create(runtime, **fields):
    """An account through citizens' own service, with a real password hash (auth adds the TOTP secret)."""
    hasher = passwords.hasher_for(runtime.settings)
    values = {"bsn": fields.pop("bsn"), "email": "jan@example.nl", **fields}
    with runtime.database.unit_of_work() as session:
        return service.create_citizen(
            session, password_hash=passwords.hash_password(hasher, PASSWORD), **values
        )


def test_an_activated_account_has_a_verified_address_and_an_activated_mailbox(runtime, bsns):
    citizen = create(runtime, bsn=bsns[0], email="Jan@Example.NL")
    with runtime.database.unit_of_work(write=False) as session:
        [address] = session.scalars(select(EmailAddress).where(EmailAddress.citizen_id == citizen.id))
        mailbox = session.get(Mailbox, citizen.mailbox_id)
    assert citizen.username == "jan@example.nl" and address.address == "Jan@example.nl"
    assert address.verified_at is not None and citizen.activated_at is not None
    assert mailbox.activated_at is not None


def test_an_account_that_is_not_activated_leaves_the_mailbox_unreachable(runtime, bsns):
    citizen = create(runtime, bsn=bsns[0], activated=False)
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Mailbox, citizen.mailbox_id).activated_at is None
    assert citizen.activated_at is None


def test_one_account_per_address_and_per_person(runtime, bsns):
    create(runtime, bsn=bsns[0])
    with pytest.raises(ValidationFailed, match="e-mail address already exists"):
        create(runtime, bsn=bsns[1], email="JAN@example.nl")
    with pytest.raises(ValidationFailed, match="already has an account"):
        create(runtime, bsn=bsns[0], email="other@example.nl")


def digest_chosen(runtime, citizen_id) -> bool:
    with runtime.database.unit_of_work(write=False) as session:
        return service.read_settings(session, keyring=runtime.keyring, citizen_id=citizen_id).daily_digest


def test_the_daily_digest_is_off_until_chosen_and_can_be_turned_off_again(runtime, bsns):
    citizen = create(runtime, bsn=bsns[0])
    assert digest_chosen(runtime, citizen.id) is False
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, citizen_id=citizen.id, on=True)
    assert digest_chosen(runtime, citizen.id) is True
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Citizen, citizen.id).daily_digest is True  # the column the notification job reads
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, citizen_id=citizen.id, on=False)
    assert digest_chosen(runtime, citizen.id) is False


def test_the_daily_digest_is_one_citizens_choice(runtime, bsns):
    mine = create(runtime, bsn=bsns[0])
    theirs = create(runtime, bsn=bsns[1], email="piet@example.nl")
    with runtime.database.unit_of_work() as session:
        service.set_daily_digest(session, citizen_id=mine.id, on=True)
    assert (digest_chosen(runtime, mine.id), digest_chosen(runtime, theirs.id)) == (True, False)
