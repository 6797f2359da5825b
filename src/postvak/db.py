"""Engine, sessions and the SQLite/PostgreSQL differences; the edge opens and commits the unit of work."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


@dataclass
class Database:
    """The engines of one database: SQLite gets a separate writer engine (see _sqlite_engine)."""

    url: str
    reader: Engine
    writer: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.reader.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction, committed once when the block ends without an exception."""
        session = Session(bind=self.writer if write else self.reader, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not self.reader:
            self.writer.dispose()


def connect(url: str, *, pool_size: int = 10) -> Database:
    if url.startswith("sqlite"):
        return Database(url, _sqlite_engine(url, immediate=False), _sqlite_engine(url, immediate=True))
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    return Database(url, engine, engine)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    """A SQLite engine in WAL mode with synchronous=FULL and foreign keys on.

    Writers start with BEGIN IMMEDIATE: a deferred transaction that later wants to write can
    fail with "database is locked" no matter the busy timeout, which would turn an
    idempotent retry into an error. Readers start deferred and never block each other.
    """
    engine = create_engine(
        url,
        poolclass=NullPool if ":memory:" in url else None,
        connect_args={"check_same_thread": False, "timeout": 60},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


_lock = threading.Lock()
_databases: dict[str, Database] = {}


def get_database(url: str) -> Database:
    """One Database per URL per process (engines own connection pools)."""
    with _lock:
        if url not in _databases:
            _databases[url] = connect(url)
        return _databases[url]


def forget_databases() -> None:
    with _lock:
        for database in _databases.values():
            database.dispose()
        _databases.clear()
