"""Bulk statements that both SQLite and PostgreSQL run in one round-trip."""

from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(
    session: Session,
    table: Table,
    rows: Sequence[dict],
    conflict_columns: Sequence[str],
    returning: str | None = None,
) -> set:
    """INSERT … ON CONFLICT DO NOTHING for many rows; returns the `returning` column of rows inserted.

    Under concurrent inserts of the same key, PostgreSQL waits for the other transaction
    and then skips the row. Callers sort `rows` by the conflict key so that concurrent
    batches take row locks in the same order.
    """
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    if returning is None:
        session.execute(statement, list(rows))
        return set()
    return set(session.scalars(statement.returning(table.c[returning]), list(rows)))


def insert_many(session: Session, table: Table, rows: Sequence[dict]) -> None:
    if rows:
        session.execute(table.insert(), list(rows))
