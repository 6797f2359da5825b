"""`postvak senders`: register sender organisations, issue and revoke their API keys, suspend them."""

from __future__ import annotations

import uuid

import typer

from postvak.cli.output import emit, fail
from postvak.cli.startup import start_runtime
from postvak.errors import Problem

app = typer.Typer(help="Sender organisations and their API keys.", no_args_is_help=True)


@app.command("create")
def senders_create(
    name: str = typer.Option(..., help="The organisation's name, as citizens will see it."),
    oin: str = typer.Option(..., help="The organisation's OIN (20 digits)."),
    kind: str = typer.Option(..., help="municipality, water-board, province, national or other."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Register an organisation and print its id and a new API key (shown only now)."""
    from postvak.senders import service

    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work() as session:
            sender = service.register_sender(session, name=name, oin=oin, kind=kind)
            key = service.issue_api_key(session, sender_id=sender.id)
    except Problem as problem:
        fail(problem, as_json)
    result = {
        "id": str(sender.id),
        "name": sender.name,
        "oin": sender.oin,
        "kind": sender.kind,
        "apiKeyId": str(key.id),
        "apiKey": key.api_key,
    }
    emit(
        result,
        as_json,
        [
            f"organisation {sender.name} registered with id {sender.id}",
            f"API key (shown once): {key.api_key}",
        ],
    )


@app.command("list")
def senders_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the registered organisations and their API keys (never the keys themselves)."""
    from postvak.senders import repository

    runtime = start_runtime()
    with runtime.database.unit_of_work(write=False) as session:
        rows = [
            {
                "id": str(s.id),
                "name": s.name,
                "oin": s.oin,
                "kind": s.kind,
                "status": s.status,
                "keys": [
                    {"id": str(k.id), "prefix": k.prefix, "revoked": k.revoked_at is not None}
                    for k in repository.list_keys(session, s.id)
                ],
            }
            for s in repository.list_senders(session)
        ]
    emit(
        {"senders": rows},
        as_json,
        [f"{r['id']}  {r['oin']}  {r['status']:9}  {r['name']}  ({len(r['keys'])} keys)" for r in rows],
    )


@app.command("add-key")
def senders_add_key(sender_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Issue another API key for an organisation (e.g. to rotate keys without downtime)."""
    from postvak.senders import service

    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work() as session:
            key = service.issue_api_key(session, sender_id=_uuid(sender_id))
    except Problem as problem:
        fail(problem, as_json)
    emit({"apiKeyId": str(key.id), "apiKey": key.api_key}, as_json, [f"API key (shown once): {key.api_key}"])


@app.command("revoke-key")
def senders_revoke_key(key_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    from postvak.senders import service

    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work() as session:
            service.revoke_api_key(session, key_id=_uuid(key_id))
    except Problem as problem:
        fail(problem, as_json)
    emit({"apiKeyId": key_id, "revoked": True}, as_json, ["API key revoked"])


@app.command("set-status")
def senders_set_status(sender_id: str, status: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Suspend (`suspended`) or re-activate (`active`) an organisation."""
    from postvak.senders import service

    runtime = start_runtime()
    try:
        with runtime.database.unit_of_work() as session:
            service.set_sender_status(session, sender_id=_uuid(sender_id), status=status)
    except Problem as problem:
        fail(problem, as_json)
    emit({"id": sender_id, "status": status}, as_json, [f"organisation is now {status}"])


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        from postvak.errors import ValidationFailed

        raise ValidationFailed("not an id") from None
