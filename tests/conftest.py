"""Fixtures shared by the whole suite: a migrated database (SQLite or PostgreSQL), the app, a sender.

Choose the database with `--db sqlite` (default) or `--db postgresql`; PostgreSQL runs in a
schema of its own per xdist worker in the `test` database on 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from postvak.app import build_app
from postvak.config import Settings
from postvak.db import Database, forget_databases, get_database
from postvak.kit import clock
from postvak.migrate import upgrade
from postvak.models import metadata
from postvak.runtime import Runtime, build_runtime
from tests.support.bsns import take_bsns
from tests.support.citizens import web_client  # noqa: F401 - a fixture for every test directory
from tests.support.letters import SenderHandle, register
from tests.support.logcheck import bsns_in
from tests.support.s3 import flaky_s3, moto_endpoint, s3_bucket  # noqa: F401 - S3 on loopback, for any test

PG_SERVER = os.environ.get("POSTVAK_TEST_PG", "postgresql://127.0.0.1:5432/test")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A BSN in any captured log line (stdout, stderr, logging) fails the test that produced it."""
    report = yield
    if report.when == "teardown" or report.failed:
        return report
    leaks = [bsn for _, _, text in item._report_sections for bsn in bsns_in(text)]
    if leaks:
        report.outcome = "failed"
        report.longrepr = f"a BSN appeared in the captured logs ({len(leaks)} times)"
    return report


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("POSTVAK_TEST_DB", "sqlite"),
        choices=["sqlite", "postgresql"],
        help="database to run the suite on",
    )


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def database_url(db_kind: str, tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A freshly migrated database for this test process."""
    if db_kind == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'postvak.db'}"
        from postvak.db import connect

        database = connect(url)
        upgrade(database)
        database.dispose()
        yield url
        return
    schema = f"pv_test_{worker_id}_{os.getpid()}"  # unique: several runs may share the server
    admin = create_engine(PG_SERVER.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    from postvak.db import connect

    database = connect(url)
    upgrade(database)
    database.dispose()
    yield url
    forget_databases()
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        base_url="http://testserver",
        sender_rate_per_second=1000,
        sender_rate_burst=1000,
        argon2_time_cost=1,
        argon2_memory_kib=64,
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    # Emptied first: a fresh key file over a database that still holds sealed rows is refused (keyfile.py).
    _empty_all_tables(get_database(settings.resolved_database_url))
    runtime = build_runtime(settings)
    yield runtime
    clock.set_clock(None)


def _empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.writer.begin() as conn:
        if database.is_sqlite:
            conn.execute(text("DELETE FROM inbox_search"))  # FTS5, not in the metadata
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        else:
            conn.execute(text(f"TRUNCATE inbox_search, {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sender(runtime: Runtime) -> SenderHandle:
    return register(runtime)


@pytest.fixture
def other_sender(runtime: Runtime) -> SenderHandle:
    return register(runtime, "Waterschap Elders", "00000001002220648000")


@pytest.fixture(scope="session")
def bsns() -> list[str]:
    return take_bsns(2000)
