"""Background work of webhooks: run one claimed delivery job, from loading its endpoint to recording
what the receiver answered."""

from __future__ import annotations

import random
from collections.abc import Callable

import structlog

from postvak.db import Database
from postvak.jobs.models import ClaimedJob
from postvak.jobs.rules import error_summary
from postvak.jobs.worker import record_failure
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.netguard import GuardedClient
from postvak.webhooks import service
from postvak.webhooks.service import Outcome

log = structlog.get_logger("postvak.webhooks")


def event_source(base_url: str) -> str:
    """The CloudEvents `source` of every event: the installation's messages, so that source and
    subject (the message id) together name the message's resource."""
    return f"{base_url.rstrip('/')}/api/v1/messages"


def run_delivery(
    database: Database,
    keyring: KeyRing,
    client: GuardedClient,
    job: ClaimedJob,
    *,
    source: str,
    max_failures: int,
    jitter: Callable[[], float] = random.random,
) -> Outcome:
    """Deliver one claimed job: load its endpoint and secrets, sign, POST through the guard, record.

    Three short steps, and no transaction is open during the POST (up to 15 s): on SQLite an open
    write transaction would stop every other writer that long. A receiver that fails is no failure
    of the job: it is retried on the delivery's own schedule for three days. A job whose own run
    raises (a secret that fails its integrity check, say) is: it is retried with the worker's
    backoff and parked after `max_failures` such runs, for an operator (`postvak jobs list`); when
    not even that can be recorded (the database gone) it returns after its lease.
    """
    try:
        return _deliver(database, keyring, client, job, source=source, jitter=jitter)
    except Exception as exc:  # noqa: BLE001 - this job fails alone, and not forever
        retry_at = record_failure(database, job, error_summary(exc), max_failures)
        return Outcome("retry" if retry_at else "parked", retry_at=retry_at, error="internal")


def _deliver(database, keyring, client, job: ClaimedJob, *, source: str, jitter) -> Outcome:
    with database.unit_of_work(write=False) as session:
        delivery = service.load_delivery(session, keyring=keyring, job=job, source=source)
    if delivery is None:
        log.info("webhook dropped", job_id=job.id, endpoint_id=str(service.read_endpoint_id(job)))
        with database.unit_of_work() as session:
            return service.drop_delivery(session, job=job, now=clock.now())
    answer = service.attempt_delivery(delivery, client=client, now=clock.now())
    with database.unit_of_work() as session:
        outcome = service.settle_attempt(
            session, delivery=delivery, answer=answer, now=clock.now(), jitter=jitter()
        )
    log.info(
        "webhook attempted",
        job_id=job.id,
        endpoint_id=str(delivery.endpoint_id),
        result=outcome.result,
        status=answer.status,
        error=answer.error,
        ms=round(answer.seconds * 1000),
    )
    return outcome
