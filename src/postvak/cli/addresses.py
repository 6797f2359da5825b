"""`postvak addresses`: load the address register that the paper fallback prints letters to."""

from __future__ import annotations

from pathlib import Path

import typer

from postvak.cli.output import emit, fail
from postvak.cli.startup import start_runtime
from postvak.errors import Problem

app = typer.Typer(help="The address register, for letters printed on paper.", no_args_is_help=True)


@app.command("import")
def addresses_import(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        help="CSV with the columns bsn,name,street,houseNumber,postalCode,city[,municipalityCode]",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Load the address register: each line's address is added or replaces the one stored for its BSN.

    The file is read and stored in chunks; a bad line is rejected alone (named by its line
    number, the header being line 1) and the command then exits 1. Importing again is safe.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from postvak.addresses import service
    from postvak.errors import InternalError

    runtime = start_runtime()

    def save(chunk) -> None:
        with runtime.database.unit_of_work() as session:
            service.store_addresses(session, addresses=chunk)

    try:
        # Undecodable bytes become surrogates, which the rules refuse: a bad line costs only itself.
        with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as lines:
            report = service.import_addresses(lines=lines, save=save)
    except Problem as problem:
        fail(problem, as_json)
    except SQLAlchemyError as exc:  # its text would quote the rows: personal data
        detail = (
            f"the database refused the import ({type(exc).__name__}); "
            "what was stored stays, and importing the file again is safe"
        )
        fail(InternalError(detail), as_json)
    lines_out = [f"imported {report.imported} addresses; rejected {report.rejected} lines"]
    lines_out += [f"line {r.line}: {r.reason}" for r in report.rejected_lines]
    if report.rejected > len(report.rejected_lines):
        lines_out.append(f"… and {report.rejected - len(report.rejected_lines)} more rejected lines")
    emit(report.as_dict(), as_json, lines_out)
    if report.rejected:
        raise typer.Exit(1)
