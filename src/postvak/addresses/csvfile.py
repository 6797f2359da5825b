"""Reads the register file (`postvak addresses import`): a header, then one address per line, streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from postvak.addresses.rules import COLUMNS, REQUIRED_COLUMNS, AddressIn, InvalidAddress, parse_address
from postvak.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int  # the header is line 1
    reason: str


def read_register(lines: Iterable[str]) -> Iterator[AddressIn | Rejected]:
    """Each data line of the file as an address or the reason it is refused, in file order.

    `lines` is the file opened as text (UTF-8, BOM or not; undecodable bytes as surrogates).
    Every physical line is a record of its own: no address holds a line break, and a stray
    quote must cost its own line, not swallow the lines after it. Raises ValidationFailed
    when the header is missing or wrong: then nothing can be read.
    """
    lines = iter(lines)
    header_line = next(lines, "")
    delimiter = ";" if ";" in header_line and "," not in header_line else ","
    columns = _columns(_split(header_line, delimiter))
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue  # blank lines (a trailing newline, say) carry nothing
        try:
            values = _split(line, delimiter)
        except csv.Error:
            yield Rejected(number, "malformed CSV (check the quotes)")
            continue
        if len(values) != len(columns):
            yield Rejected(number, f"expected {len(columns)} columns, found {len(values)}")
            continue
        try:
            yield parse_address(dict(zip(columns, values, strict=True)))
        except InvalidAddress as exc:
            yield Rejected(number, str(exc))


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter, strict=True), [])


def _columns(names: list[str]) -> list[str]:
    """The header's column names as API.md spells them (matched without regard to case)."""
    known = {column.lower(): column for column in COLUMNS}
    columns = [known.get(name.strip().lower(), "") for name in names]
    if "" in columns or len(set(columns)) != len(columns):
        raise ValidationFailed(
            "line 1: the header must name the columns " + ",".join(REQUIRED_COLUMNS) + "[,municipalityCode]"
        )
    if missing := [c for c in REQUIRED_COLUMNS if c not in columns]:
        raise ValidationFailed(f"line 1: the header lacks the column(s) {', '.join(missing)}")
    return columns
