"""Every query on the address register."""

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from postvak.addresses.models import Address

_CHUNK = 1000
_UPDATED = ("name", "street", "house_number", "postal_code", "city", "municipality_code", "updated_at")


def upsert_addresses(session: Session, rows: Sequence[dict]) -> None:
    """Insert each row, or overwrite the row already stored for its BSN (one statement, many rows)."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Address.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["bsn"], set_={column: statement.excluded[column] for column in _UPDATED}
    )
    session.execute(statement, sorted(rows, key=lambda r: r["bsn"]))  # one lock order for concurrent imports


def addresses_by_bsn(session: Session, bsns: Iterable[str]) -> dict[str, Address]:
    wanted = sorted(set(bsns))
    found: dict[str, Address] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(Address).where(Address.bsn.in_(wanted[start : start + _CHUNK]))
        found.update({a.bsn: a for a in session.scalars(query)})
    return found


def count_addresses(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Address)) or 0
