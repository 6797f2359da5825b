"""The runtime a command works in: settings, logging, the database migrated; a bad configuration exits 2."""

from __future__ import annotations

import typer
from rich.markup import escape

from postvak.cli.output import err
from postvak.config import ConfigurationError, Settings, get_settings


def start_runtime(settings: Settings | None = None):
    from postvak.kit.logging import configure_logging
    from postvak.migrate import upgrade
    from postvak.runtime import build_runtime

    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    try:
        runtime = build_runtime(settings)
    except ConfigurationError as problem:
        err.print(f"[red]Configuration:[/red] {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    upgrade(runtime.database)
    return runtime
