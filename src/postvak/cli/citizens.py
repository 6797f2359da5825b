"""`postvak citizens`: create an activated citizen account from the command line."""

from __future__ import annotations

import typer

from postvak.cli.output import emit, fail
from postvak.cli.startup import start_runtime
from postvak.errors import Problem

app = typer.Typer(help="Citizens' accounts.", no_args_is_help=True)


@app.command("create")
def citizens_create(
    bsn: str = typer.Option(..., help="The citizen's BSN (never printed)."),
    email: str = typer.Option(..., help="A verified e-mail address; also the username."),
    password: str = typer.Option(
        ..., envvar="POSTVAK_CITIZEN_PASSWORD", help="At least 12 characters, not a common password."
    ),
    totp_secret: str = typer.Option(None, help="Base32 TOTP secret (128+ bits); a new one when left out."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create an activated account (verified e-mail, TOTP second factor) and print its TOTP secret."""
    from postvak.flows import activation

    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work() as session:
            citizen, secret = activation.register_citizen(
                session,
                keyring=runtime.keyring,
                bsn=bsn,
                email=email,
                password=password,
                totp_secret=totp_secret,
            )
    except Problem as problem:
        fail(problem, as_json)
    emit(
        {"id": str(citizen.id), "username": citizen.username, "totpSecret": secret},
        as_json,
        [
            f"citizen account {citizen.id} created; username {citizen.username}",
            f"TOTP secret (add it to an authenticator app): {secret}",
        ],
    )
