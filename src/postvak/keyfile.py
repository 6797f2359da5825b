"""The installation's key file: made once by the first process to start, never anew over sealed data."""

from __future__ import annotations

from sqlalchemy import inspect, select

from postvak.config import ConfigurationError, Settings
from postvak.db import Database
from postvak.kit.crypto import KeyRing
from postvak.models import metadata


def load_keyring(settings: Settings, database: Database) -> KeyRing:
    """The key ring in POSTVAK_KEY_FILE, created there on a fresh installation.

    Processes that start together on a fresh installation all end up with the one file that was linked
    into place first (KeyRing.load_or_create). A missing file while the database already holds sealed
    data means the file was lost, or this process looks in the wrong place (a share not mounted, a path
    that differs per machine): a new key would seal this process's messages under a key no other process
    has, and could open nothing sealed before. So that is refused, naming a key the data needs.
    """
    path = settings.resolved_key_file
    try:
        if not path.exists():
            needed = _a_key_in_use(database)
            if needed:
                raise ConfigurationError(
                    f"POSTVAK_KEY_FILE {path} does not exist, but the database holds data sealed under key "
                    f"{needed!r}: point POSTVAK_KEY_FILE at this installation's key file (every process "
                    "reads the same one) or restore it from a backup. A new key would open none of it."
                )
        return KeyRing.load_or_create(path)
    except ConfigurationError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        # Permissions, not JSON, a corrupt file: these messages name the reason, never the file's content.
        raise ConfigurationError(
            f"POSTVAK_KEY_FILE {path} cannot be used: {type(exc).__name__}: {exc}"
        ) from exc


def _a_key_in_use(database: Database) -> str | None:
    """The id of a key that some stored data is sealed under; None on a fresh or not yet migrated database.

    Every sealed value carries its key id in a column named `*kek_id`, in any domain's table, so this
    looks at the whole schema rather than through one domain's repository. It runs only when the key
    file is missing, and reads at most one row per such column.
    """
    with database.reader.connect() as connection:
        schema = inspect(connection)
        tables = set(schema.get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in tables:
                continue
            present = {column["name"] for column in schema.get_columns(table.name)}
            for column in table.columns:
                if column.name.endswith("kek_id") and column.name in present:
                    found = connection.scalar(select(column).where(column.is_not(None)).limit(1))
                    if found:
                        return found
    return None
