"""Every query on the outbox: enqueue, claim due jobs, finish or reschedule them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from postvak.jobs.models import Job
from postvak.kit.sql import insert_ignoring_conflicts


def enqueue(session: Session, rows: Sequence[dict]) -> None:
    """Rows with kind, dedupe_key, payload and due_at; a dedupe key already queued is skipped."""
    rows = [{"attempts": 0, **row} for row in sorted(rows, key=lambda r: r["dedupe_key"])]
    insert_ignoring_conflicts(session, Job.__table__, rows, ["dedupe_key"])


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict
    attempt: int  # 1 on the first run


def claim(session: Session, kind: str, now: datetime, lease: timedelta, limit: int) -> list[ClaimedJob]:
    """Lease up to `limit` due jobs of one kind to this worker.

    A lease moves the job's due time to the lease's end: a worker that dies leaves its jobs to
    be claimed again then, and the due-index never has to be walked past jobs leased already.
    On PostgreSQL, FOR UPDATE SKIP LOCKED lets several workers claim side by side without
    taking the same job; on SQLite the claiming transaction holds the write lock already.
    """
    query = (
        select(Job.id, Job.payload, Job.attempts)
        .where(Job.kind == kind, Job.done_at.is_(None), Job.due_at <= now)
        .order_by(Job.due_at, Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed = [
        ClaimedJob(job_id, kind, payload, attempts + 1)
        for job_id, payload, attempts in session.execute(query)
    ]
    if claimed:
        session.execute(
            update(Job)
            .where(Job.id.in_([j.id for j in claimed]))
            .values(due_at=now + lease, locked_until=now + lease, attempts=Job.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return claimed


def finish(session: Session, job_ids: Sequence[int], now: datetime) -> None:
    if job_ids:
        session.execute(update(Job).where(Job.id.in_(list(job_ids))).values(done_at=now, locked_until=None))


def reschedule(session: Session, job_id: int, due_at: datetime, error: str) -> None:
    session.execute(
        update(Job).where(Job.id == job_id).values(due_at=due_at, locked_until=None, last_error=error[:1000])
    )


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Job).where(Job.done_at.is_(None))) or 0


def prune_done(session: Session, before: datetime, limit: int = 10_000) -> int:
    """Delete up to `limit` jobs finished before `before`; returns how many. Walks the primary key
    from the oldest job, so each call costs about `limit` rows, however large the table is."""
    oldest = select(Job.id).where(Job.done_at < before).order_by(Job.id).limit(limit)
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(delete(Job).where(Job.id.in_(ids)))
    return len(ids)
