"""The worker lane that delivers webhooks: concurrently, and so that one sender's endpoint that hangs
or fails never delays another sender's deliveries.

- Deliveries run on a small thread pool; `run` hands them over and returns at once, so the worker
  keeps claiming while slow receivers are being waited for. Each job's outcome is committed alone.
- Per endpoint at most `per_endpoint` deliveries run at a time and at most `waiting_per_endpoint`
  wait in memory; what an endpoint at its cap is given beyond that goes back to the outbox, due a
  little later. A hanging endpoint so holds a few threads for at most the 15 s timeout, never all.
- An endpoint whose delivery failed in a way that says something about the endpoint (no answer, a
  5xx, 408, 429) is paused until that delivery's retry: its waiting and later-claimed deliveries
  are given back to the outbox, due then, without an attempt. A success ends the pause.
- The lane claims only as many jobs as it has room for (`batch` shrinks while it is full), and a
  job that waited in memory for most of its lease is given back rather than sent late, so that no
  other worker claims it again while it is still here.

Pauses are remembered per worker process; another process learns of a failing endpoint from its
own first failure. Jobs given back keep their claim counted (jobs.repository has no way to undo
it); rules.next_attempt is time-based and does not read that count.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import structlog

from postvak import __version__
from postvak.config import Settings
from postvak.db import Database
from postvak.jobs import repository as jobs
from postvak.jobs.repository import ClaimedJob
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.netguard import GuardedClient, Policy
from postvak.webhooks.jobs import event_source, run_delivery
from postvak.webhooks.service import DELIVERY_JOB, Outcome, endpoint_of

log = structlog.get_logger("postvak.webhooks")

BUSY_WAIT = timedelta(seconds=10)  # an endpoint at its cap gets the jobs given back this much later
LEASE_SHARE = 0.8  # a job held in memory for this share of its lease goes back to the outbox


def guarded_client(settings: Settings, **options) -> GuardedClient:
    """The HTTP client of webhook deliveries, as the settings allow it."""
    return GuardedClient(
        Policy(allow_private=settings.webhooks_allow_private),
        user_agent=f"Postvak-Webhooks/{__version__}",
        **options,
    )


class WebhookLane:
    """Runs webhook delivery jobs; see the module docstring for how one endpoint is kept from others."""

    name = "webhooks"
    kinds = (DELIVERY_JOB,)

    def __init__(
        self,
        database: Database,
        keyring: KeyRing,
        settings: Settings,
        *,
        client: GuardedClient | None = None,
        threads: int = 16,
        per_endpoint: int = 4,
        waiting_per_endpoint: int = 50,
        capacity: int = 200,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.database = database
        self.keyring = keyring
        self.client = client or guarded_client(settings)
        self.source = event_source(settings.base_url)
        self.per_endpoint = per_endpoint
        self.waiting_per_endpoint = waiting_per_endpoint
        self.capacity = capacity
        self.jitter = jitter
        self.longest_hold = settings.worker_lease_seconds * LEASE_SHARE
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="postvak-webhook")
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._running: Counter[uuid.UUID] = Counter()
        self._waiting: dict[uuid.UUID, deque[tuple[ClaimedJob, float]]] = {}
        self._paused: dict[uuid.UUID, datetime] = {}
        self._held = 0  # jobs running or waiting here

    @property
    def batch(self) -> int:
        """How many jobs the worker may claim for this lane now: the room it has left."""
        with self._lock:
            return max(0, self.capacity - self._held)

    def run(self, claimed: list[ClaimedJob]) -> None:
        """Take the claimed jobs: start them, keep them waiting for their endpoint, or give them back."""
        now = clock.now()
        back: list[tuple[ClaimedJob, datetime, str]] = []
        with self._lock:
            for job in claimed:
                endpoint = endpoint_of(job) or uuid.UUID(int=job.id)  # a bad payload is dropped alone
                paused = self._paused.get(endpoint)
                if paused is not None and paused > now:
                    back.append((job, paused, "waiting: its endpoint failed"))
                    continue
                queue = self._waiting.setdefault(endpoint, deque())
                if self._running[endpoint] + len(queue) >= self.per_endpoint + self.waiting_per_endpoint:
                    back.append((job, now + BUSY_WAIT, "waiting: its endpoint is busy"))
                    continue
                queue.append((job, time.monotonic()))
                self._held += 1
                back += self._start(endpoint)
        self._give_back(back)

    def _start(self, endpoint: uuid.UUID) -> list[tuple[ClaimedJob, datetime, str]]:
        """Start the endpoint's waiting jobs up to its cap (the lock is held); returns those held too long."""
        back = []
        queue = self._waiting.get(endpoint)
        while queue and self._running[endpoint] < self.per_endpoint:
            job, since = queue.popleft()
            if time.monotonic() - since > self.longest_hold:
                back.append((job, clock.now(), "waiting: held too long by a busy worker"))
                self._held -= 1
                continue
            self._running[endpoint] += 1
            self._pool.submit(self._deliver, endpoint, job)
        if queue is not None and not queue:
            del self._waiting[endpoint]
        return back

    def _deliver(self, endpoint: uuid.UUID, job: ClaimedJob) -> None:
        outcome: Outcome | None = None
        try:
            outcome = run_delivery(
                self.database, self.keyring, self.client, job, source=self.source, jitter=self.jitter
            )
        except Exception:  # noqa: BLE001 - the database gone: the job returns after its lease
            log.exception("webhook delivery could not be recorded", job_id=job.id)
        finally:
            self._give_back(self._finished(endpoint, outcome))

    def _finished(
        self, endpoint: uuid.UUID, outcome: Outcome | None
    ) -> list[tuple[ClaimedJob, datetime, str]]:
        back = []
        with self._lock:
            self._running[endpoint] -= 1
            if not self._running[endpoint]:
                del self._running[endpoint]
            self._held -= 1
            if outcome is not None and outcome.endpoint_unwell and outcome.retry_at is not None:
                self._paused[endpoint] = max(outcome.retry_at, self._paused.get(endpoint, outcome.retry_at))
                waiting = self._waiting.pop(endpoint, deque())
                back += [(job, outcome.retry_at, "waiting: its endpoint failed") for job, _ in waiting]
                self._held -= len(waiting)
            elif outcome is not None and outcome.result == "delivered":
                self._paused.pop(endpoint, None)
            back += self._start(endpoint)
            self._settled.notify_all()
        return back

    def _give_back(self, back: list[tuple[ClaimedJob, datetime, str]]) -> None:
        """Return jobs to the outbox, due at the given time, without an attempt."""
        if not back:
            return
        try:
            with self.database.unit_of_work() as session:
                for job, due_at, why in back:
                    jobs.reschedule(session, job.id, due_at, why)
        except Exception:  # noqa: BLE001 - they return once their lease ends
            log.exception("webhook jobs could not be given back", jobs=len(back))

    def idle(self) -> None:
        """Nothing was due: forget pauses that have ended."""
        now = clock.now()
        with self._lock:
            for endpoint in [e for e, until in self._paused.items() if until <= now]:
                del self._paused[endpoint]

    def wait_until_settled(self, timeout: float) -> bool:
        """Wait until no job is running or waiting here (tests, benchmarks, a graceful stop)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._held == 0, timeout)

    def close(self) -> None:
        """Let running deliveries finish, then release the threads and connections."""
        self._pool.shutdown(wait=True)
        self.client.close()
