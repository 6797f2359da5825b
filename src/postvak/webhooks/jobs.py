"""Background work of webhooks: run one claimed delivery job, from loading its endpoint to recording
what the receiver answered."""

from __future__ import annotations

import random
from collections.abc import Callable

import structlog

from postvak.db import Database
from postvak.jobs.repository import ClaimedJob
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
    jitter: Callable[[], float] = random.random,
) -> Outcome:
    """Deliver one claimed job: load its endpoint and secrets, sign, POST through the guard, record.

    Three short steps, and no transaction is open during the POST (up to 15 s): on SQLite an open
    write transaction would stop every other writer that long. A job that cannot run (a secret that
    fails its integrity check, say) is tried again later like a failed attempt and given up after
    three days; when not even that can be recorded (the database gone) it returns after its lease.
    """
    try:
        return _deliver(database, keyring, client, job, source=source, jitter=jitter)
    except Exception as exc:  # noqa: BLE001 - this job fails alone, and not forever
        log.exception("webhook delivery could not run", job_id=job.id)
        with database.unit_of_work() as session:
            return service.fail_delivery(
                session, job=job, error=f"{type(exc).__name__}: {exc}", now=clock.now(), jitter=jitter()
            )


def _deliver(database, keyring, client, job: ClaimedJob, *, source: str, jitter) -> Outcome:
    with database.unit_of_work(write=False) as session:
        delivery = service.prepare_delivery(session, keyring, job=job, source=source)
    if delivery is None:
        log.info("webhook dropped", job_id=job.id, endpoint_id=str(service.endpoint_of(job)))
        with database.unit_of_work() as session:
            return service.drop_delivery(session, job=job, now=clock.now())
    answer = service.deliver(delivery, client=client, now=clock.now())
    with database.unit_of_work() as session:
        outcome = service.record_attempt(
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
