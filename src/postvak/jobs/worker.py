"""The worker: claims due jobs from the outbox, runs each in its own transaction, retries failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import structlog
from sqlalchemy.orm import Session

from postvak.db import Database
from postvak.jobs import repository
from postvak.jobs.rules import retry_delay
from postvak.kit import clock

log = structlog.get_logger("postvak.jobs")

Handler = Callable[[Session, dict], None]


class Worker:
    def __init__(
        self,
        database: Database,
        handlers: dict[str, Handler],
        *,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
    ) -> None:
        self.database = database
        self.handlers = handlers
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.batch = batch
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Claim and run one batch of due jobs; returns how many were claimed."""
        with self.database.unit_of_work() as session:
            claimed = repository.claim(session, clock.now(), self.lease, self.batch)
        for job in claimed:
            self._run(job)
        return len(claimed)

    def _run(self, job: repository.ClaimedJob) -> None:
        try:
            with self.database.unit_of_work() as session:
                self.handlers[job.kind](session, job.payload)
                repository.finish(session, job.id, clock.now())
        except Exception as exc:  # noqa: BLE001 - any failure is retried later, never lost
            log.warning(
                "job failed", job_id=job.id, kind=job.kind, attempt=job.attempt, error=type(exc).__name__
            )
            with self.database.unit_of_work() as session:
                due = clock.now() + retry_delay(job.attempt)
                repository.reschedule(session, job.id, due, f"{type(exc).__name__}: {exc}")

    def run_forever(self) -> None:
        log.info("worker started")
        while not self.stopping.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - e.g. the database restarting; try again shortly
                log.exception("worker loop failed")
                busy = 0
            if not busy:
                self.stopping.wait(self.poll_seconds)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name="postvak-worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
