"""Applies the Alembic migrations (`postvak db upgrade`, and on start of serve and demo)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from postvak.db import Database


def migrations_dir() -> Path:
    """The source tree's migrations/ (editable installs), else the copy inside the wheel."""
    source = Path(__file__).resolve().parents[2] / "migrations"
    return source if (source / "env.py").exists() else Path(__file__).parent / "_migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(database: Database) -> None:
    config = alembic_config(database.url)
    with database.writer.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several `postvak serve` processes may start at once; one migrates, the others wait.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7074657276)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
