"""Every query about webhook endpoints and their delivery attempts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from postvak.kit.sql import insert_many
from postvak.messages.models import Message
from postvak.webhooks.models import WebhookDelivery, WebhookEndpoint


def add_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    session.add(endpoint)
    session.flush()


def count_endpoints(session: Session, sender_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        WebhookEndpoint.sender_id == sender_id, WebhookEndpoint.deleted_at.is_(None)
    )
    return session.scalar(query) or 0


def endpoints_of(session: Session, sender_id: uuid.UUID) -> list[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.sender_id == sender_id, WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(session.scalars(query))


def get_endpoint(
    session: Session, sender_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False
) -> WebhookEndpoint | None:
    """The sender's own endpoint, not deleted; another sender's is not found."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id,
        WebhookEndpoint.sender_id == sender_id,
        WebhookEndpoint.deleted_at.is_(None),
    )
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def find_endpoint(session: Session, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """Any endpoint by id, deleted or disabled ones too (the delivery job decides what to do)."""
    return session.get(WebhookEndpoint, endpoint_id)


def enabled_endpoints(
    session: Session, sender_ids: Iterable[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID, list[str] | None]]:
    """(endpoint id, sender id, event types) of every enabled endpoint of these senders, in one query."""
    ids = sorted(set(sender_ids))
    if not ids:
        return []
    query = select(WebhookEndpoint.id, WebhookEndpoint.sender_id, WebhookEndpoint.event_types).where(
        WebhookEndpoint.sender_id.in_(ids),
        WebhookEndpoint.deleted_at.is_(None),
        WebhookEndpoint.disabled_at.is_(None),
    )
    return [(endpoint_id, sender_id, types) for endpoint_id, sender_id, types in session.execute(query)]


def sender_references(session: Session, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """message id → its sender reference (the messages table, read by primary key)."""
    query = select(Message.id, Message.sender_reference).where(Message.id.in_(list(message_ids)))
    return {message_id: reference for message_id, reference in session.execute(query)}


def disable_endpoint(session: Session, endpoint_id: uuid.UUID, at: datetime, reason: str) -> None:
    """Disable once: the first reason stays."""
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.disabled_at.is_(None))
        .values(disabled_at=at, disabled_reason=reason[:200])
        .execution_options(synchronize_session=False)
    )


def add_deliveries(session: Session, rows: list[dict]) -> None:
    insert_many(session, WebhookDelivery.__table__, rows)


def latest_deliveries(session: Session, endpoint_id: uuid.UUID, limit: int) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def prune_deliveries(session: Session, before: datetime, limit: int) -> int:
    """Delete up to `limit` attempts made before `before`, oldest first; returns how many."""
    oldest = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.at < before)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return len(ids)


def endpoints_not_under_key(session: Session, kek_id: str, limit: int) -> list[WebhookEndpoint]:
    """Endpoints with a secret (current or previous) wrapped by another key than `kek_id`."""
    query = (
        select(WebhookEndpoint)
        .where(
            or_(
                and_(WebhookEndpoint.secret_kek_id.is_not(None), WebhookEndpoint.secret_kek_id != kek_id),
                and_(WebhookEndpoint.previous_kek_id.is_not(None), WebhookEndpoint.previous_kek_id != kek_id),
            )
        )
        .order_by(WebhookEndpoint.id)
        .limit(limit)
    )
    return list(session.scalars(query))
