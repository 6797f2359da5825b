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


def _registered():
    authenticator = SoftAuthenticator(RP.id, RP.origin)
    options, challenge = registration_options(RP, uuid.uuid4(), "jan@example.nl", [])
    return authenticator, verify_registration(RP, authenticator.create(options), challenge)


def test_register_then_log_in():
    authenticator, passkey = _registered()
    assert passkey.credential_id == authenticator.credential_id
    options, challenge = authentication_options(RP, [passkey.credential_id])
    count = verify_authentication(
        RP, authenticator.get(options), challenge, passkey.public_key, passkey.sign_count
    )
    assert count > passkey.sign_count


def test_the_relying_party_comes_from_the_base_url():
    assert RelyingParty.from_base_url("http://localhost:8000") == RelyingParty(
        "localhost", "Postvak", "http://localhost:8000"
    )


def test_another_challenge_is_refused():
    authenticator, passkey = _registered()
    options, _ = authentication_options(RP, [passkey.credential_id])
    with pytest.raises(PasskeyRejected):
        verify_authentication(
            RP, authenticator.get(options), b"x" * 32, passkey.public_key, passkey.sign_count
        )


def test_a_phishing_origin_is_refused():
    options, challenge = registration_options(RP, uuid.uuid4(), "jan@example.nl", [])
    phished = SoftAuthenticator(RP.id, "https://postvak.example.com")
    with pytest.raises(PasskeyRejected):
        verify_registration(RP, phished.create(options), challenge)


def test_another_key_cannot_sign_for_the_passkey():
    authenticator, passkey = _registered()
    impostor = SoftAuthenticator(RP.id, RP.origin)
    impostor.credential_id = authenticator.credential_id
    options, challenge = authentication_options(RP, [passkey.credential_id])
    with pytest.raises(PasskeyRejected):
        verify_authentication(RP, impostor.get(options), challenge, passkey.public_key, passkey.sign_count)


def test_garbage_is_refused_cleanly():
    _, challenge = registration_options(RP, uuid.uuid4(), "jan@example.nl", [])
    with pytest.raises(PasskeyRejected):
        verify_registration(RP, '{"id": "x"}', challenge)
