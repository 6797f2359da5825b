"""Column types and SQL expressions that differ between SQLite and PostgreSQL."""

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")
UtcDateTime = DateTime(timezone=True)


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
