"""The worker's lanes: each kind is claimed on its own, a dead worker's lease runs out, lanes stop."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from postvak.jobs import repository as jobs
from postvak.jobs.repository import ClaimedJob
from postvak.jobs.worker import Worker
from postvak.kit import clock

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


def enqueue(runtime, kind: str, count: int, due=START) -> None:
    rows = [
        {"kind": kind, "dedupe_key": f"{kind}:{n}", "payload": {"n": n}, "due_at": due} for n in range(count)
    ]
    with runtime.database.unit_of_work() as session:
        jobs.enqueue(session, rows)


class CountingLane:
    """A lane that finishes whatever it is given, and remembers it."""

    name = "counting"

    def __init__(self, database, kind: str, batch: int = 100) -> None:
        self.database, self.kinds, self.batch = database, (kind,), batch
        self.runs: list[list[ClaimedJob]] = []

    def run(self, claimed: list[ClaimedJob]) -> None:
        self.runs.append(claimed)
        with self.database.unit_of_work() as session:
            jobs.finish(session, claimed, clock.now())

    def idle(self) -> None:
        pass


def test_a_backlog_of_notifications_never_delays_other_jobs(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "bulk", 1000, due=START - timedelta(hours=1))  # older, so first in due order
    enqueue(runtime, "publish-message", 1)
    published = []
    lane = CountingLane(runtime.database, "bulk")
    worker = Worker(runtime.database, {"publish-message": lambda s, p: published.append(p)}, lanes=[lane])
    worker.run_once()
    assert published == [{"n": 0}]  # in the first round, beside the first batch of the backlog
    assert len(lane.runs) == 1 and len(lane.runs[0]) == 100


def test_a_job_claimed_by_a_worker_that_died_is_claimed_again_once_its_lease_ends(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "bulk", 3)
    with runtime.database.unit_of_work() as session:
        assert len(jobs.claim(session, "bulk", START, timedelta(minutes=5), 10, 10).jobs) == 3  # then it dies
    lane = CountingLane(runtime.database, "bulk")
    worker = Worker(runtime.database, {}, lanes=[lane])
    assert worker.run_once() == 0  # leased
    clock.set_clock(lambda: START + timedelta(minutes=5, seconds=1))
    assert worker.run_once() == 3
    assert [j.attempt for j in lane.runs[0]] == [2, 2, 2]
    assert worker.run_once() == 0


def test_every_lane_runs_in_a_thread_of_its_own_until_stopped(runtime):
    enqueue(runtime, "bulk", 250, due=clock.now())
    lane = CountingLane(runtime.database, "bulk")
    worker = Worker(runtime.database, {"other": lambda s, p: None}, lanes=[lane], poll_seconds=0.05)
    thread = threading.Thread(target=worker.run_forever)
    thread.start()
    deadline = time.monotonic() + 10
    while sum(len(r) for r in lane.runs) < 250 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert sum(len(r) for r in lane.runs) == 250


def test_finished_jobs_are_forgotten_after_a_week_and_open_ones_never(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "bulk", 5)
    enqueue(runtime, "later", 2, due=START + timedelta(days=30))  # a reminder, due in a month
    lane = CountingLane(runtime.database, "bulk")
    worker = Worker(runtime.database, {}, lanes=[lane])
    worker.run_once()
    clock.set_clock(lambda: START + timedelta(days=6))
    assert worker.housekeep()["jobs"] == 0
    clock.set_clock(lambda: START + timedelta(days=7, seconds=1))
    assert worker.housekeep()["jobs"] == 5
    with runtime.database.unit_of_work(write=False) as session:
        assert jobs.pending_count(session) == 2
