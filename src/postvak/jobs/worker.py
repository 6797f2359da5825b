"""The worker: claims due jobs from the outbox lane by lane, runs them, retries failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

import structlog
from sqlalchemy.orm import Session

from postvak.db import Database
from postvak.jobs import repository
from postvak.jobs.repository import ClaimedJob
from postvak.jobs.rules import retry_delay
from postvak.kit import clock

log = structlog.get_logger("postvak.jobs")

Handler = Callable[[Session, dict], None]

KEEP_DONE = timedelta(days=7)  # finished jobs stay this long, for an operator looking into one
PRUNE_EVERY_SECONDS = 3600


class Lane(Protocol):
    """Jobs of some kinds, run by a thread of their own: a million notifications due at once never
    keep a letter waiting for its publication, and each lane runs its jobs the way it needs."""

    name: str
    kinds: tuple[str, ...]
    batch: int

    def run(self, claimed: list[ClaimedJob]) -> None:
        """Run the claimed jobs; each ends finished or rescheduled (a crash leaves it to its lease)."""
        ...

    def idle(self) -> None:
        """Nothing was due: release what is held open (an SMTP connection, say)."""
        ...


class SingleJobs:
    """The lane for jobs that each run in a transaction of their own."""

    name = "jobs"

    def __init__(self, database: Database, handlers: dict[str, Handler], batch: int = 50) -> None:
        self.database = database
        self.handlers = handlers
        self.kinds = tuple(handlers)
        self.batch = batch

    def run(self, claimed: list[ClaimedJob]) -> None:
        for job in claimed:
            self._run(job)

    def _run(self, job: ClaimedJob) -> None:
        try:
            with self.database.unit_of_work() as session:
                self.handlers[job.kind](session, job.payload)
                repository.finish(session, [job.id], clock.now())
        except Exception as exc:  # noqa: BLE001 - any failure is retried later, never lost
            log.warning(
                "job failed", job_id=job.id, kind=job.kind, attempt=job.attempt, error=type(exc).__name__
            )
            with self.database.unit_of_work() as session:
                due = clock.now() + retry_delay(job.attempt)
                repository.reschedule(session, job.id, due, f"{type(exc).__name__}: {exc}")

    def idle(self) -> None:
        pass


class Worker:
    def __init__(
        self,
        database: Database,
        handlers: dict[str, Handler],
        *,
        lanes: Sequence[Lane] = (),
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self.database = database
        self.lanes: list[Lane] = [SingleJobs(database, handlers), *lanes]
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.stopping = threading.Event()
        self._pruned_at = 0.0

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
        with self.database.unit_of_work() as session:
            for kind in lane.kinds:
                now = clock.now()
                claimed += repository.claim(session, kind, now, self.lease, lane.batch - len(claimed))
                if len(claimed) >= lane.batch:
                    break
        if claimed:
            lane.run(claimed)
        return len(claimed)

    def run_forever(self) -> None:
        """Every lane in a thread of its own until stop(); returns when all have ended."""
        log.info("worker started", lanes=[lane.name for lane in self.lanes])
        threads = [
            threading.Thread(target=self._run_lane, args=(lane,), name=f"postvak-{lane.name}", daemon=True)
            for lane in self.lanes
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def prune(self) -> int:
        """Forget jobs finished more than KEEP_DONE ago (the outbox would otherwise grow forever)."""
        with self.database.unit_of_work() as session:
            return repository.prune_done(session, clock.now() - KEEP_DONE)

    def _run_lane(self, lane: Lane) -> None:
        while not self.stopping.is_set():
            if lane is self.lanes[0] and time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
                self._pruned_at = time.monotonic()
                try:
                    self.prune()
                except Exception:  # noqa: BLE001 - housekeeping; the next hour tries again
                    log.exception("pruning finished jobs failed")
            try:
                busy = self._round(lane)
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again shortly
                log.exception("worker lane failed", lane=lane.name)
                busy = 0
            if not busy:
                lane.idle()
                self.stopping.wait(self.poll_seconds)
        lane.idle()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="postvak-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
