"""UtcDateTime: every moment stored as UTC and read back aware in UTC, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.exc import StatementError

from postvak.kit.sqltypes import UtcDateTime

MOMENT = datetime(2026, 12, 1, 18, 52, 32, 250000, tzinfo=UTC)
SAME_MOMENT = [
    MOMENT,
    MOMENT.astimezone(timezone(timedelta(hours=-5))),  # 13:52:32-05:00
    MOMENT.astimezone(timezone(timedelta(hours=1))),
    MOMENT.astimezone(timezone(timedelta(hours=14))),
    MOMENT.astimezone(timezone(timedelta(hours=-12))),
    MOMENT.astimezone(timezone(timedelta(hours=5, minutes=45))),
]


@pytest.fixture
def probe(runtime):
    """A table of its own, so the type is tested apart from any domain's columns."""
    table = Table("utc_probe", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
    engine = runtime.database.writer
    table.create(engine, checkfirst=True)
    yield engine, table
    table.drop(engine)


@pytest.mark.parametrize("moment", SAME_MOMENT, ids=lambda m: m.strftime("%z"))
def test_a_moment_in_any_offset_is_stored_as_utc_and_read_back_aware(probe, moment):
    engine, table = probe
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, at=moment))
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL TIME ZONE 'America/St_Johns'"))  # the session's zone must not matter
        read = conn.scalar(select(table.c.at))
        raw = conn.scalar(text("SELECT CAST(at AS TEXT) FROM utc_probe"))
        # The comparison's parameter is converted too: the moment is found in every spelling.
        assert [conn.scalar(select(table.c.id).where(table.c.at == same)) for same in SAME_MOMENT] == [1] * 6
        assert conn.scalar(select(table.c.id).where(table.c.at > moment - timedelta(microseconds=1))) == 1
        assert conn.scalar(select(table.c.id).where(table.c.at > moment)) is None
    assert read == MOMENT and read.utcoffset() == timedelta(0) and read.tzinfo is UTC
    if engine.dialect.name == "sqlite":
        assert raw == "2026-12-01 18:52:32.250000"  # the UTC wall time, not 13:52 of -05:00


def test_a_moment_without_an_offset_is_refused(probe):
    engine, table = probe
    with pytest.raises(StatementError, match="UTC offset"), engine.begin() as conn:
        conn.execute(insert(table).values(id=1, at=datetime(2026, 12, 1, 13, 52, 32)))


def test_null_stays_null(probe):
    engine, table = probe
    with engine.begin() as conn:
        conn.execute(insert(table).values(id=1, at=None))
        assert conn.scalar(select(table.c.at)) is None
