"""Every query on the outbox: enqueue, claim due jobs, finish, reschedule, release, fail or park them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from postvak.jobs.models import ClaimedJob, Job
from postvak.jobs.rules import LEASE_RAN_OUT
from postvak.kit.sql import insert_ignoring_conflicts


def enqueue(session: Session, rows: Sequence[dict]) -> None:
    """Rows with kind, dedupe_key, payload and due_at; a dedupe key already queued is skipped."""
    rows = [{"attempts": 0, "failures": 0, **row} for row in sorted(rows, key=lambda r: r["dedupe_key"])]
    insert_ignoring_conflicts(session, Job.__table__, rows, ["dedupe_key"])


@dataclass(frozen=True)
class Claim:
    jobs: list[ClaimedJob]
    parked: list[int]  # ids of jobs whose lease ran out once too often: parked instead of claimed


def claim(
    session: Session, kind: str, now: datetime, lease: timedelta, limit: int, max_failures: int
) -> Claim:
    """Lease up to `limit` due jobs of one kind to this worker.

    A lease moves the job's due time to the lease's end: a worker that dies leaves its jobs to
    be claimed again then, and the due-index never has to be walked past jobs leased already.
    A job still leased when it is claimed again (locked_until set) was never finished nor
    rescheduled: its run died with its worker, or outlasted the lease. That counts as a failure,
    so a job whose run kills the process is parked after max_failures runs like one that raises.
    On PostgreSQL, FOR UPDATE SKIP LOCKED lets several workers claim side by side without
    taking the same job; on SQLite the claiming transaction holds the write lock already.
    """
    query = (
        select(Job.id, Job.payload, Job.attempts, Job.failures, Job.locked_until)
        .where(Job.kind == kind, Job.done_at.is_(None), Job.parked_at.is_(None), Job.due_at <= now)
        .order_by(Job.due_at, Job.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query))
    if not rows:
        return Claim([], [])
    lease_end = now + lease
    fresh = [row for row in rows if row.locked_until is None]
    ran_out = [row for row in rows if row.locked_until is not None]
    parked = [row.id for row in ran_out if row.failures + 1 >= max_failures]
    again = [row for row in ran_out if row.failures + 1 < max_failures]
    leased = {"due_at": lease_end, "locked_until": lease_end, "attempts": Job.attempts + 1}
    _update(session, [row.id for row in fresh], leased)
    failed = {"failures": Job.failures + 1, "last_error": LEASE_RAN_OUT}
    _update(session, [row.id for row in again], leased | failed)
    # Parking fences off the run that lost its lease too: its late finish must not close the job.
    _update(session, parked, failed | {"parked_at": now, "locked_until": None, "attempts": Job.attempts + 1})
    claimed = [
        ClaimedJob(row.id, kind, row.payload, row.attempts + 1, row.failures, lease_end) for row in fresh
    ] + [
        ClaimedJob(row.id, kind, row.payload, row.attempts + 1, row.failures + 1, lease_end, taken_over=True)
        for row in again
    ]
    return Claim(claimed, parked)


def _update(session: Session, ids: list[int], values: dict) -> None:
    if ids:
        session.execute(
            update(Job).where(Job.id.in_(ids)).values(**values).execution_options(synchronize_session=False)
        )


def _ours(job: ClaimedJob):
    """The fence of a run's writes: a run that outlasted its lease must not finish, reopen or park a
    job that another worker has claimed since (its claim counted one more attempt)."""
    return (Job.id == job.id) & (Job.attempts == job.attempt)


def finish(session: Session, claimed: Sequence[ClaimedJob], now: datetime) -> int:
    """Mark these runs' jobs done; returns how many were still this worker's to finish."""
    by_attempt: dict[int, list[int]] = defaultdict(list)
    for job in claimed:
        by_attempt[job.attempt].append(job.id)
    finished = 0
    for attempt, ids in sorted(by_attempt.items()):
        result = session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.attempts == attempt)
            .values(done_at=now, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        finished += result.rowcount
    return finished


def reschedule(session: Session, job: ClaimedJob, due_at: datetime, error: str) -> None:
    """Try again at `due_at` (the notification's own retry, not a failure of the job)."""
    session.execute(
        update(Job)
        .where(_ours(job))
        .values(due_at=due_at, locked_until=None, last_error=error[:1000])
        .execution_options(synchronize_session=False)
    )


def release(session: Session, job: ClaimedJob, due_at: datetime, reason: str) -> bool:
    """Hand a claimed job back unrun, due at `due_at` (a lane making room, or waiting for a receiver):
    no failure is counted, and no lease is left running, so its next claim is not taken for a run
    that died. Fenced like every write about a run: a job that another worker has claimed since,
    or that was parked or closed meanwhile, is left as it is. Also moves a job released before to
    another due time (waking it), as long as nobody has claimed it since. The claim stays counted
    in attempts: attempts is the fence, so it only grows (taken back, a late run's writes could pass
    for the next claim's); failures, not attempts, decide parking. Returns whether it was released."""
    result = session.execute(
        update(Job)
        .where(_ours(job), Job.done_at.is_(None), Job.parked_at.is_(None))
        .values(due_at=due_at, locked_until=None, last_error=reason[:1000])
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def fail(session: Session, job: ClaimedJob, error: str, retry_at: datetime | None, now: datetime) -> None:
    """One more failed run: try again at `retry_at`, or park the job when that is None."""
    values = {"failures": job.failures + 1, "locked_until": None, "last_error": error[:1000]}
    values |= {"due_at": retry_at} if retry_at is not None else {"parked_at": now}
    session.execute(
        update(Job).where(_ours(job)).values(**values).execution_options(synchronize_session=False)
    )


def park(session: Session, job: ClaimedJob, error: str, now: datetime) -> None:
    """Never run this job again without an operator (say, a text message that may have gone out)."""
    session.execute(
        update(Job)
        .where(_ours(job))
        .values(parked_at=now, locked_until=None, last_error=error[:1000])
        .execution_options(synchronize_session=False)
    )


def pending_count(session: Session) -> int:
    """Jobs still to run (parked ones wait for an operator, not for a worker)."""
    query = select(func.count()).select_from(Job).where(Job.done_at.is_(None), Job.parked_at.is_(None))
    return session.scalar(query) or 0


def prune_done(session: Session, before: datetime, limit: int = 10_000) -> int:
    """Delete up to `limit` jobs finished before `before`; returns how many. Walks the primary key
    from the oldest job, so each call costs about `limit` rows, however large the table is."""
    oldest = select(Job.id).where(Job.done_at < before).order_by(Job.id).limit(limit)
    ids = list(session.scalars(oldest))
    if ids:
        session.execute(delete(Job).where(Job.id.in_(ids)))
    return len(ids)


# What an operator sees and does -----------------------------------------------------------------


def get(session: Session, job_id: int, *, lock: bool = False) -> Job | None:
    query = select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    return session.scalars(query.with_for_update() if lock else query).first()


def failing(session: Session, *, parked_only: bool, limit: int) -> list[Job]:
    """Jobs not done that failed at least once (retrying or parked), the newest first; the partial
    index of failing jobs holds only these, so the query never walks the open outbox."""
    query = select(Job).where(Job.done_at.is_(None), Job.failures > 0)
    if parked_only:
        query = query.where(Job.parked_at.is_not(None))
    return list(session.scalars(query.order_by(Job.id.desc()).limit(limit)))


def reopen(session: Session, job_id: int, now: datetime) -> None:
    """Due now, with a clean slate of failures (attempts and the last error stay, as history)."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(due_at=now, parked_at=None, done_at=None, locked_until=None, failures=0)
        .execution_options(synchronize_session=False)
    )


def close(session: Session, job_id: int, now: datetime) -> None:
    """Done without running (discarded): parked and done, so it reads as the operator's decision."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(done_at=now, parked_at=func.coalesce(Job.parked_at, now), locked_until=None)
        .execution_options(synchronize_session=False)
    )
