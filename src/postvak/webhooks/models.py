"""Tables of webhooks: each sender's endpoints with their sealed secrets, and every delivery attempt."""

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import BigId, UtcDateTime


class WebhookEndpoint(Base):
    """Where a sender wants its status events POSTed.

    The signing secret is sealed with the key ring (aad: the endpoint id), never stored in clear.
    During a rotation the previous secret signs beside the current one until `previous_until`.
    A deleted endpoint keeps its row (its deliveries refer to it) but loses its secrets.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("senders.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str] | None] = mapped_column(JSON)  # None: every type, also later ones
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_kek_id: Mapped[str | None] = mapped_column(String(64))
    previous_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_kek_id: Mapped[str | None] = mapped_column(String(64))
    previous_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One attempt to deliver one event to one endpoint, and what came of it: the answer's status
    and start, or the class of failure (timeout, tls, refused, …), and how long it took."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The sender's portal lists an endpoint's latest attempts first.
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[int] = mapped_column(BigInteger)  # the webhook-id; message_events.id
    event_type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(12))  # delivered | retry | disabled | failed
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(20))  # no answer: timeout | tls | refused | …
    answer: Mapped[str | None] = mapped_column(String(500))  # the answer's start, or the error in words
    duration_ms: Mapped[int] = mapped_column(Integer)
