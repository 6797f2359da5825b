"""`postvak print`: the paper fallback's letters that wait to be printed, listed and printed again."""

from __future__ import annotations

import typer

from postvak.cli.output import emit
from postvak.cli.startup import start_runtime

app = typer.Typer(help="The paper fallback: letters waiting to be printed.", no_args_is_help=True)


@app.command("waiting")
def print_waiting(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    limit: int = typer.Option(1000, min=1, max=100_000),
) -> None:
    """List letters that are to be printed but are not: no address in the register, or not printable."""
    from postvak.printing import service

    runtime = start_runtime()
    with runtime.database.unit_of_work(write=False) as session:
        waiting = service.list_messages_not_printed(session, limit=limit)
    rows = [
        {
            "messageId": str(w.message_id),
            "sender": w.sender_name,
            "senderReference": w.sender_reference,
            "state": w.state,
            "detail": w.detail,
            "since": w.since.isoformat().replace("+00:00", "Z"),
        }
        for w in waiting
    ]
    emit(
        {"letters": rows},
        as_json,
        [
            f"{r['messageId']}  {r['state']:15}  {r['sender']} ({r['senderReference']}): {r['detail']}"
            for r in rows
        ]
        or ["no letters are waiting to be printed"],
    )


@app.command("retry")
def print_retry(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Print the letters that waited for an address (after `postvak addresses import`) or failed."""
    from postvak.printing import service

    runtime = start_runtime()
    with runtime.database.unit_of_work() as session:
        outcome = service.print_waiting_messages(session)
    result = {
        "claimed": len(outcome.claimed),
        "batches": [str(b) for b in outcome.batches],
        "waitingForAddress": len(outcome.waiting_for_address),
    }
    emit(
        result,
        as_json,
        [
            f"{result['claimed']} letters queued for print in {len(outcome.batches)} batches; "
            f"{result['waitingForAddress']} still wait for an address"
        ],
    )
