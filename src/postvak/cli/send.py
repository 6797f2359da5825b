"""`postvak send`: a JSON-lines file of letters through the batch API (see batch_client), summarised."""

from __future__ import annotations

from pathlib import Path

import typer

from postvak.cli.output import emit, err


def send(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one letter a line."),
    api_url: str = typer.Option(..., help="e.g. http://127.0.0.1:8000"),
    api_key: str = typer.Option(..., envvar="POSTVAK_API_KEY"),
    batch_size: int = typer.Option(1000, min=1, max=1000),
    concurrency: int = typer.Option(4, min=1, max=16),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Send a JSON-lines file of letters through the API in batches, with a progress bar.

    Exit status 0: every letter delivered.
    1: some lines rejected; the summary names each once, with its problem.
    2: the run stopped before every letter was sent (API key, address, server).
    Sending the same file again is safe: letters delivered before answer 'existing'.
    """
    from postvak.cli.batch_client import send_file

    summary = send_file(
        file,
        api_url,
        api_key,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=not as_json,
        console=err,
    )
    emit(summary.as_dict(), as_json, summary.lines())
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)
