"""Use cases of the address register: load it from a file, look up where a message goes on paper."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from postvak.addresses import repository, rules
from postvak.addresses.csvfile import Rejected, read_register
from postvak.addresses.rules import AddressIn
from postvak.kit import clock

CHUNK_SIZE = 2000  # rows per transaction: a million-row file never sits in memory, nor in one transaction
MAX_LISTED = 1000  # rejected lines named in the report; the count covers them all


@dataclass
class ImportReport:
    imported: int = 0
    rejected: int = 0
    rejected_lines: list[Rejected] = field(default_factory=list)  # the first MAX_LISTED, in file order

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "rejected": self.rejected,
            "rejectedLines": [{"line": r.line, "reason": r.reason} for r in self.rejected_lines],
        }


def import_addresses(
    *, lines: Iterable[str], save: Callable[[list[AddressIn]], None], chunk_size: int = CHUNK_SIZE
) -> ImportReport:
    """Read the register file line by line and hand its good rows to `save` in chunks.

    `save` is the edge's: it stores one chunk in a transaction of its own (store_addresses),
    so what was read is stored as it goes and memory stays at one chunk. A bad line is
    rejected alone, with its line number and reason. A header that is wrong raises
    ValidationFailed before anything is stored.
    """
    report = ImportReport()
    chunk: list[AddressIn] = []
    for item in read_register(lines):
        if isinstance(item, Rejected):
            report.rejected += 1
            if len(report.rejected_lines) < MAX_LISTED:
                report.rejected_lines.append(item)
            continue
        chunk.append(item)
        if len(chunk) >= chunk_size:
            save(chunk)
            report.imported += len(chunk)
            chunk = []
    if chunk:
        save(chunk)
        report.imported += len(chunk)
    return report


def store_addresses(session: Session, *, addresses: Sequence[AddressIn]) -> None:
    """Insert or replace these addresses; of two rows for one BSN the later wins, as in the file."""
    now = clock.now()
    rows = {a.bsn: {**a.as_row(), "updated_at": now} for a in addresses}
    repository.upsert_addresses(session, list(rows.values()))


def find_envelope_addresses(session: Session, *, bsns: Iterable[str]) -> dict[str, list[str]]:
    """BSN → the address lines for an envelope, for those BSNs the register knows."""
    return {
        bsn: rules.envelope_lines(
            name=a.name, street=a.street, house_number=a.house_number, postal_code=a.postal_code, city=a.city
        )
        for bsn, a in repository.addresses_by_bsn(session, bsns).items()
    }
