"""Column types and SQL expressions that differ between SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """A moment, stored as UTC and always read back as an aware UTC datetime, on both databases.

    SQLite keeps a datetime as text and drops its offset: 13:52-05:00 would be stored as 13:52,
    five hours early. So every moment is converted to UTC on the way in (values and the
    parameters of comparisons alike), and a naive one is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a moment without a UTC offset cannot be stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class current_tx_seq(FunctionElement):  # noqa: N801 - SQL function names are lower case
    """The writing transaction's id on PostgreSQL; 0 on SQLite, whose writers are serial.

    Event feeds order by (tx_seq, id) and only read transactions older than every running
    one (see snapshot_horizon), so a slow transaction can never commit an event behind a
    cursor that a reader already passed.
    """

    type = BigInteger()
    inherit_cache = True


@compiles(current_tx_seq, "postgresql")
def _tx_seq_pg(element, compiler, **kw) -> str:
    return "(pg_current_xact_id()::text::bigint)"


@compiles(current_tx_seq)
def _tx_seq_default(element, compiler, **kw) -> str:
    return "0"


class snapshot_horizon(FunctionElement):  # noqa: N801
    """The oldest transaction id still running (PostgreSQL); effectively infinite on SQLite."""

    type = BigInteger()
    inherit_cache = True


@compiles(snapshot_horizon, "postgresql")
def _horizon_pg(element, compiler, **kw) -> str:
    return "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"


@compiles(snapshot_horizon)
def _horizon_default(element, compiler, **kw) -> str:
    return "1"
