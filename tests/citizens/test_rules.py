"""Pure rules of accounts: e-mail address shape, usernames, e-mailed codes, phone numbers."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from postvak.citizens import rules

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ADDRESS_ID = uuid.UUID("0192d1c4-52a4-7a4e-8d1e-2c5f0c6a9b11")


@pytest.mark.parametrize(
    "address",
    ["jan@example.nl", "j.de.vries+post@gemeente.utrecht.nl", "o'brien@example.co.uk", "x@xn--bcher-kva.nl"],
)
def test_ordinary_addresses_are_accepted(address):
    assert rules.email_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "",
        "jan",
        "jan@",
        "@gemeente.nl",
        "jan@example",
        "jan@@example.nl",
        "jan..jansen@example.nl",
        "jan@-example.nl",
        "jan @example.nl",
        "jan@example.nl\r\nBcc: victim@example.nl",
        "jan@exämple.nl",
        "a" * 65 + "@example.nl",
        "jan@" + "a" * 250 + ".nl",
    ],
)
def test_malformed_addresses_are_refused_without_repeating_them(address):
    problem = rules.email_problem(address)
    assert problem and (not address or address not in problem)


def test_usernames_are_lower_cased_addresses():
    assert rules.normalise_email("  Jan.Jansen@Example.NL ") == "Jan.Jansen@example.nl"
    assert rules.username_for("Jan.Jansen@Example.NL") == "jan.jansen@example.nl"


def outcome(
    code: str, *, attempts: int = 0, expires: timedelta = timedelta(minutes=15), stored: str = "123456"
):
    return rules.code_outcome(
        stored_hash=rules.code_hash(ADDRESS_ID, stored),
        expires_at=NOW + expires,
        attempts=attempts,
        address_id=ADDRESS_ID,
        code=code,
        now=NOW,
    )


def test_an_emailed_code_is_right_wrong_expired_or_used_up():
    assert outcome("123456") == "ok"
    assert outcome("123457") == "wrong"
    assert outcome("12345") == "wrong"
    assert outcome("123456", expires=timedelta(0)) == "expired"
    assert outcome("123456", attempts=rules.MAX_CODE_ATTEMPTS) == "exhausted"
    assert (
        rules.code_outcome(
            stored_hash=None, expires_at=None, attempts=0, address_id=ADDRESS_ID, code="123456", now=NOW
        )
        == "none"
    )


def test_codes_may_be_typed_with_spaces():
    assert rules.normalise_code(" 123 456 ") == "123456"


def test_a_code_hash_is_bound_to_its_address():
    assert rules.code_hash(ADDRESS_ID, "123456") != rules.code_hash(uuid.uuid4(), "123456")


def test_masked_addresses_keep_the_domain():
    assert rules.mask_email("jan.jansen@example.nl") == "j…n@example.nl"
    assert rules.mask_email("j@example.nl") == "j…@example.nl"


# --- settings: phone numbers, removals, second factors ---------------------------------------


@pytest.mark.parametrize(
    "typed", ["06-1234 5678", "0612345678", "+31 6 12345678", "0031 (6) 1234.5678", " +31612345678 "]
)
def test_a_dutch_mobile_number_is_one_number_however_it_is_typed(typed):
    assert rules.normalise_phone(typed) == "+31612345678"
    assert rules.phone_problem(rules.normalise_phone(typed)) is None


@pytest.mark.parametrize("typed", ["12345", "06 1234", "+31 6 123456789", "phone", "+0612345678", ""])
def test_numbers_that_are_not_numbers_are_refused(typed):
    assert rules.phone_problem(rules.normalise_phone(typed)) is not None


def test_only_mobile_numbers_get_text_messages():
    assert "mobile" in rules.phone_problem(rules.normalise_phone("030 123 4567"))
    assert (
        rules.phone_problem(rules.normalise_phone("+32 470 12 34 56")) is None
    )  # abroad: the gateway decides
    assert rules.show_phone("+31612345678") == "+31 6 1234 5678"
    assert rules.show_phone("+32470123456") == "+32470123456"


def test_the_last_verified_address_stays():
    assert rules.email_removal_problem(verified=True, verified_count=1) is not None
    assert rules.email_removal_problem(verified=True, verified_count=2) is None
    assert rules.email_removal_problem(verified=False, verified_count=1) is None
