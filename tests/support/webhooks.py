"""Webhooks for tests: endpoints registered through the service, status events, claimed delivery jobs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event

from postvak.jobs import repository as jobs
from postvak.jobs.models import ClaimedJob
from postvak.kit import clock
from postvak.kit.netguard import Policy
from postvak.messages.history import StoredEvent
from postvak.runtime import Runtime
from postvak.webhooks import service
from postvak.webhooks.schemas import WebhookEndpointIn
from tests.support.letters import SenderHandle


def add_endpoint(
    runtime: Runtime, sender: SenderHandle, url: str, event_types: list[str] | None = None
) -> tuple[uuid.UUID, str]:
    """An endpoint through the service, as the API registers it; returns its id and secret."""
    policy = Policy(allow_private=runtime.settings.webhooks_allow_private)
    with runtime.database.unit_of_work() as session:
        created = service.create_endpoint(
            session,
            keyring=runtime.keyring,
            sender_id=sender.id,
            endpoint=WebhookEndpointIn(url=url, event_types=event_types),
            policy=policy,
        )
    return uuid.UUID(created.id), created.secret


@dataclass(frozen=True)
class StatusEvent:
    """A status event as messages.history hands it to webhooks, with its message's sender reference:
    planned without storing a message (see `plan`)."""

    event_id: int
    message_id: uuid.UUID
    sender_id: uuid.UUID
    sender_reference: str
    type: str
    at: datetime
    detail: str | None = None

    def stored(self) -> StoredEvent:
        return StoredEvent(self.event_id, self.message_id, self.sender_id, self.type, self.at, self.detail)


def references_of(events: Sequence[StatusEvent]) -> dict[uuid.UUID, str]:
    return {e.message_id: e.sender_reference for e in events}


def status_event(sender: SenderHandle, event_id: int, type: str = "delivered", **fields) -> StatusEvent:
    values = {
        "event_id": event_id,
        "message_id": uuid.uuid4(),
        "sender_id": sender.id,
        "sender_reference": f"REF-{event_id}",
        "type": type,
        "at": clock.now(),
        "detail": None,
    }
    return StatusEvent(**(values | fields))


def plan(runtime: Runtime, events: list[StatusEvent]) -> int:
    with runtime.database.unit_of_work() as session:
        return service.plan_deliveries(
            session, events=[e.stored() for e in events], references=references_of(events)
        )


def claim_deliveries(runtime: Runtime, now: datetime | None = None, limit: int = 1000) -> list[ClaimedJob]:
    with runtime.database.unit_of_work() as session:
        found = jobs.claim(
            session,
            service.DELIVERY_JOB,
            now or clock.now(),
            timedelta(minutes=5),
            limit,
            runtime.settings.job_max_failures,
        )
    return found.jobs


@contextmanager
def counting_statements(engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
