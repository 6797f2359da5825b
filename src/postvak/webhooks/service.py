"""Use cases of webhooks: register, list, remove endpoints and rotate their secrets; plan each event's
deliveries in the transaction that stores the event; perform one delivery attempt and record it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from postvak.errors import IntegrityFailure, NotFound, ValidationFailed
from postvak.jobs import service as jobs
from postvak.jobs.models import ClaimedJob, NewJob
from postvak.kit import clock
from postvak.kit.crypto import IntegrityError, KeyRing, Sealed
from postvak.kit.ids import new_id, parse_id
from postvak.kit.netguard import Answer, GuardedClient, Policy, Refused, Unresolvable
from postvak.messages.history import StoredEvent
from postvak.webhooks import repository, rules
from postvak.webhooks.models import WebhookEndpoint
from postvak.webhooks.schemas import (
    CreatedWebhookEndpointOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointsOut,
    WebhookSecretOut,
)

DELIVERY_JOB = "webhook-delivery"
_CHUNK = 1000  # message ids per query: a database takes only so many parameters


# --- endpoints -----------------------------------------------------------------------------------


def create_endpoint(
    session: Session, *, keyring: KeyRing, sender_id: uuid.UUID, endpoint: WebhookEndpointIn, policy: Policy
) -> CreatedWebhookEndpointOut:
    """Register an endpoint; its secret is in this answer and nowhere else.

    The URL is checked (form, and every address its host resolves to) before the first statement:
    on SQLite the write lock is only taken then, and a slow DNS answer must not hold it.
    """
    event_types = None
    if endpoint.event_types is not None:
        if problem := rules.event_types_problem(endpoint.event_types):
            raise ValidationFailed(f"eventTypes: {problem}")
        event_types = sorted(set(endpoint.event_types), key=rules.EVENT_TYPES.index)
    try:
        policy.check_url(endpoint.url)
    except (Refused, Unresolvable) as exc:
        raise ValidationFailed(f"url: {exc}") from None
    if repository.count_endpoints(session, sender_id) >= rules.MAX_ENDPOINTS_PER_SENDER:
        raise ValidationFailed(
            f"url: an organisation has at most {rules.MAX_ENDPOINTS_PER_SENDER} webhook endpoints; "
            "delete one first"
        )
    row = WebhookEndpoint(
        id=new_id(), sender_id=sender_id, url=endpoint.url, event_types=event_types, created_at=clock.now()
    )
    key = rules.new_secret_key()
    _seal_current(keyring, row, key)
    repository.add_endpoint(session, row)
    return CreatedWebhookEndpointOut(**_view(row, row.created_at).model_dump(), secret=rules.secret_text(key))


def list_endpoints(session: Session, *, sender_id: uuid.UUID) -> WebhookEndpointsOut:
    now = clock.now()
    return WebhookEndpointsOut(
        webhook_endpoints=[_view(e, now) for e in repository.endpoints_of(session, sender_id)]
    )


def read_endpoint(session: Session, *, sender_id: uuid.UUID, endpoint_id: str) -> WebhookEndpointOut:
    return _view(_own(session, sender_id, endpoint_id), clock.now())


def delete_endpoint(session: Session, *, sender_id: uuid.UUID, endpoint_id: str) -> None:
    """Stop delivering to the endpoint; its queued deliveries are dropped when they come up.

    The row stays for the record of its deliveries, without its secrets: it can never sign again.
    """
    endpoint = _own(session, sender_id, endpoint_id, for_update=True)
    endpoint.deleted_at = clock.now()
    endpoint.secret_sealed = endpoint.secret_key = endpoint.secret_kek_id = None
    _forget_previous(endpoint)


def rotate_secret(
    session: Session, *, keyring: KeyRing, sender_id: uuid.UUID, endpoint_id: str
) -> WebhookSecretOut:
    """A new secret signs from now on; the one it replaces signs beside it for ROTATION_OVERLAP.

    A rotation during a rotation drops the oldest secret: never more than two signatures.
    """
    endpoint = _own(session, sender_id, endpoint_id, for_update=True)
    endpoint.previous_sealed = endpoint.secret_sealed
    endpoint.previous_key = endpoint.secret_key
    endpoint.previous_kek_id = endpoint.secret_kek_id
    endpoint.previous_until = clock.now() + rules.ROTATION_OVERLAP
    key = rules.new_secret_key()
    _seal_current(keyring, endpoint, key)
    session.flush()
    return WebhookSecretOut(secret=rules.secret_text(key))


def _own(
    session: Session, sender_id: uuid.UUID, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    parsed = parse_id(endpoint_id)
    endpoint = repository.get_endpoint(session, sender_id, parsed, for_update=for_update) if parsed else None
    if endpoint is None:
        raise NotFound("no webhook endpoint with this id")
    return endpoint


def _view(endpoint: WebhookEndpoint, now: datetime) -> WebhookEndpointOut:
    rotating = endpoint.previous_until is not None and clock.as_utc(endpoint.previous_until) > now
    return WebhookEndpointOut(
        id=str(endpoint.id),
        url=endpoint.url,
        event_types=list(endpoint.event_types or rules.EVENT_TYPES),
        created_at=clock.as_utc(endpoint.created_at),
        disabled_at=clock.as_utc(endpoint.disabled_at) if endpoint.disabled_at else None,
        disabled_reason=endpoint.disabled_reason,
        rotation_ends_at=clock.as_utc(endpoint.previous_until) if rotating else None,
    )


def _aad(endpoint_id: uuid.UUID) -> bytes:
    """Both secrets of an endpoint are bound to it, so a rotation only moves sealed columns."""
    return endpoint_id.bytes + b"|webhook-secret"


def _seal_current(keyring: KeyRing, endpoint: WebhookEndpoint, key: bytes) -> None:
    sealed = keyring.seal(key, _aad(endpoint.id))
    endpoint.secret_sealed, endpoint.secret_key, endpoint.secret_kek_id = (
        sealed.ciphertext,
        sealed.wrapped_key,
        sealed.kek_id,
    )


def _forget_previous(endpoint: WebhookEndpoint) -> None:
    endpoint.previous_sealed = endpoint.previous_key = endpoint.previous_kek_id = None
    endpoint.previous_until = None


def _open(keyring: KeyRing, endpoint_id: uuid.UUID, sealed: bytes, key: bytes, kek_id: str) -> bytes:
    try:
        return keyring.open(Sealed(kek_id=kek_id, wrapped_key=key, ciphertext=sealed), _aad(endpoint_id))
    except IntegrityError as exc:
        raise IntegrityFailure("a webhook secret failed its integrity check") from exc


# --- planning --------------------------------------------------------------------------------------


def plan_deliveries(
    session: Session, *, events: Sequence[StoredEvent], references: Mapping[uuid.UUID, str] | None = None
) -> int:
    """Queue one delivery job per (event, enabled endpoint of its sender that wants its type), in the
    caller's transaction; returns how many were queued. messages.history calls it for every event it
    adds (runtime.build_runtime registers it), so the jobs commit or roll back with their events.

    Events of senders without endpoints cost one indexed query however many there are, and nothing
    is cached between transactions. Otherwise three statements: the endpoints of every sender
    involved, the sender references of the messages whose events are wanted (unless `references`
    has them), one insert of the jobs. A job's dedupe key is its endpoint and event, so planning an
    event twice queues nothing twice.
    """
    if not events:
        return 0
    by_sender: dict[uuid.UUID, list[tuple[uuid.UUID, list[str] | None]]] = {}
    for endpoint_id, sender_id, event_types in repository.enabled_endpoints(
        session, {e.sender_id for e in events}
    ):
        by_sender.setdefault(sender_id, []).append((endpoint_id, event_types))
    if not by_sender:
        return 0
    wanted = [
        (e, endpoint_id)
        for e in events
        for endpoint_id, event_types in by_sender.get(e.sender_id, ())
        if rules.wants(event_types, e.type)
    ]
    if not wanted:
        return 0
    known = dict(references or {})
    missing = sorted({e.message_id for e, _ in wanted} - set(known))
    for start in range(0, len(missing), _CHUNK):
        known.update(repository.sender_references(session, missing[start : start + _CHUNK]))
    now = clock.now()
    planned = [
        NewJob(
            kind=DELIVERY_JOB,
            key=rules.dedupe_key(endpoint_id, e.event_id),
            payload={
                "endpointId": str(endpoint_id),
                "eventId": str(e.event_id),
                "messageId": str(e.message_id),
                "senderReference": known[e.message_id],
                "type": e.type,
                "at": rules.rfc3339(e.at),
                "detail": e.detail,
                "since": now.isoformat(),
            },
            due_at=now,
        )
        for e, endpoint_id in wanted
    ]
    jobs.enqueue_many(session, jobs=planned)
    return len(planned)


# --- delivering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One claimed delivery job with all it needs to be sent, without the database."""

    job: ClaimedJob
    endpoint_id: uuid.UUID
    url: str
    keys: list[bytes]  # the current secret first; the previous one too during a rotation
    webhook_id: str
    event_type: str
    body: bytes
    since: datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery job."""

    # delivered | retry | disabled | dropped | failed (gave up after 3 days) | parked (the job's own
    # run failed job_max_failures times: jobs.worker.record_failure)
    result: str
    retry_at: datetime | None = None
    status: int | None = None
    error: str | None = None
    endpoint_unwell: bool = False  # no answer, 5xx, 408 or 429: its other deliveries should wait too


def read_endpoint_id(job: ClaimedJob) -> uuid.UUID | None:
    """The endpoint a delivery job is for; None when its payload names none."""
    payload = job.payload if isinstance(job.payload, dict) else {}
    return parse_id(payload.get("endpointId", ""))


_PAYLOAD = ("endpointId", "eventId", "messageId", "senderReference", "type", "at", "since")


def load_delivery(session: Session, *, keyring: KeyRing, job: ClaimedJob, source: str) -> Delivery | None:
    """The delivery of a claimed job, its body and keys ready; None when there is nothing to deliver:
    its endpoint was deleted or disabled meanwhile, or the job is not one plan_deliveries made."""
    if not isinstance(job.payload, dict) or any(not isinstance(job.payload.get(n), str) for n in _PAYLOAD):
        return None
    endpoint_id = read_endpoint_id(job)
    endpoint = repository.find_endpoint(session, endpoint_id) if endpoint_id else None
    if endpoint is None or endpoint.deleted_at is not None or endpoint.disabled_at is not None:
        return None
    if endpoint.secret_sealed is None or endpoint.secret_key is None or endpoint.secret_kek_id is None:
        return None
    current = _open(keyring, endpoint.id, endpoint.secret_sealed, endpoint.secret_key, endpoint.secret_kek_id)
    previous = None
    if endpoint.previous_sealed and endpoint.previous_key and endpoint.previous_kek_id:
        previous = _open(
            keyring, endpoint.id, endpoint.previous_sealed, endpoint.previous_key, endpoint.previous_kek_id
        )
    until = clock.as_utc(endpoint.previous_until) if endpoint.previous_until else None
    p = job.payload
    return Delivery(
        job=job,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        keys=rules.signing_keys(current, previous, until, clock.now()),
        webhook_id=p["eventId"],
        event_type=p["type"],
        body=rules.cloud_event(
            event_id=p["eventId"],
            message_id=p["messageId"],
            sender_reference=p["senderReference"],
            event_type=p["type"],
            at=p["at"],
            detail=p.get("detail"),
            source=source,
        ),
        since=datetime.fromisoformat(p["since"]),
    )


def attempt_delivery(delivery: Delivery, *, client: GuardedClient, now: datetime) -> Answer:
    """One attempt: sign with `now` as webhook-timestamp and POST through the guarded client.

    The same webhook-id and body on every attempt; only the timestamp and so the signature change.
    Never raises: a failure is an Answer without a status.
    """
    timestamp = int(now.timestamp())
    headers = rules.signed_headers(delivery.keys, delivery.webhook_id, timestamp, delivery.body)
    return client.post(delivery.url, content=delivery.body, headers=headers)


def settle_attempt(
    session: Session, *, delivery: Delivery, answer: Answer, now: datetime, jitter: float
) -> Outcome:
    """Record the attempt and settle its job: finished (delivered, disabled, given up) or due again."""
    verdict = rules.verdict(answer.status)
    outcome: Outcome
    if verdict == rules.DELIVERED:
        outcome = Outcome("delivered", status=answer.status)
    elif verdict == rules.DISABLE:
        repository.disable_endpoint(session, delivery.endpoint_id, now, "answered 410 Gone")
        outcome = Outcome("disabled", status=answer.status)
    else:
        retry_at = rules.next_attempt(since=delivery.since, now=now, jitter=jitter)
        outcome = Outcome(
            "retry" if retry_at else "failed",
            retry_at=retry_at,
            status=answer.status,
            error=answer.error,
            endpoint_unwell=rules.endpoint_unwell(answer.status),
        )
    repository.add_deliveries(
        session,
        [
            {
                "endpoint_id": delivery.endpoint_id,
                "event_id": int(delivery.webhook_id),
                "event_type": delivery.event_type,
                "at": now,
                "outcome": outcome.result,
                "status_code": answer.status,
                "error": answer.error,
                "answer": answer.detail[:500] if answer.detail else rules.answer_excerpt(answer.body),
                "duration_ms": round(answer.seconds * 1000),
            }
        ],
    )
    if outcome.result == "retry":
        # The receiver's failure, not the job's: the delivery's own schedule, no failure counted.
        assert outcome.retry_at is not None
        jobs.reschedule(session, job=delivery.job, due_at=outcome.retry_at, error=_job_error(answer))
    else:
        jobs.finish(session, jobs=[delivery.job], now=now)
    return outcome


def drop_delivery(session: Session, *, job: ClaimedJob, now: datetime) -> Outcome:
    """The endpoint is gone or disabled: the job ends without an attempt."""
    jobs.finish(session, jobs=[job], now=now)
    return Outcome("dropped")


def _job_error(answer: Answer) -> str:
    if answer.status is not None:
        return f"answered {answer.status}"
    return f"{answer.error}: {answer.detail}"


# --- housekeeping ----------------------------------------------------------------------------------

KEEP_DELIVERIES = timedelta(days=30)  # the record of attempts a sender can look back on


def prune_deliveries(session: Session, *, before: datetime, limit: int = 10_000) -> int:
    """Forget up to `limit` delivery attempts made before `before`; call again until it returns 0."""
    return repository.prune_deliveries(session, before, limit)


def rewrap_secret_keys(session: Session, *, keyring: KeyRing, limit: int = 500) -> int:
    """Re-wrap up to `limit` endpoints' secret data keys under the active key (after `postvak keys
    rotate`); the sealed secrets stay as they are. Call again until it returns 0."""
    active = keyring.active_id
    rows = repository.endpoints_not_under_key(session, active, limit)
    for e in rows:
        if e.secret_kek_id is not None and e.secret_key is not None and e.secret_kek_id != active:
            e.secret_kek_id, e.secret_key = keyring.rewrap(e.secret_kek_id, e.secret_key, _aad(e.id))
        if e.previous_kek_id is not None and e.previous_key is not None and e.previous_kek_id != active:
            e.previous_kek_id, e.previous_key = keyring.rewrap(e.previous_kek_id, e.previous_key, _aad(e.id))
    session.flush()
    return len(rows)


# --- for the sender's portal ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryRecord:
    event_id: int
    event_type: str
    at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    answer: str | None
    duration_ms: int


def list_latest_deliveries(
    session: Session, *, sender_id: uuid.UUID, endpoint_id: str, limit: int = 50
) -> list[DeliveryRecord]:
    """The endpoint's latest attempts, newest first, with what the receiver answered."""
    endpoint = _own(session, sender_id, endpoint_id)
    return [
        DeliveryRecord(
            d.event_id,
            d.event_type,
            clock.as_utc(d.at),
            d.outcome,
            d.status_code,
            d.error,
            d.answer,
            d.duration_ms,
        )
        for d in repository.latest_deliveries(session, endpoint.id, limit)
    ]
