"""Reading the register file: the header, one record per line, every bad line rejected alone."""

import io

import pytest

from postvak.addresses.csvfile import Rejected, read_register
from postvak.addresses.rules import AddressIn
from postvak.errors import ValidationFailed
from tests.support.bsns import take_bsns

A, B, C = take_bsns(3)
HEADER = "bsn,name,street,houseNumber,postalCode,city,municipalityCode\n"


def _read(text: str) -> list:
    return list(read_register(io.StringIO(text, newline="")))


def test_good_lines_become_addresses_and_bad_ones_name_their_line():
    found = _read(
        HEADER
        + f"{A},J. de Vries,Oudegracht,12,3511ab,Utrecht,GM0344\n"
        + "123456789,X,Y,1,1234 AB,Z,\n"
        + f'{B},"Vries, J. de",Oudegracht,"12 bis",3511 AB,Utrecht,\n'
        + "\n"
        + f"{C},too,few,columns\n"
    )
    assert isinstance(found[0], AddressIn) and found[0].postal_code == "3511 AB"
    assert found[1] == Rejected(3, "bsn: the BSN fails the check digit (elfproef)")
    assert (
        isinstance(found[2], AddressIn)
        and found[2].name == "Vries, J. de"
        and found[2].municipality_code is None
    )
    assert found[3] == Rejected(6, "expected 7 columns, found 4")  # the blank line 5 is skipped
    assert len(found) == 4


def test_semicolons_crlf_any_column_order_and_no_municipality_column():
    found = _read(
        f"City;BSN;name;street;housenumber;postalcode\r\nUtrecht;{A};J. de Vries;Oudegracht;12;3511 AB\r\n"
    )
    [address] = found
    assert (address.bsn, address.city, address.municipality_code) == (A, "Utrecht", None)


def test_a_stray_quote_costs_its_own_line_only():
    found = _read(
        HEADER + f'{A},"J. de Vries,Oudegracht,12,3511 AB,Utrecht,\n' + f"{B},K,Straat,1,1234 AB,Stad,\n"
    )
    assert found[0] == Rejected(2, "malformed CSV (check the quotes)")
    assert isinstance(found[1], AddressIn) and found[1].bsn == B


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("", "line 1: the header lacks the column(s) bsn, name, street, houseNumber, postalCode, city"),
        ("bsn,name,street,houseNumber,postcode,city\n", "line 1: the header must name the columns"),
        ("bsn,name,street,houseNumber,postalCode,city,city\n", "line 1: the header must name the columns"),
        (f"{A},J. de Vries,Oudegracht,12,3511 AB,Utrecht\n", "line 1: the header must name the columns"),
        ("bsn,name,street,houseNumber,postalCode\n", "line 1: the header lacks the column(s) city"),
    ],
)
def test_a_wrong_header_refuses_the_whole_file(header, detail):
    with pytest.raises(ValidationFailed) as raised:
        _read(header)
    assert raised.value.detail.startswith(detail) and A not in raised.value.detail


def test_the_file_is_read_as_it_goes():
    """A generator of lines is consumed one record at a time: nothing is read ahead."""
    consumed = []

    def lines():
        yield HEADER
        for n, bsn in enumerate(take_bsns(50)):
            consumed.append(n)
            yield f"{bsn},Naam {n},Straat,{n + 1},1234 AB,Stad,\n"

    reader = read_register(lines())
    next(reader)
    next(reader)
    assert consumed == [0, 1]
