"""`postvak statements`: an organisation's statement of one month, as the API answers it to the sender."""

from __future__ import annotations

import typer

from postvak.cli.output import emit, fail
from postvak.cli.startup import start_runtime
from postvak.errors import Problem, ValidationFailed


def statements(
    month: str = typer.Argument(..., help="The month, YYYY-MM (Dutch time); the current one so far."),
    oin: str | None = typer.Option(None, help="The organisation's OIN."),
    sender: str | None = typer.Option(None, help="Or the organisation's id."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Print an organisation's letters, e-mails, SMS and prints of one month, and what they cost."""
    from postvak.billing import service as billing
    from postvak.kit import clock
    from postvak.senders import service as senders

    if (oin is None) == (sender is None):
        fail(ValidationFailed("name the organisation with --oin or --sender (one of them)"), as_json)
    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work(write=False) as session:
            found = senders.find_sender(session, oin=oin, sender_id=sender)
            statement = billing.read_statement(
                session,
                sender_id=found.id,
                month=month,
                tariffs=billing.tariffs_of(runtime.settings),
                now=clock.now(),
            )
    except Problem as problem:
        fail(problem, as_json)
    result = statement.model_dump(mode="json", by_alias=True)
    amount, paper = result["amount"], result["paperEquivalent"]
    emit(
        result,
        as_json,
        [
            f"{found.name} (OIN {found.oin}), {result['month']} (Dutch time)",
            f"  letters  {result['letters']:>10}",
            f"  e-mails  {result['emails']:>10}  (included in the letter tariff)",
            f"  SMS      {result['sms']:>10}",
            f"  prints   {result['prints']:>10}",
            f"  amount   {amount['value']:>10} {amount['currency']}",
            f"  on paper {paper['value']:>10} {paper['currency']}  (the same letters sent on paper)",
        ],
    )
