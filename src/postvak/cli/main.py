"""The `postvak` command: serve, work, migrate and demo here; each group of commands in a module of its own
(senders, citizens, keys, jobs, addresses, print), `send` beside its batch client, and `statements`."""

from __future__ import annotations

import shutil
import signal

import typer

from postvak.cli import addresses, citizens, jobs, keys, printing, senders
from postvak.cli.output import out
from postvak.cli.send import send
from postvak.cli.startup import start_runtime
from postvak.cli.statements import statements
from postvak.config import get_settings

app = typer.Typer(
    help="Postvak: the government's digital mailbox.", no_args_is_help=True, pretty_exceptions_enable=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
# In the order `postvak --help` lists them.
app.add_typer(db_app, name="db")
app.add_typer(senders.app, name="senders")
app.add_typer(citizens.app, name="citizens")
app.add_typer(keys.app, name="keys")
app.add_typer(jobs.app, name="jobs")
app.add_typer(addresses.app, name="addresses")
app.add_typer(printing.app, name="print")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    start_runtime()
    out.print("database is up to date")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Run the background worker thread."),
) -> None:
    """Serve the web pages and the sender API (and the worker thread)."""
    _serve(start_runtime(), host, port, worker)


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

    runtime = start_runtime()
    worker = build_worker(runtime)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run_forever()
    except KeyboardInterrupt:
        worker.stop()


app.command()(send)
app.command()(statements)


@app.command()
def demo(port: int = typer.Option(8000), host: str = typer.Option("127.0.0.1")) -> None:
    """Create a fresh SQLite demo with organisations and letters, and serve it."""
    from postvak.cli.demo import seed_demo

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
    runtime = start_runtime(settings)
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
