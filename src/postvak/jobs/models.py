"""The outbox: background work committed in the same transaction as the change that needs it; a job as it
is queued and as a worker claims it."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import JSON, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from postvak.db import Base
from postvak.kit.sqltypes import BigId, UtcDateTime

# A job is open until it is done or parked; only open jobs are claimed.
OPEN = "done_at IS NULL AND parked_at IS NULL"
# Jobs that failed at least once and are not done (retrying or parked): what an operator looks at.
FAILING = "done_at IS NULL AND failures > 0"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # Workers claim one kind at a time, so that a million due notifications never stand in
        # front of a message that must be published now.
        Index("ix_jobs_kind_due", "kind", "due_at", postgresql_where=text(OPEN), sqlite_where=text(OPEN)),
        Index("ix_jobs_failing", "id", postgresql_where=text(FAILING), sqlite_where=text(FAILING)),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims, counted when claimed
    # Runs that raised, or whose lease ran out (the worker died or took too long): a job that
    # fails job_max_failures times is parked. A notification the mail server asks to retry is
    # not a failure; notifications give up after 48 hours on their own.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # leased to a worker until
    last_error: Mapped[str | None] = mapped_column(String(1000))  # error class and a short message
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Parked (dead-lettered): never claimed again until an operator retries it; a parked job that
    # is also done was discarded by an operator.
    parked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class NewJob(NamedTuple):
    """Work to queue; its `key` (the dedupe key) makes it happen once, however often it is queued. (A named
    tuple: the notifications of a batch of a thousand messages make a thousand, so each must cost little.)"""

    kind: str
    key: str
    payload: dict
    due_at: datetime


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict
    attempt: int  # 1 on the first run; the fence of every write about this run (jobs.repository._ours)
    failures: int = 0  # failed runs before this one
    leased_until: datetime | None = None  # another worker may claim it from then on
    taken_over: bool = False  # claimed after the lease of an earlier run ran out
