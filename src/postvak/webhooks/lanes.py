"""The worker lane that delivers webhooks: concurrently, and so that one sender's endpoint that hangs
or fails never delays another sender's deliveries.

- Deliveries run on a thread pool; `run` hands them over and returns at once, so the worker keeps
  claiming while slow receivers are being waited for. Each job's outcome is committed alone.
- Per endpoint at most `per_endpoint` deliveries run at a time, and at most `hold_per_endpoint`
  jobs are held here (running or waiting). A hanging endpoint so occupies a few threads and a
  part of the lane's room, never all of it.
- Jobs claimed beyond an endpoint's share are parked: handed back to the outbox due PARK from now,
  and remembered. As the endpoint's share empties, the lane makes its parked jobs due again,
  oldest first. A backlog of one endpoint is so moved out of the way of other senders'
  events once, without guessing how fast the endpoint is; should this process die, parked jobs
  come due by themselves after PARK.
- An endpoint whose delivery failed in a way that says something about the endpoint (no answer, a
  5xx, 408, 429) is paused until that delivery's retry: its waiting and later-claimed jobs are
  handed back due then, without an attempt. A success ends the pause.
- The lane claims only as many jobs as it has room for (`batch` shrinks while it is full), and a
  job that waited here for most of its lease is parked rather than sent late, so that no other
  worker claims it while it is still here. On close, the jobs still waiting are handed back due now.

Handing back is jobs.service.release, fenced by the claim's attempt: a job that another worker
has claimed since (this lane held it past its lease) is left to that worker and not remembered as
parked. A hand-back counts no failure and leaves no lease running, so the worker never takes a
job handed back for one whose run died. Its claim stays counted in attempts (the fence only
grows); nothing decides by attempts: parking counts failures, rules.next_attempt counts time.

What the lane knows of an endpoint is per worker process.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from postvak import __version__
from postvak.config import Settings
from postvak.db import Database
from postvak.jobs import service as jobs
from postvak.jobs.models import ClaimedJob
from postvak.jobs.rules import error_summary
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.netguard import GuardedClient, Policy
from postvak.webhooks.jobs import event_source, run_delivery
from postvak.webhooks.service import DELIVERY_JOB, Outcome, read_endpoint_id

log = structlog.get_logger("postvak.webhooks")

PARK = timedelta(minutes=15)  # a parked job comes due by itself after this, if nobody wakes it
WOKEN_FORGOTTEN = 60.0  # seconds after which jobs woken but not claimed back are not waited for
LEASE_SHARE = 0.8  # a job held here for this share of its lease is parked

# A job to hand back to the outbox, when it is due again, why, and the endpoint it is parked for.
Back = tuple[ClaimedJob, datetime, str, uuid.UUID | None]


def guarded_client(settings: Settings, **options) -> GuardedClient:
    """The HTTP client of webhook deliveries, as the settings allow it."""
    return GuardedClient(
        Policy(allow_private=settings.webhooks_allow_private),
        user_agent=f"Postvak-Webhooks/{__version__}",
        **options,
    )


@dataclass
class _Endpoint:
    """What this lane knows of one endpoint."""

    running: int = 0
    waiting: deque[tuple[ClaimedJob, float]] = field(default_factory=deque)  # (job, time.monotonic())
    parked: deque[ClaimedJob] = field(default_factory=deque)  # handed back for later, oldest first
    woken: set[int] = field(default_factory=set)  # parked jobs made due again, not claimed back yet
    woken_at: float = 0.0
    paused_until: datetime | None = None

    @property
    def held(self) -> int:
        return self.running + len(self.waiting)


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
        threads: int = 32,
        per_endpoint: int = 8,
        hold_per_endpoint: int = 200,
        capacity: int = 1000,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.database = database
        self.keyring = keyring
        self.client = client or guarded_client(settings)
        self.source = event_source(settings.base_url)
        self.per_endpoint = per_endpoint
        self.hold_per_endpoint = max(hold_per_endpoint, per_endpoint)
        self.capacity = capacity
        self.jitter = jitter
        self.longest_hold = settings.worker_lease_seconds * LEASE_SHARE
        self.max_failures = settings.job_max_failures
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="postvak-webhook")
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._endpoints: dict[uuid.UUID, _Endpoint] = {}
        self._held = 0  # jobs running or waiting here
        self._closing = False  # close() began: no more deliveries start; waiting jobs are handed back

    @property
    def batch(self) -> int:
        """How many jobs the worker may claim for this lane now: the room it has left."""
        with self._lock:
            return max(0, self.capacity - self._held)

    def run(self, claimed: list[ClaimedJob]) -> None:
        """Take the claimed jobs: start them, keep them waiting for their endpoint, or hand them back."""
        now = clock.now()
        back: list[Back] = []
        with self._lock:
            touched = set()
            for job in claimed:
                key = read_endpoint_id(job) or uuid.UUID(int=job.id)  # a bad payload is dropped alone
                endpoint = self._endpoints.setdefault(key, _Endpoint())
                endpoint.woken.discard(job.id)
                if endpoint.paused_until is not None and endpoint.paused_until > now:
                    back.append((job, endpoint.paused_until, "waiting: its endpoint failed", None))
                elif endpoint.held >= self.hold_per_endpoint:
                    back.append((job, now + PARK, "parked: its endpoint is busy", key))
                else:
                    endpoint.waiting.append((job, time.monotonic()))
                    self._held += 1
                    touched.add(key)
            for key in touched:
                back += self._start(key, now)
        self._give_back(back)

    def _start(self, key: uuid.UUID, now: datetime) -> list[Back]:
        """Start the endpoint's waiting jobs up to its cap and wake parked ones when its share runs low
        (the lock is held); returns what to hand back to the outbox."""
        back = []
        endpoint = self._endpoints[key]
        while endpoint.waiting and (endpoint.running < self.per_endpoint or self._closing):
            job, since = endpoint.waiting.popleft()
            if self._closing:
                back.append((job, now, "handed back: the worker stopped", None))
                self._held -= 1
                continue
            if time.monotonic() - since > self.longest_hold:
                back.append((job, now + PARK, "parked: held here too long", key))
                self._held -= 1
                continue
            endpoint.running += 1
            self._pool.submit(self._deliver, key, job)
        return back + self._wake(endpoint, now)

    def _wake(self, endpoint: _Endpoint, now: datetime) -> list[Back]:
        """Make parked jobs due now, oldest first, once the endpoint's share is half empty."""
        if endpoint.woken and time.monotonic() - endpoint.woken_at > WOKEN_FORGOTTEN:
            endpoint.woken.clear()  # another worker claimed them, or they were done meanwhile
        if not endpoint.parked or (endpoint.paused_until is not None and endpoint.paused_until > now):
            return []
        expected = endpoint.held + len(endpoint.woken)
        if expected > self.hold_per_endpoint // 2:
            return []
        back = []
        while endpoint.parked and expected < self.hold_per_endpoint:
            job = endpoint.parked.popleft()
            endpoint.woken.add(job.id)
            back.append((job, now, "woken: its endpoint has room", None))
            expected += 1
        endpoint.woken_at = time.monotonic()
        return back

    def _deliver(self, key: uuid.UUID, job: ClaimedJob) -> None:
        outcome: Outcome | None = None
        try:
            outcome = run_delivery(
                self.database,
                self.keyring,
                self.client,
                job,
                source=self.source,
                max_failures=self.max_failures,
                jitter=self.jitter,
            )
        except Exception:  # noqa: BLE001 - the database gone: the job returns after its lease
            log.exception("webhook delivery could not be recorded", job_id=job.id)
        finally:
            self._give_back(self._finished(key, outcome))

    def _finished(self, key: uuid.UUID, outcome: Outcome | None) -> list[Back]:
        now = clock.now()
        back: list[Back] = []
        with self._lock:
            endpoint = self._endpoints[key]
            endpoint.running -= 1
            self._held -= 1
            if outcome is not None and outcome.endpoint_unwell and outcome.retry_at is not None:
                until = max(outcome.retry_at, endpoint.paused_until or outcome.retry_at)
                endpoint.paused_until = until
                back += [(job, until, "waiting: its endpoint failed", None) for job, _ in endpoint.waiting]
                self._held -= len(endpoint.waiting)
                endpoint.waiting.clear()
            elif outcome is not None and outcome.result == "delivered":
                endpoint.paused_until = None
            back += self._start(key, now)
            self._settled.notify_all()
        return back

    def _give_back(self, back: list[Back]) -> None:
        """Hand jobs back to the outbox, due at the given time, without an attempt.

        A parked job is only remembered as parked once its parking is committed: waking it (making
        it due now) can then never be overtaken by the parking written after it. One that was no
        longer this lane's to hand back (another worker claimed it) is not remembered.
        """
        while back:
            try:
                with self.database.unit_of_work() as session:
                    released = [
                        jobs.release(session, job=job, due_at=due_at, reason=why)
                        for job, due_at, why, _ in back
                    ]
            except Exception as exc:  # noqa: BLE001 - they return once their lease (or parking) ends
                log.warning("webhook jobs could not be handed back", jobs=len(back), error=error_summary(exc))
                return
            if lost := [job.id for (job, *_), ok in zip(back, released, strict=True) if not ok]:
                log.info("webhook jobs not handed back: claimed by another worker since", job_ids=lost)
            kept = [b for b, ok in zip(back, released, strict=True) if ok]
            parked = [(key, job) for job, _, _, key in kept if key is not None]
            now = clock.now()
            with self._lock:
                for key, job in parked:
                    self._endpoints.setdefault(key, _Endpoint()).parked.append(job)
                back = [
                    b for key in {key for key, _ in parked} for b in self._wake(self._endpoints[key], now)
                ]

    def idle(self) -> None:
        """Nothing was due: wake what endpoints whose pause ended have parked; forget idle endpoints."""
        now = clock.now()
        back: list[Back] = []
        with self._lock:
            for key, endpoint in list(self._endpoints.items()):
                back += self._wake(endpoint, now)
                paused = endpoint.paused_until is not None and endpoint.paused_until > now
                if not (endpoint.held or endpoint.parked or endpoint.woken or paused):
                    del self._endpoints[key]
        self._give_back(back)

    def wait_until_settled(self, timeout: float) -> bool:
        """Wait until no job is running or waiting here (tests, benchmarks, a graceful stop)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._held == 0, timeout)

    def close(self) -> None:
        """Hand back the jobs waiting here (due now: a stop is no failure of theirs, and left to their
        lease they would count one), let running deliveries finish, then release the threads and
        connections. Call it once the worker no longer hands this lane jobs."""
        now, back = clock.now(), []
        with self._lock:
            self._closing = True
            for key in list(self._endpoints):
                back += self._start(key, now)
        self._give_back(back)
        self._pool.shutdown(wait=True)
        self.client.close()
