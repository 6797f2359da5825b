"""Pure rules of the address register: what a valid row is, and how an address is written on an envelope."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from postvak.kit.bsn import bsn_problem
from postvak.kit.text import text_problem

# The register file's columns, as API.md names them; the last one may be left out.
COLUMNS = ("bsn", "name", "street", "houseNumber", "postalCode", "city", "municipalityCode")
REQUIRED_COLUMNS = COLUMNS[:6]

# Longest values accepted (the population register's own limits are below these).
MAX_LENGTHS = {"name": 200, "street": 100, "houseNumber": 20, "city": 80}

# 1234 AB: four digits not starting with 0, two letters; PostNL never issues SA, SD or SS.
_POSTAL_CODE = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})")
_UNISSUED_LETTERS = {"SA", "SD", "SS"}
# A house number 1–99999, then perhaps a letter or an addition: 12, 12A, 12-2, 12 bis, 12-III.
_HOUSE_NUMBER = re.compile(r"[1-9][0-9]{0,4}(?:[ /-]?[A-Za-z0-9][A-Za-z0-9 /-]*)?")
_MUNICIPALITY_CODE = re.compile(r"GM[0-9]{4}", re.IGNORECASE)
# A cell starting with one of these is a formula to a spreadsheet (a print shop opens the manifest).
_FORMULA_STARTS = ("=", "+", "-", "@")


class InvalidAddress(ValueError):
    """Why a row cannot be stored: names the column, never repeats a value (they are personal data)."""


@dataclass(frozen=True, slots=True)
class AddressIn:
    bsn: str
    name: str
    street: str
    house_number: str
    postal_code: str
    city: str
    municipality_code: str | None = None

    def __repr__(self) -> str:  # never the BSN or the address, not even in a failing assertion
        return "AddressIn(…)"

    def as_row(self) -> dict[str, str | None]:
        return {
            "bsn": self.bsn,
            "name": self.name,
            "street": self.street,
            "house_number": self.house_number,
            "postal_code": self.postal_code,
            "city": self.city,
            "municipality_code": self.municipality_code,
        }


def parse_address(fields: Mapping[str, str | None]) -> AddressIn:
    """One row of the register file, by column name, checked and normalised; raises InvalidAddress."""
    bsn = (fields.get("bsn") or "").strip()
    if problem := bsn_problem(bsn):
        raise InvalidAddress(f"bsn: {problem}")
    name, street, house_number, city = (
        _text(fields, column) for column in ("name", "street", "houseNumber", "city")
    )
    if not _HOUSE_NUMBER.fullmatch(house_number):
        raise InvalidAddress("houseNumber: a house number is 1 to 99999, perhaps with a letter or addition")
    postal_code = normalise_postal_code(_text(fields, "postalCode"))
    if postal_code is None:
        raise InvalidAddress("postalCode: not a Dutch postal code (four digits, two letters: 1234 AB)")
    code = (fields.get("municipalityCode") or "").strip()
    if code and not _MUNICIPALITY_CODE.fullmatch(code):
        raise InvalidAddress("municipalityCode: a CBS municipality code is GM and four digits (GM0344)")
    return AddressIn(bsn, name, street, house_number, postal_code, city, code.upper() or None)


def _text(fields: Mapping[str, str | None], column: str) -> str:
    raw = fields.get(column) or ""
    if any("\udc80" <= char <= "\udcff" for char in raw):  # how undecodable bytes arrive (surrogateescape)
        raise InvalidAddress(f"{column}: not valid UTF-8")
    value = raw.strip()
    if not value:
        raise InvalidAddress(f"{column}: is required")
    if problem := text_problem(value):
        raise InvalidAddress(f"{column}: {problem}")
    if len(value) > MAX_LENGTHS.get(column, 20):
        raise InvalidAddress(f"{column}: at most {MAX_LENGTHS.get(column, 20)} characters")
    if value.startswith(_FORMULA_STARTS):
        raise InvalidAddress(f"{column}: may not start with =, +, - or @")
    return value


def normalise_postal_code(value: str) -> str | None:
    """`1234ab`, `1234 AB` → `1234 AB`; None when it is not a Dutch postal code."""
    found = _POSTAL_CODE.fullmatch(value.strip())
    if not found or found.group(2).upper() in _UNISSUED_LETTERS:
        return None
    return f"{found.group(1)} {found.group(2).upper()}"


def envelope_lines(*, name: str, street: str, house_number: str, postal_code: str, city: str) -> list[str]:
    """The address as PostNL asks it on an envelope: name; street and number; postal code, two
    spaces and the place in capitals."""
    return [name, f"{street} {house_number}", f"{postal_code}  {city.upper()}"]
