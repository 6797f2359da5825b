"""Passkey ceremonies against a software authenticator: register, log in, and what must fail."""

import uuid

import pytest

from postvak.auth.passkeys import (
    PasskeyRejected,
    RelyingParty,
    authentication_options,
    registration_options,
    verify_authentication,
    verify_registration,
)
from tests.support.authenticator import SoftAuthenticator

RP = RelyingParty.from_base_url("https://postvak.example.nl")


def _registration_options():
    return registration_options(RP, citizen_id=uuid.uuid4(), username="jan@example.nl", existing=[])


def _registered():
    authenticator = SoftAuthenticator(RP.id, RP.origin)
    options, challenge = _registration_options()
    return authenticator, verify_registration(
        RP, credential=authenticator.create(options), challenge=challenge
    )


def test_register_then_log_in():
    authenticator, passkey = _registered()
    assert passkey.credential_id == authenticator.credential_id
    options, challenge = authentication_options(RP, credential_ids=[passkey.credential_id])
    count = verify_authentication(
        RP,
        credential=authenticator.get(options),
        challenge=challenge,
        public_key=passkey.public_key,
        sign_count=passkey.sign_count,
    )
    assert count > passkey.sign_count


def test_the_relying_party_comes_from_the_base_url():
    assert RelyingParty.from_base_url("http://localhost:8000") == RelyingParty(
        "localhost", "Postvak", "http://localhost:8000"
    )


def test_another_challenge_is_refused():
    authenticator, passkey = _registered()
    options, _ = authentication_options(RP, credential_ids=[passkey.credential_id])
    with pytest.raises(PasskeyRejected):
        verify_authentication(
            RP,
            credential=authenticator.get(options),
            challenge=b"x" * 32,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
        )


def test_a_phishing_origin_is_refused():
    options, challenge = _registration_options()
    phished = SoftAuthenticator(RP.id, "https://postvak.example.com")
    with pytest.raises(PasskeyRejected):
        verify_registration(RP, credential=phished.create(options), challenge=challenge)


def test_another_key_cannot_sign_for_the_passkey():
    authenticator, passkey = _registered()
    impostor = SoftAuthenticator(RP.id, RP.origin)
    impostor.credential_id = authenticator.credential_id
    options, challenge = authentication_options(RP, credential_ids=[passkey.credential_id])
    with pytest.raises(PasskeyRejected):
        verify_authentication(
            RP,
            credential=impostor.get(options),
            challenge=challenge,
            public_key=passkey.public_key,
            sign_count=passkey.sign_count,
        )


def test_garbage_is_refused_cleanly():
    _, challenge = _registration_options()
    with pytest.raises(PasskeyRejected):
        verify_registration(RP, credential='{"id": "x"}', challenge=challenge)
