"""The outbox for tests: read a job as it is stored, poison one, and run the worker through its retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from postvak.jobs.models import Job
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.runtime import Runtime


def stored_job(runtime: Runtime, dedupe_key: str) -> Job:
    with runtime.database.unit_of_work(write=False) as session:
        job = session.scalars(select(Job).where(Job.dedupe_key == dedupe_key)).one()
        session.expunge(job)
        return job


def jobs_like(runtime: Runtime, pattern: str) -> list[Job]:
    with runtime.database.unit_of_work(write=False) as session:
        found = list(session.scalars(select(Job).where(Job.dedupe_key.like(pattern)).order_by(Job.id)))
        session.expunge_all()
        return found


def poison(runtime: Runtime, dedupe_key: str, **payload) -> None:
    """Give a queued job a payload that is not what its kind expects (fields given replace its own)."""
    job = stored_job(runtime, dedupe_key)
    new = payload.pop("whole", None)
    with runtime.database.unit_of_work() as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(payload=new if new is not None else job.payload | payload)
        )


def run_until_parked(runtime: Runtime, worker: Worker, dedupe_key: str, start: datetime, limit: int = 20):
    """Drain, then move the clock past the job's backoff and drain again, until the job is parked;
    returns the failures seen after each run (1, 2, … N) and the stored job at the end."""
    seen, moment = [], start
    for _ in range(limit):
        worker.drain()
        job = stored_job(runtime, dedupe_key)
        seen.append(job.failures)
        if job.parked_at is not None:
            return seen, job
        assert job.done_at is None and job.last_error
        due = clock.as_utc(job.due_at)
        assert due > moment, "a failed job waits before its next try"
        moment = due + timedelta(seconds=1)
        clock.set_clock(lambda moment=moment: moment)
    raise AssertionError(f"not parked after {limit} runs: failures {seen}")
