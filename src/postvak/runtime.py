"""The running system's parts, built once from Settings: database, key ring, blob store, SMS provider,
and the worker that runs the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from starlette.requests import Request

from postvak.auth.service import forget_expired_throttles
from postvak.blobs.filesystem import FilesystemBlobStore
from postvak.blobs.store import BlobStore
from postvak.config import ConfigurationError, Settings
from postvak.db import Database, get_database
from postvak.flows.due_dates import DueDateLane
from postvak.flows.publishing import publish_scheduled_message
from postvak.inbox.jobs import PURGE_JOB, purge_bin
from postvak.jobs.worker import Worker
from postvak.keyfile import load_keyring
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.messages import history
from postvak.messages.service import PUBLISH_JOB
from postvak.notifications.lanes import EmailLane, SmsLane
from postvak.notifications.sms import ConsoleSms, HttpGatewaySms, SmsProvider
from postvak.printing.jobs import PrintLane
from postvak.printing.service import PRINT_MESSAGES_JOB, print_requested_messages
from postvak.webhooks.lanes import WebhookLane
from postvak.webhooks.service import KEEP_DELIVERIES, plan_deliveries, prune_deliveries

# Where the SMS gateway posts its signed delivery reports (received by the notifications domain).
SMS_REPORTS_PATH = "/callbacks/sms"


@dataclass
class Runtime:
    settings: Settings
    database: Database
    keyring: KeyRing
    blobs: BlobStore
    sms: SmsProvider = field(default_factory=ConsoleSms)


def runtime_of(request: Request) -> Runtime:
    """The runtime serving a request: the web app and the sender API each hold it in their state."""
    return request.app.state.runtime


def build_runtime(settings: Settings) -> Runtime:
    """Raises ConfigurationError, saying what to fix, when the key file or the blob store cannot be used."""
    if not settings.database_url:
        # The default SQLite database lives there; other users of the data dir make their own directories,
        # so a scaled-out process (PostgreSQL, S3, a shared key file) writes nothing to its local disk.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The blob store first: a process stopped by a wrong setting has made no key file.
    blobs = build_blobs(settings)
    database = get_database(settings.resolved_database_url)
    listen_to_status_events()
    return Runtime(
        settings=settings,
        database=database,
        keyring=load_keyring(settings, database),
        blobs=blobs,
        sms=build_sms(settings),
    )


def listen_to_status_events() -> None:
    """Every status event, in the transaction that adds it, plans its webhook deliveries: messages
    sits below webhooks, so it is told here rather than importing it (registering twice is once)."""
    history.listen(plan_deliveries)


def build_blobs(settings: Settings) -> BlobStore:
    """The filesystem store (default, or a file:// URL), or an S3 bucket, checked now so that a missing or
    unreachable bucket stops the process at start rather than at its first attachment."""
    scheme = urlsplit(settings.blob_url).scheme.lower() if settings.blob_url else "file"
    if scheme == "file":
        return FilesystemBlobStore(settings.blob_dir)
    if scheme == "s3":
        from postvak.blobs.s3 import S3BlobStore  # boto3 is loaded only where S3 is used

        store = S3BlobStore.from_url(settings.blob_url)
        store.check()
        return store
    # Only the scheme: the rest of a URL may hold a password.
    given = f"a {scheme}: URL" if scheme else "a bare path"
    raise ConfigurationError(f"POSTVAK_BLOB_URL is file:///path or s3://bucket/prefix, not {given}")


def build_sms(settings: Settings) -> SmsProvider:
    """The console by default; the HTTP gateway when configured (it must then be configured fully)."""
    if settings.sms_provider == "console":
        return ConsoleSms()
    if settings.sms_provider != "http":
        raise ValueError(f"POSTVAK_SMS_PROVIDER is 'console' or 'http', not {settings.sms_provider!r}")
    if not (settings.sms_gateway_url and settings.sms_gateway_token and settings.sms_callback_secret):
        raise ValueError("the http SMS provider needs POSTVAK_SMS_GATEWAY_URL, _TOKEN and CALLBACK_SECRET")
    callback = settings.base_url.rstrip("/") + SMS_REPORTS_PATH
    return HttpGatewaySms(settings.sms_gateway_url, settings.sms_gateway_token, callback)


def job_handlers() -> dict:
    """Every kind of background job that runs on its own, and the use case that runs it."""
    return {
        PUBLISH_JOB: publish_scheduled_message,
        PURGE_JOB: purge_bin,
        PRINT_MESSAGES_JOB: print_requested_messages,
    }


def build_worker(runtime: Runtime) -> Worker:
    """The worker with all its lanes (single jobs, e-mail notifications, SMS notifications, ends of due
    dates, print batches, webhook deliveries) and its hourly housekeeping (finished jobs, expired log-in
    throttles, old webhook delivery attempts)."""
    lanes = [
        EmailLane(runtime.database, runtime.settings),
        SmsLane(runtime.database, runtime.settings, runtime.sms),
        DueDateLane(runtime.database, max_failures=runtime.settings.job_max_failures),
        PrintLane(runtime.database, runtime.settings, runtime.keyring, runtime.blobs),
        WebhookLane(runtime.database, runtime.keyring, runtime.settings),
    ]
    return Worker(
        runtime.database,
        job_handlers(),
        lanes=lanes,
        poll_seconds=runtime.settings.worker_poll_seconds,
        lease=timedelta(seconds=runtime.settings.worker_lease_seconds),
        max_failures=runtime.settings.job_max_failures,
        chores={"throttles": forget_expired_throttles, "webhook-deliveries": forget_old_deliveries},
    )


def forget_old_deliveries(session: Session) -> int:
    """One step of housekeeping: forget webhook delivery attempts older than KEEP_DELIVERIES."""
    return prune_deliveries(session, before=clock.now() - KEEP_DELIVERIES)
