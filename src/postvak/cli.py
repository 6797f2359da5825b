"""The `postvak` command: serve, work, migrate, onboard senders and citizens, rotate keys, look after the
worker's jobs, send, demo, load the address register and look after the paper fallback."""

from __future__ import annotations

import json
import shutil
import signal
import uuid
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from postvak.config import ConfigurationError, Settings, get_settings
from postvak.errors import Problem

app = typer.Typer(
    help="Postvak: the government's digital mailbox.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
senders_app = typer.Typer(help="Sender organisations and their API keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
citizens_app = typer.Typer(help="Citizens' accounts.", no_args_is_help=True)
jobs_app = typer.Typer(help="The worker's jobs that failed or were parked.", no_args_is_help=True)
addresses_app = typer.Typer(help="The address register, for letters printed on paper.", no_args_is_help=True)
print_app = typer.Typer(help="The paper fallback: letters waiting to be printed.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(senders_app, name="senders")
app.add_typer(citizens_app, name="citizens")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(addresses_app, name="addresses")
app.add_typer(print_app, name="print")

err = Console(stderr=True)
out = Console(soft_wrap=True)


def _runtime(settings: Settings | None = None, *, migrate: bool = True):
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
    if migrate:
        upgrade(runtime.database)
    return runtime


def _emit(result: dict, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(result, default=str))
    else:
        for line in lines:
            out.print(line)


def _fail(problem: Problem, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": problem.slug, "detail": problem.detail}))
    else:
        err.print(f"[red]{problem.title}:[/red] {problem.detail}")
    raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    _runtime()
    out.print("database is up to date")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Run the background worker thread."),
) -> None:
    """Serve the web pages and the sender API (and the worker thread)."""
    _serve(_runtime(), host, port, worker)


def _serve(runtime, host: str, port: int, with_worker: bool) -> None:
    import uvicorn

    from postvak.app import build_app
    from postvak.runtime import build_worker

    background = None
    if with_worker:
        background = build_worker(runtime)
        background.start_thread()
    try:
        uvicorn.run(
            build_app(runtime),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        if background:
            background.stop()


@app.command()
def worker() -> None:
    """Run only the background worker (scale-out: any number of these on PostgreSQL)."""
    from postvak.runtime import build_worker

    runtime = _runtime()
    worker = build_worker(runtime)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()


@senders_app.command("create")
def senders_create(
    name: str = typer.Option(..., help="The organisation's name, as citizens will see it."),
    oin: str = typer.Option(..., help="The organisation's OIN (20 digits)."),
    kind: str = typer.Option(..., help="municipality, water-board, province, national or other."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Register an organisation and print its id and a new API key (shown only now)."""
    from postvak.senders import service

    runtime = _runtime()
    try:
        with runtime.database.unit_of_work() as session:
            sender = service.register_sender(session, name=name, oin=oin, kind=kind)
            key = service.issue_api_key(session, sender.id)
    except Problem as problem:
        _fail(problem, as_json)
    result = {
        "id": str(sender.id),
        "name": sender.name,
        "oin": sender.oin,
        "kind": sender.kind,
        "apiKeyId": str(key.id),
        "apiKey": key.api_key,
    }
    _emit(
        result,
        as_json,
        [
            f"organisation {sender.name} registered with id {sender.id}",
            f"API key (shown once): {key.api_key}",
        ],
    )


@senders_app.command("list")
def senders_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the registered organisations and their API keys (never the keys themselves)."""
    from postvak.senders import repository

    runtime = _runtime()
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
    _emit(
        {"senders": rows},
        as_json,
        [f"{r['id']}  {r['oin']}  {r['status']:9}  {r['name']}  ({len(r['keys'])} keys)" for r in rows],
    )


@senders_app.command("add-key")
def senders_add_key(sender_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Issue another API key for an organisation (e.g. to rotate keys without downtime)."""
    from postvak.senders import service

    runtime = _runtime()
    try:
        with runtime.database.unit_of_work() as session:
            key = service.issue_api_key(session, _uuid(sender_id))
    except Problem as problem:
        _fail(problem, as_json)
    _emit({"apiKeyId": str(key.id), "apiKey": key.api_key}, as_json, [f"API key (shown once): {key.api_key}"])


@senders_app.command("revoke-key")
def senders_revoke_key(key_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    from postvak.senders import service

    runtime = _runtime()
    try:
        with runtime.database.unit_of_work() as session:
            service.revoke_api_key(session, _uuid(key_id))
    except Problem as problem:
        _fail(problem, as_json)
    _emit({"apiKeyId": key_id, "revoked": True}, as_json, ["API key revoked"])


@senders_app.command("set-status")
def senders_set_status(sender_id: str, status: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Suspend (`suspended`) or re-activate (`active`) an organisation."""
    from postvak.senders import service

    runtime = _runtime()
    try:
        with runtime.database.unit_of_work() as session:
            service.set_sender_status(session, _uuid(sender_id), status)
    except Problem as problem:
        _fail(problem, as_json)
    _emit({"id": sender_id, "status": status}, as_json, [f"organisation is now {status}"])


@citizens_app.command("create")
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

    runtime = _runtime()
    try:
        with runtime.database.unit_of_work() as session:
            citizen, secret = activation.open_account(
                session,
                keyring=runtime.keyring,
                bsn=bsn,
                email=email,
                password=password,
                totp_secret=totp_secret,
            )
    except Problem as problem:
        _fail(problem, as_json)
    _emit(
        {"id": str(citizen.id), "username": citizen.username, "totpSecret": secret},
        as_json,
        [
            f"citizen account {citizen.id} created; username {citizen.username}",
            f"TOTP secret (add it to an authenticator app): {secret}",
        ],
    )


@jobs_app.command("list")
def jobs_list(
    parked: bool = typer.Option(False, "--parked", help="Only parked jobs (those that wait for you)."),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, the newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """List the jobs that failed and are not done: retrying ones and parked ones (dead letters)."""
    from postvak.jobs import service

    runtime = _runtime()
    with runtime.database.unit_of_work(write=False) as session:
        views = service.failing_jobs(session, parked_only=parked, limit=limit)
    rows = [view.as_dict() for view in views]
    lines = [
        f"{r['id']:>10}  {r['kind']:16} {r['state']:8} failed {r['failures']:>2} of {r['attempts']:>3} runs"
        f"  {r['lastError'] or ''}"
        for r in rows
    ]
    _emit({"jobs": rows}, as_json, lines or ["no failing or parked jobs"])


@jobs_app.command("retry")
def jobs_retry(
    job_id: str, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
) -> None:
    """Run a parked (or failing, or discarded) job again now, its failures forgotten."""
    from postvak.jobs import service

    _job_command(service.retry_job, job_id, as_json, "will run again now")


@jobs_app.command("discard")
def jobs_discard(
    job_id: str, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
) -> None:
    """Close a parked (or failing) job without running it."""
    from postvak.jobs import service

    _job_command(service.discard_job, job_id, as_json, "is discarded")


def _job_command(use_case, job_id: str, as_json: bool, done: str) -> None:
    runtime = _runtime()
    try:
        number = _job_id(job_id)
        with runtime.database.unit_of_work() as session:
            view = use_case(session, job_id=number)
    except Problem as problem:
        _fail(problem, as_json)
    _emit(view.as_dict(), as_json, [f"job {view.id} ({view.kind}) {done}"])


@keys_app.command("rotate")
def keys_rotate(as_json: bool = typer.Option(False, "--json")) -> None:
    """Make a new key-encryption key and re-wrap every data key under it (content is not re-encrypted):
    letters, attachments, citizens' TOTP secrets and their pending changes."""
    from postvak.attachments.service import rewrap_blob_keys
    from postvak.auth.credentials import rewrap_totp_keys
    from postvak.citizens.service import rewrap_pending_keys
    from postvak.messages.service import rewrap_body_keys

    runtime = _runtime()
    new_id = runtime.keyring.rotate()
    # Short transactions: one long one would hold back every sender's event feed on PostgreSQL.
    steps = (rewrap_body_keys, rewrap_blob_keys, rewrap_totp_keys, rewrap_pending_keys)
    letters, files, totp, pending = (_repeat_until_done(runtime, step) for step in steps)
    _emit(
        {
            "keyId": new_id,
            "letters": letters,
            "attachments": files,
            "totpSecrets": totp,
            "pendingChanges": pending,
        },
        as_json,
        [
            f"new key {new_id}; re-wrapped {letters} letters, {files} attachments, "
            f"{totp} TOTP secrets and {pending} pending changes"
        ],
    )


def _repeat_until_done(runtime, step) -> int:
    total = 0
    while True:
        with runtime.database.unit_of_work() as session:
            done = step(session, runtime.keyring)
        if not done:
            return total
        total += done


@app.command()
def send(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON lines, one letter a line."),
    api_url: str = typer.Option(..., help="e.g. http://127.0.0.1:8000"),
    api_key: str = typer.Option(..., envvar="POSTVAK_API_KEY"),
    batch_size: int = typer.Option(1000, min=1, max=1000),
    concurrency: int = typer.Option(4, min=1, max=16),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Send a JSON-lines file of letters through the API in batches, with a progress bar."""
    from postvak.sending import send_file

    summary = send_file(
        file,
        api_url,
        api_key,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=not as_json,
        console=err,
    )
    _emit(summary.as_dict(), as_json, summary.lines())
    if summary.failed_batches:
        raise typer.Exit(1)


@addresses_app.command("import")
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

    runtime = _runtime()

    def save(chunk) -> None:
        with runtime.database.unit_of_work() as session:
            service.store_addresses(session, addresses=chunk)

    try:
        # Undecodable bytes become surrogates, which the rules refuse: a bad line costs only itself.
        with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as lines:
            report = service.import_addresses(lines=lines, save=save)
    except Problem as problem:
        _fail(problem, as_json)
    except SQLAlchemyError as exc:  # its text would quote the rows: personal data
        detail = (
            f"the database refused the import ({type(exc).__name__}); "
            "what was stored stays, and importing the file again is safe"
        )
        _fail(InternalError(detail), as_json)
    lines_out = [f"imported {report.imported} addresses; rejected {report.rejected} lines"]
    lines_out += [f"line {r.line}: {r.reason}" for r in report.rejected_lines]
    if report.rejected > len(report.rejected_lines):
        lines_out.append(f"… and {report.rejected - len(report.rejected_lines)} more rejected lines")
    _emit(report.as_dict(), as_json, lines_out)
    if report.rejected:
        raise typer.Exit(1)


@print_app.command("waiting")
def print_waiting(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    limit: int = typer.Option(1000, min=1, max=100_000),
) -> None:
    """List letters that are to be printed but are not: no address in the register, or not printable."""
    from postvak.printing import service

    runtime = _runtime()
    with runtime.database.unit_of_work(write=False) as session:
        waiting = service.letters_not_printed(session, limit=limit)
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
    _emit(
        {"letters": rows},
        as_json,
        [
            f"{r['messageId']}  {r['state']:15}  {r['sender']} ({r['senderReference']}): {r['detail']}"
            for r in rows
        ]
        or ["no letters are waiting to be printed"],
    )


@print_app.command("retry")
def print_retry(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Print the letters that waited for an address (after `postvak addresses import`) or failed."""
    from postvak.printing import service

    runtime = _runtime()
    with runtime.database.unit_of_work() as session:
        outcome = service.print_waiting_letters(session)
    result = {
        "claimed": len(outcome.claimed),
        "batches": [str(b) for b in outcome.batches],
        "waitingForAddress": len(outcome.waiting_for_address),
    }
    _emit(
        result,
        as_json,
        [
            f"{result['claimed']} letters queued for print in {len(outcome.batches)} batches; "
            f"{result['waitingForAddress']} still wait for an address"
        ],
    )


@app.command()
def demo(port: int = typer.Option(8000), host: str = typer.Option("127.0.0.1")) -> None:
    """Create a fresh SQLite demo with organisations and letters, and serve it."""
    from postvak.demo import seed_demo

    settings = get_settings()
    data_dir = settings.data_dir / "demo"
    shutil.rmtree(data_dir, ignore_errors=True)  # the demo always starts from scratch
    update = {
        "data_dir": data_dir,
        "database_url": "",
        "blob_url": "",
        "key_file": None,
        "base_url": f"http://{host}:{port}",
    }
    if "smtp_url" not in settings.model_fields_set:  # no mail server configured: keep the e-mails as files
        update["smtp_url"] = f"file://{(data_dir / 'mail').resolve()}"
    if "sms_provider" not in settings.model_fields_set:  # SMS through the stub gateway, reports and all
        update |= _demo_sms_gateway()
    settings = settings.model_copy(update=update)
    runtime = _runtime(settings)
    for line in seed_demo(runtime):
        out.print(line)
    if settings.smtp_url.startswith("file:"):
        out.print(f"E-mails (notifications, codes) are written to {data_dir / 'mail'} as .eml files.")
    out.print(
        f"\nPostvak demo on [bold]http://{host}:{port}[/bold] — API docs at /api/v1/docs. Ctrl-C stops."
    )
    _serve(runtime, host, port, True)


def _demo_sms_gateway() -> dict:
    """The stub SMS gateway on loopback, as the demo's provider: its texts appear in this log."""
    import secrets

    from postvak.notifications.sms_stub import StubGateway, serve_in_thread

    token, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    url = serve_in_thread(StubGateway(token, secret))
    return {
        "sms_provider": "http",
        "sms_gateway_url": f"{url}/messages",
        "sms_gateway_token": token,
        "sms_callback_secret": secret,
    }


def _job_id(text: str) -> int:
    from postvak.errors import ValidationFailed

    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise ValidationFailed("not a job id (a whole number)")
    return int(text)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        from postvak.errors import ValidationFailed

        raise ValidationFailed("not an id") from None


if __name__ == "__main__":
    app()
