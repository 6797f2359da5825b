"""Use cases of the outbox: queue work, end a claimed run (for the worker's lanes), and for an operator:
see the jobs that fail or were parked, retry or discard one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from postvak.errors import NotFound, ValidationFailed
from postvak.jobs import repository, rules
from postvak.jobs.models import ClaimedJob, Job, NewJob
from postvak.kit import clock
from postvak.kit.clock import as_utc


def enqueue(session: Session, *, kind: str, key: str, payload: dict, due_at: datetime) -> None:
    """Queue one job in the caller's transaction: it runs only if that commits (the outbox). A `key`
    already queued is skipped, so queueing the same work twice runs it once."""
    enqueue_many(session, jobs=[NewJob(kind, key, payload, due_at)])


def enqueue_many(session: Session, *, jobs: Sequence[NewJob]) -> None:
    """enqueue for many jobs in one insert (the notifications of a batch of a thousand messages)."""
    repository.enqueue(
        session,
        [{"kind": j.kind, "dedupe_key": j.key, "payload": j.payload, "due_at": j.due_at} for j in jobs],
    )


# Ending a claimed run: each write is fenced by the claim, so a run that outlasted its lease changes nothing.


def finish(session: Session, *, jobs: Sequence[ClaimedJob], now: datetime) -> int:
    """These runs' jobs are done; returns how many were still this worker's to finish."""
    return repository.finish(session, jobs, now)


def reschedule(session: Session, *, job: ClaimedJob, due_at: datetime, error: str) -> None:
    """Try again at `due_at`: the job's own retry (a mail server's "later"), not a failure."""
    repository.reschedule(session, job, due_at, error)


def release(session: Session, *, job: ClaimedJob, due_at: datetime, reason: str) -> bool:
    """Hand a claimed job back unrun, due at `due_at`, no failure counted; returns whether it was (see
    jobs.repository.release)."""
    return repository.release(session, job, due_at, reason)


def fail(session: Session, *, job: ClaimedJob, error: str, retry_at: datetime | None, now: datetime) -> None:
    """One more failed run: try again at `retry_at`, or park the job when that is None."""
    repository.fail(session, job, error, retry_at, now)


def park(session: Session, *, job: ClaimedJob, error: str, now: datetime) -> None:
    """Never run this job again without an operator (say, a text message that may have gone out)."""
    repository.park(session, job, error, now)


# What an operator sees and does ------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """A job as an operator sees it; its payload holds opaque ids only, never personal data."""

    id: int
    kind: str
    state: str  # waiting | running | parked | discarded | done
    attempts: int
    failures: int
    due_at: datetime
    last_error: str | None
    parked_at: datetime | None
    done_at: datetime | None
    payload: dict

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "attempts": self.attempts,
            "failures": self.failures,
            "dueAt": self.due_at.isoformat(),
            "lastError": self.last_error,
            "parkedAt": self.parked_at.isoformat() if self.parked_at else None,
            "doneAt": self.done_at.isoformat() if self.done_at else None,
            "payload": self.payload,
        }


def list_failing_jobs(session: Session, *, parked_only: bool = False, limit: int = 100) -> list[JobView]:
    """Jobs that failed and are not done: retrying ones and parked ones (or parked ones only)."""
    now = clock.now()
    return [_view(job, now) for job in repository.failing(session, parked_only=parked_only, limit=limit)]


def retry_job(session: Session, *, job_id: int) -> JobView:
    """Run a parked, discarded or failing job again now, with its failures forgotten."""
    job, now = _job(session, job_id), clock.now()
    current = _view(job, now).state
    if current == "done":
        raise ValidationFailed(f"job {job_id} has finished; there is nothing to retry")
    if current == "running":
        raise ValidationFailed(f"job {job_id} is running now; retry it if it fails")
    repository.reopen(session, job.id, now)
    return _view(_job(session, job_id), now)


def discard_job(session: Session, *, job_id: int) -> JobView:
    """Close a job without running it (a poisoned job the operator gives up on); it stays visible as
    discarded until finished jobs are pruned."""
    job, now = _job(session, job_id), clock.now()
    current = _view(job, now).state
    if current in ("done", "discarded"):
        raise ValidationFailed(f"job {job_id} has finished already")
    if current == "running":
        raise ValidationFailed(f"job {job_id} is running now; discard it if it fails")
    repository.close(session, job.id, now)
    return _view(_job(session, job_id), now)


def _job(session: Session, job_id: int) -> Job:
    job = repository.get(session, job_id, lock=True)
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    return job


def _view(job: Job, now: datetime) -> JobView:
    done_at, parked_at = _utc(job.done_at), _utc(job.parked_at)
    state = rules.state(done_at=done_at, parked_at=parked_at, locked_until=_utc(job.locked_until), now=now)
    return JobView(
        id=job.id,
        kind=job.kind,
        state=state,
        attempts=job.attempts,
        failures=job.failures,
        due_at=as_utc(job.due_at),
        last_error=job.last_error,
        parked_at=parked_at,
        done_at=done_at,
        payload=job.payload,
    )


def _utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None
