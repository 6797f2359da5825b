"""Passkey (WebAuthn) ceremonies: options for the browser and verification of its answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)


class PasskeyRejected(Exception):
    """The browser's answer did not verify (wrong origin, challenge, signature or counter)."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: derived from POSTVAK_BASE_URL, never from request headers."""

    id: str
    name: str
    origin: str

    @classmethod
    def from_base_url(cls, base_url: str) -> RelyingParty:
        parts = urlsplit(base_url)
        return cls(
            id=parts.hostname or "localhost", name="Postvak", origin=f"{parts.scheme}://{parts.netloc}"
        )


@dataclass(frozen=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes
    sign_count: int


def registration_options(
    rp: RelyingParty, *, citizen_id: uuid.UUID, username: str, existing: list[bytes]
) -> tuple[str, bytes]:
    """Options JSON for navigator.credentials.create, and the challenge to keep server-side."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=citizen_id.bytes,
        user_name=username,
        user_display_name=username,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in existing],
    )
    return options_to_json(options), options.challenge


def verify_registration(rp: RelyingParty, *, credential: str, challenge: bytes) -> NewPasskey:
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("the passkey could not be registered") from exc
    return NewPasskey(verified.credential_id, verified.credential_public_key, verified.sign_count)


def authentication_options(rp: RelyingParty, *, credential_ids: list[bytes]) -> tuple[str, bytes]:
    """Options JSON for navigator.credentials.get, limited to this citizen's passkeys."""
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in credential_ids],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def credential_id_of(*, credential: str) -> bytes:
    """The id of the passkey that signed a log-in, to find its public key (nothing is verified yet)."""
    try:
        return parse_authentication_credential_json(credential).raw_id
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("not a passkey's answer") from exc


def verify_authentication(
    rp: RelyingParty, *, credential: str, challenge: bytes, public_key: bytes, sign_count: int
) -> int:
    """Verify a log-in with a passkey; returns the authenticator's new signature counter."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=public_key,
            credential_current_sign_count=sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyRejected("the passkey did not verify") from exc
    return verified.new_sign_count
