"""Pure rules about citizens' accounts: e-mail addresses, usernames, TOTP secrets, e-mailed codes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_LOCAL_PART = 64
# The local part as people use it: no quoted strings, comments or IP-literal domains.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^[A-Za-z]{2,63}$|^xn--[A-Za-z0-9-]{1,59}$")

MIN_TOTP_SECRET_BITS = 128  # RFC 4226: at least 128 bits, 160 recommended
LANGUAGES = ("nl", "en")

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5


def email_problem(address: str) -> str | None:
    """Why `address` is not an e-mail address we can deliver to, or None when it is.

    The answer never repeats the address (problem details and logs stay free of it).
    """
    if not isinstance(address, str) or not address.isascii() or any(ch.isspace() for ch in address):
        return "an e-mail address has no spaces and uses plain letters, digits and punctuation"
    if len(address) > MAX_EMAIL_LENGTH:
        return f"an e-mail address has at most {MAX_EMAIL_LENGTH} characters"
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return "an e-mail address looks like name@example.nl"
    if len(local) > MAX_LOCAL_PART or not _LOCAL.match(local):
        return "the part before the @ of the e-mail address is not valid"
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        return "the part after the @ of the e-mail address is not a valid domain"
    return None


def normalise_email(address: str) -> str:
    """Trimmed, with the domain in lower case (domains are case-insensitive, local parts need not be)."""
    local, _, domain = address.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else address.strip()


def username_for(email: str) -> str:
    """The username of an account is its first e-mail address, in lower case."""
    return normalise_email(email).lower()


def totp_secret_problem(secret: str) -> str | None:
    try:
        raw = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        return "a TOTP secret is base32 (letters A-Z and digits 2-7)"
    if len(raw) * 8 < MIN_TOTP_SECRET_BITS:
        return f"a TOTP secret has at least {MIN_TOTP_SECRET_BITS} bits (26 base32 characters)"
    return None


def code_hash(address_id: uuid.UUID, code: str) -> str:
    """The e-mailed code bound to its address row, so a hash cannot be moved to another address."""
    return hashlib.sha256(address_id.bytes + b"|" + code.encode()).hexdigest()


def code_outcome(
    *,
    stored_hash: str | None,
    expires_at: datetime | None,
    attempts: int,
    address_id: uuid.UUID,
    code: str,
    now: datetime,
) -> str:
    """One of "ok", "wrong", "expired", "exhausted" (too many attempts) or "none" (no code sent)."""
    if stored_hash is None or expires_at is None:
        return "none"
    if attempts >= MAX_CODE_ATTEMPTS:
        return "exhausted"
    if now >= expires_at:
        return "expired"
    if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS):
        return "wrong"
    return "ok" if hmac.compare_digest(stored_hash, code_hash(address_id, code)) else "wrong"


def mask_email(address: str) -> str:
    """j…n@example.nl: enough for the citizen to recognise, little for someone looking over a shoulder."""
    local, _, domain = address.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}…@{domain}"
    return f"{local[0]}…{local[-1]}@{domain}"
