"""The worker: claims due jobs from the outbox lane by lane, runs them, retries failures."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.orm import Session

from postvak.db import Database
from postvak.jobs import repository
from postvak.jobs.models import ClaimedJob
from postvak.jobs.rules import DEFAULT_MAX_FAILURES, after_failure, error_summary
from postvak.kit import clock

log = structlog.get_logger("postvak.jobs")

Handler = Callable[[Session, dict], None]
Chore = Callable[[Session], int]  # one bounded step of housekeeping; returns how many rows it removed

KEEP_DONE = timedelta(days=7)  # finished jobs stay this long, for an operator looking into one
HOUSEKEEPING_EVERY_SECONDS = 3600


class Lane(Protocol):
    """Jobs of some kinds, run by a thread of their own: a million notifications due at once never
    keep a message waiting for its publication, and each lane runs its jobs the way it needs."""

    name: str
    kinds: tuple[str, ...]
    batch: int

    def run(self, claimed: list[ClaimedJob]) -> None:
        """Run the claimed jobs; each ends finished, rescheduled, failed or parked (a crash leaves it
        to its lease), and one job's failure never undoes another's outcome."""
        ...

    def idle(self) -> None:
        """Nothing was due: release what is held open (an SMTP connection, say)."""
        ...


class _LeaseLost(Exception):
    """The run outlasted its lease and another worker claimed the job: this run's work is undone."""


def record_failure(database: Database, job: ClaimedJob, error: str, max_failures: int) -> datetime | None:
    """A run of `job` raised: count the failure in a transaction of its own, and retry the job with
    backoff or, after `max_failures`, park it. Returns when it runs again; None: it is parked."""
    now = clock.now()
    retry_at = after_failure(job.failures + 1, max_failures, now)
    with database.unit_of_work() as session:
        repository.fail(session, job, error, retry_at, now)
    log.warning(
        "job parked" if retry_at is None else "job failed",
        job_id=job.id,
        kind=job.kind,
        attempt=job.attempt,
        failures=job.failures + 1,
        error=error,
    )
    return retry_at


class SingleJobs:
    """The lane for jobs that each run in a transaction of their own."""

    name = "jobs"

    def __init__(
        self,
        database: Database,
        handlers: dict[str, Handler],
        batch: int = 50,
        max_failures: int = DEFAULT_MAX_FAILURES,
    ) -> None:
        self.database = database
        self.handlers = handlers
        self.kinds = tuple(handlers)
        self.batch = batch
        self.max_failures = max_failures

    def run(self, claimed: list[ClaimedJob]) -> None:
        for job in claimed:
            self._run(job)

    def _run(self, job: ClaimedJob) -> None:
        try:
            with self.database.unit_of_work() as session:
                self.handlers[job.kind](session, job.payload)
                if not repository.finish(session, [job], clock.now()):
                    raise _LeaseLost
        except _LeaseLost:
            log.warning("job outlasted its lease; left to the worker that claimed it again", job_id=job.id)
        except Exception as exc:  # noqa: BLE001 - any failure is retried later or parked, never lost
            record_failure(self.database, job, error_summary(exc), self.max_failures)

    def idle(self) -> None:
        pass


def forget_finished_jobs(session: Session) -> int:
    """One step of housekeeping: forget up to 10,000 jobs finished more than KEEP_DONE ago."""
    return repository.prune_done(session, clock.now() - KEEP_DONE)


class Worker:
    def __init__(
        self,
        database: Database,
        handlers: dict[str, Handler],
        *,
        lanes: Sequence[Lane] = (),
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=5),
        max_failures: int = DEFAULT_MAX_FAILURES,
        chores: dict[str, Chore] | None = None,
    ) -> None:
        self.database = database
        self.lanes: list[Lane] = [SingleJobs(database, handlers, max_failures=max_failures), *lanes]
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.max_failures = max_failures
        self.chores: dict[str, Chore] = {"jobs": forget_finished_jobs, **(chores or {})}
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """One round of every lane: claim and run what is due; returns how many jobs were claimed."""
        return sum(self._round(lane) for lane in self.lanes)

    def drain(self, rounds: int = 1000) -> int:
        """Run rounds until nothing is due (tests and benchmarks); returns how many jobs ran."""
        total = 0
        for _ in range(rounds):
            claimed = self.run_once()
            if not claimed:
                break
            total += claimed
        return total

    def _round(self, lane: Lane) -> int:
        claimed: list[ClaimedJob] = []
        parked: list[int] = []
        with self.database.unit_of_work() as session:
            # Begin first (on SQLite that waits for the write lock), then read the clock: a lease
            # counted from before a long wait would end sooner than the lane believes.
            session.connection()
            for kind in lane.kinds:
                now = clock.now()
                found = repository.claim(
                    session, kind, now, self.lease, lane.batch - len(claimed), self.max_failures
                )
                claimed += found.jobs
                parked += found.parked
                if len(claimed) >= lane.batch:
                    break
        if parked:
            log.warning("jobs parked: their lease ran out too often", lane=lane.name, job_ids=parked)
        if taken_over := [job.id for job in claimed if job.taken_over]:
            # Their worker died, or a run outlasted its lease (which would be a bug to look into).
            log.warning("jobs claimed again after their lease ran out", lane=lane.name, job_ids=taken_over)
        if claimed:
            lane.run(claimed)
        return len(claimed) + len(parked)

    def run_forever(self) -> None:
        """Every lane in a thread of its own, and the hourly housekeeping, until stop()."""
        log.info("worker started", lanes=[lane.name for lane in self.lanes])
        threads = [
            threading.Thread(target=self._run_lane, args=(lane,), name=f"postvak-{lane.name}", daemon=True)
            for lane in self.lanes
        ]
        threads.append(
            threading.Thread(target=self._housekeep_hourly, name="postvak-housekeeping", daemon=True)
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def housekeep(self) -> dict[str, int]:
        """Run every chore in short transactions until it finds nothing left; returns how many rows
        each removed. Short steps keep locks brief; repeating them keeps up with any rate of growth."""
        removed = {}
        for name, step in self.chores.items():
            removed[name] = 0
            try:
                while not self.stopping.is_set():
                    with self.database.unit_of_work() as session:
                        count = step(session)
                    removed[name] += count
                    if not count:
                        break
            except Exception:  # noqa: BLE001 - housekeeping; the next hour tries again
                log.exception("housekeeping failed", chore=name)
        return removed

    def _housekeep_hourly(self) -> None:
        while not self.stopping.is_set():
            self.housekeep()
            self.stopping.wait(HOUSEKEEPING_EVERY_SECONDS)

    def _run_lane(self, lane: Lane) -> None:
        while not self.stopping.is_set():
            try:
                busy = self._round(lane)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again shortly
                log.exception("worker lane failed", lane=lane.name)
                busy = 0
            if not busy:
                lane.idle()
                self.stopping.wait(self.poll_seconds)
        lane.idle()
        if close := getattr(lane, "close", None):  # a lane with work of its own in flight (webhooks)
            close()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="postvak-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
