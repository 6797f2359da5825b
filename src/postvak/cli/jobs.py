"""`postvak jobs`: the worker's jobs that failed or were parked, listed, run again or discarded."""

from __future__ import annotations

import typer

from postvak.cli.output import emit, fail
from postvak.cli.startup import start_runtime
from postvak.errors import Problem

app = typer.Typer(help="The worker's jobs that failed or were parked.", no_args_is_help=True)


@app.command("list")
def jobs_list(
    parked: bool = typer.Option(False, "--parked", help="Only parked jobs (those that wait for you)."),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, the newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List the jobs that failed and are not done: retrying ones and parked ones (dead letters)."""
    from postvak.jobs import service

    runtime = start_runtime()
    with runtime.database.unit_of_work(write=False) as session:
        views = service.list_failing_jobs(session, parked_only=parked, limit=limit)
    rows = [view.as_dict() for view in views]
    lines = [
        f"{r['id']:>10}  {r['kind']:16} {r['state']:8} failed {r['failures']:>2} of {r['attempts']:>3} runs"
        f"  {r['lastError'] or ''}"
        for r in rows
    ]
    emit({"jobs": rows}, as_json, lines or ["no failing or parked jobs"])


@app.command("retry")
def jobs_retry(
    job_id: str, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
) -> None:
    """Run a parked (or failing, or discarded) job again now, its failures forgotten."""
    from postvak.jobs import service

    _job_command(service.retry_job, job_id, as_json, "will run again now")


@app.command("discard")
def jobs_discard(
    job_id: str, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
) -> None:
    """Close a parked (or failing) job without running it."""
    from postvak.jobs import service

    _job_command(service.discard_job, job_id, as_json, "is discarded")


def _job_command(use_case, job_id: str, as_json: bool, done: str) -> None:
    runtime = start_runtime()
    try:
        number = _job_id(job_id)
        with runtime.database.unit_of_work() as session:
            view = use_case(session, job_id=number)
    except Problem as problem:
        fail(problem, as_json)
    emit(view.as_dict(), as_json, [f"job {view.id} ({view.kind}) {done}"])


def _job_id(text: str) -> int:
    from postvak.errors import ValidationFailed

    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationFailed("not a job id (a whole number)")
    return int(text)
