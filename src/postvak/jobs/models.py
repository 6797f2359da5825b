"""The outbox: background work committed in the same transaction as the change that needs it."""

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import BigId, UtcDateTime


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # Workers claim one kind at a time, so that a million due notifications never stand in
        # front of a letter that must be published now.
        Index(
            "ix_jobs_kind_due",
            "kind",
            "due_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # leased to a worker until
    last_error: Mapped[str | None] = mapped_column(String(1000))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
