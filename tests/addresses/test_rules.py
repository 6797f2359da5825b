"""What a valid row of the address register is, and how it goes on an envelope."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postvak.addresses.rules import InvalidAddress, envelope_lines, normalise_postal_code, parse_address
from tests.support.bsns import take_bsns

BSN = take_bsns(1)[0]


def _row(**fields):
    return {
        "bsn": BSN,
        "name": "J. de Vries",
        "street": "Oudegracht",
        "houseNumber": "12",
        "postalCode": "3511 AB",
        "city": "Utrecht",
        **fields,
    }


def test_a_good_row_is_trimmed_and_normalised():
    address = parse_address(_row(name="  J. de Vries ", postalCode="3511ab", municipalityCode="gm0344"))
    assert (address.bsn, address.name, address.postal_code, address.municipality_code) == (
        BSN,
        "J. de Vries",
        "3511 AB",
        "GM0344",
    )
    assert parse_address(_row(municipalityCode="")).municipality_code is None
    assert BSN not in repr(address) and "Vries" not in repr(address)


@pytest.mark.parametrize("code", ["3511AB", "3511 ab", " 3511 Ab ", "9999 ZZ", "1000AA"])
def test_dutch_postal_codes_in_any_usual_spelling(code):
    assert normalise_postal_code(code) in ("3511 AB", "9999 ZZ", "1000 AA")


@pytest.mark.parametrize(
    "code", ["0511 AB", "351 AB", "3511 A", "3511 SS", "3511 SA", "3511 SD", "3511-AB", "B-1000", ""]
)
def test_what_is_not_a_dutch_postal_code(code):
    assert normalise_postal_code(code) is None


@given(
    st.integers(1000, 9999),
    st.sampled_from("ABCDEFGHJKLMNPRTUVWXZ"),
    st.sampled_from("ABCDEFGHJKLMNPRTUVWXZ"),
)
def test_every_issued_postal_code_normalises_to_digits_space_letters(number, first, second):
    assert normalise_postal_code(f"{number}{first.lower()}{second}") == f"{number} {first}{second}"


@pytest.mark.parametrize("number", ["1", "12", "12A", "12 a", "12-2", "12 bis", "12-III", "99999", "3 hs"])
def test_house_numbers_with_letters_and_additions(number):
    assert parse_address(_row(houseNumber=number)).house_number == number


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"bsn": "123456789"}, "bsn: the BSN fails the check digit (elfproef)"),
        ({"bsn": "12345"}, "bsn: a BSN has 9 digits"),
        ({"bsn": ""}, "bsn: a BSN consists of digits only"),
        ({"name": " "}, "name: is required"),
        ({"name": "x" * 201}, "name: at most 200 characters"),
        (
            {"street": "Oude\u202egracht"},
            "street: may not contain the bidirectional control character U+202E",
        ),
        ({"city": "Utrecht\x00"}, "city: may not contain the control character U+0000"),
        ({"city": "Utrecht\nZuid"}, "city: may not contain a line break or tab (U+000A)"),
        ({"name": "=HYPERLINK(1)"}, "name: may not start with =, +, - or @"),
        ({"name": "bad \udcff byte"}, "name: not valid UTF-8"),
        (
            {"houseNumber": "0"},
            "houseNumber: a house number is 1 to 99999, perhaps with a letter or addition",
        ),
        (
            {"houseNumber": "A12"},
            "houseNumber: a house number is 1 to 99999, perhaps with a letter or addition",
        ),
        ({"postalCode": "1234"}, "postalCode: not a Dutch postal code (four digits, two letters: 1234 AB)"),
        (
            {"municipalityCode": "0344"},
            "municipalityCode: a CBS municipality code is GM and four digits (GM0344)",
        ),
    ],
)
def test_bad_rows_say_which_column_and_why_without_the_value(fields, reason):
    with pytest.raises(InvalidAddress) as raised:
        parse_address(_row(**fields))
    assert str(raised.value) == reason
    assert BSN not in str(raised.value)


def test_envelope_lines_as_postnl_asks():
    assert envelope_lines(
        name="J. de Vries", street="Oudegracht", house_number="12 bis", postal_code="3511 AB", city="Utrecht"
    ) == ["J. de Vries", "Oudegracht 12 bis", "3511 AB  UTRECHT"]
