"""Pure rules about citizens' accounts: e-mail addresses, phone numbers, usernames, codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_LOCAL_PART = 64
# The local part as people use it: no quoted strings, comments or IP-literal domains.
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^[A-Za-z]{2,63}$|^xn--[A-Za-z0-9-]{1,59}$")

LANGUAGES = ("nl", "en")

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=15)
MAX_CODE_ATTEMPTS = 5

MAX_EMAIL_ADDRESSES = 5


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


def code_hash(address_id: uuid.UUID, code: str) -> str:
    """The e-mailed code bound to its address row, so a hash cannot be moved to another address."""
    return hashlib.sha256(address_id.bytes + b"|" + code.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """Codes are read aloud and pasted: spaces and dashes are not part of them."""
    return "".join(ch for ch in code if ch not in " -\t")


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


# --- e-mail addresses in settings ------------------------------------------------------------


NOT_AN_EMAIL = "That does not look like an e-mail address. Check it and try again."


def email_removal_problem(*, verified: bool, verified_count: int) -> str | None:
    """Notifications need somewhere to go: the last verified address stays."""
    if verified and verified_count <= 1:
        return "You need at least one verified e-mail address. Add and verify another one first."
    return None


def email_limit_problem(count: int) -> str | None:
    if count >= MAX_EMAIL_ADDRESSES:
        return "You can have at most 5 e-mail addresses. Remove one first."
    return None


# --- phone numbers for SMS -------------------------------------------------------------------

_PHONE = re.compile(r"^\+[1-9][0-9]{7,14}$")  # E.164: at most 15 digits
_PHONE_SEPARATORS = " -.()/\t"


def normalise_phone(text: str) -> str:
    """E.164 as gateways want it: "06-1234 5678", "0031 6 12345678" and "+31612345678" are one number.

    A number starting with a single 0 is Dutch (the country of this mailbox).
    """
    number = "".join(ch for ch in text.strip() if ch not in _PHONE_SEPARATORS)
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return "+31" + number[1:]
    return number


def phone_problem(number: str) -> str | None:
    """Why a normalised number cannot receive our SMS, or None; never repeats the number."""
    if not _PHONE.match(number):
        return "A phone number has 10 digits, like 06 12345678, or starts with + and the country code."
    if number.startswith("+31") and not (len(number) == 12 and number.startswith("+316")):
        return "Text messages only reach a mobile number: in the Netherlands it starts with 06."
    return None


def show_phone(number: str) -> str:
    """How the citizen recognises their number: +31 6 1234 5678."""
    if number.startswith("+316") and len(number) == 12:
        return f"+31 6 {number[4:8]} {number[8:]}"
    return number


# --- reachability: may a sender's letter reach this person digitally? ------------------------------

MAX_REACHABILITY_CHECKS = 10_000  # recipients in one check (API.md)


@dataclass(frozen=True)
class Contact:
    """What the reachability query knows about one recipient's mailbox, and nothing that would be
    worth more than a yes or a no to the sender who asks."""

    activated: bool  # the mailbox was activated (its citizen logged in and verified an address)
    verified_email: bool  # at least one verified e-mail address
    sms_chosen: bool  # a verified mobile number, with SMS notifications on
    # The senders this citizen chose paper for. Today always empty: the choice does not exist yet.
    # The relevance issue adds it (`/settings/senders`, preference `paper`); the reachability query
    # then fills this set from that table in the same query, and nothing else here changes.
    paper_chosen_for: frozenset[uuid.UUID] = frozenset()


def chose_paper_for(sender_id: uuid.UUID, paper_chosen_for: frozenset[uuid.UUID]) -> bool:
    """The hook of the citizen's choice of paper for one sender: their letters then go on paper, so the
    citizen is not reachable digitally *for that sender* (for the others they still are)."""
    return sender_id in paper_chosen_for


def is_reachable(contact: Contact | None, *, sender_id: uuid.UUID) -> bool:
    """Reachable: an activated mailbox, a verified channel to tell the citizen a letter arrived (an
    e-mail address, or a phone with SMS on), and no choice of paper for this sender. No mailbox
    (`None`) is not reachable."""
    if contact is None or not contact.activated:
        return False
    if not (contact.verified_email or contact.sms_chosen):
        return False
    return not chose_paper_for(sender_id, contact.paper_chosen_for)
