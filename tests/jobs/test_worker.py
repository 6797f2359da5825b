"""The worker's lanes: each kind is claimed on its own, a dead worker's lease runs out, lanes stop, a
poisoned job fails alone and is parked, housekeeping forgets what counts for nothing any more."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from postvak.inbox import service as inbox
from postvak.jobs import repository as jobs
from postvak.jobs.models import ClaimedJob
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.runtime import job_handlers
from tests.inbox.mailboxes import history, mailbox, send
from tests.support.jobs import jobs_like, poison, run_until_parked, stored_job
from tests.support.letters import letter

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


# One poisoned job between good ones: it fails alone, is retried with backoff, and is parked ---------


def publish_later(runtime, sender, bsns, count: int) -> list:
    """`count` letters scheduled an hour ahead (each with its publish-message job)."""
    items = [
        letter(bsns[n], f"LATER-{n}", publishAt=(START + timedelta(hours=1)).isoformat())
        for n in range(count)
    ]
    for n in range(count):
        mailbox(runtime, bsns[n])
    return send(runtime, sender, *items)


def test_a_poisoned_publish_job_fails_alone_and_is_parked_after_n_failures(runtime, sender, bsns):
    clock.set_clock(lambda: START)
    ids = publish_later(runtime, sender, bsns, 3)
    poison(runtime, f"publish-message:{ids[1]}", whole={"messageID": str(ids[1])})  # a misspelt key
    clock.set_clock(lambda: START + timedelta(hours=1))
    worker = Worker(runtime.database, job_handlers(), max_failures=3)

    seen, parked = run_until_parked(runtime, worker, f"publish-message:{ids[1]}", START + timedelta(hours=1))

    assert seen == [1, 2, 3]
    assert parked.last_error == "KeyError: 'messageId'" and parked.attempts == 3 and parked.done_at is None
    assert [history(runtime, i)[-1] for i in ids] == ["delivered", "scheduled", "delivered"]
    for good in (ids[0], ids[2]):
        job = stored_job(runtime, f"publish-message:{good}")
        assert job.done_at is not None and job.attempts == 1 and job.failures == 0
    clock.set_clock(lambda: START + timedelta(days=30))
    assert worker.run_once() == 0  # parked: never claimed again


def test_a_poisoned_purge_job_fails_alone_and_is_parked_after_n_failures(runtime, sender, bsns):
    clock.set_clock(lambda: START)
    boxes = [mailbox(runtime, bsn) for bsn in bsns[:3]]
    ids = [send(runtime, sender, letter(bsn, f"BIN-{n}"))[0] for n, bsn in enumerate(bsns[:3])]
    for box, message_id in zip(boxes, ids, strict=True):
        with runtime.database.unit_of_work() as session:
            inbox.bin_messages(session, mailbox_id=box, message_ids=[str(message_id)])
    [poisoned] = [j for j in jobs_like(runtime, "purge-bin:%") if str(boxes[1]) in j.dedupe_key]
    poison(runtime, poisoned.dedupe_key, whole=["not", "an", "object"])
    later = START + timedelta(days=31)
    clock.set_clock(lambda: later)
    worker = Worker(runtime.database, job_handlers(), max_failures=2)

    seen, parked = run_until_parked(runtime, worker, poisoned.dedupe_key, later)

    assert seen == [1, 2] and parked.last_error.startswith("AttributeError: 'list' object")
    assert [history(runtime, i)[-1] for i in ids] == [
        "deleted-by-recipient",
        "delivered",
        "deleted-by-recipient",
    ]


def test_a_failure_is_retried_with_backoff_and_its_error_recorded_without_personal_data(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "flaky", 1)

    def fails(session, payload):
        raise ConnectionError("mail for jan@example.nl to 999993653 refused\nDETAIL: more")

    Worker(runtime.database, {"flaky": fails}).run_once()
    job = stored_job(runtime, "flaky:0")
    assert job.last_error == "ConnectionError: mail for <address> to <number> refused"
    assert job.failures == 1 and job.attempts == 1 and job.parked_at is None and job.locked_until is None
    assert START + timedelta(seconds=15) <= clock.as_utc(job.due_at) <= START + timedelta(seconds=30)


def test_a_job_whose_run_kills_its_worker_is_parked_after_n_leases(runtime):
    """Each claim after a lease ran out counts a failure: the job is parked, not run forever."""
    clock.set_clock(lambda: START)
    enqueue(runtime, "deadly", 1)
    moment = START
    for _ in range(3):  # claimed, and its worker dies before it ends
        with runtime.database.unit_of_work() as session:
            found = jobs.claim(session, "deadly", moment, timedelta(minutes=5), 10, 3)
        assert len(found.jobs) == 1
        moment += timedelta(minutes=5, seconds=1)
    with runtime.database.unit_of_work() as session:
        found = jobs.claim(session, "deadly", moment, timedelta(minutes=5), 10, 3)
    assert found.jobs == [] and len(found.parked) == 1
    job = stored_job(runtime, "deadly:0")
    assert job.parked_at is not None and job.failures == 3 and job.last_error.startswith("LeaseExpired")


def test_a_run_that_outlasted_its_lease_cannot_end_the_job_another_worker_took(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "slow", 1)
    with runtime.database.unit_of_work() as session:
        [first] = jobs.claim(session, "slow", START, timedelta(minutes=5), 10, 10).jobs
    later = START + timedelta(minutes=6)
    with runtime.database.unit_of_work() as session:
        [second] = jobs.claim(session, "slow", later, timedelta(minutes=5), 10, 10).jobs
    assert second.taken_over and second.attempt == 2 and second.failures == 1
    with runtime.database.unit_of_work() as session:  # the first run ends late: none of it applies
        assert jobs.finish(session, [first], later) == 0
        jobs.reschedule(session, first, later, "the batch took too long")
        jobs.fail(session, first, "ValueError", later, later)
    job = stored_job(runtime, "slow:0")
    assert (
        job.done_at is None
        and job.failures == 1
        and clock.as_utc(job.locked_until) == later + timedelta(minutes=5)
    )
    with runtime.database.unit_of_work() as session:
        assert jobs.finish(session, [second], later) == 1


def test_a_job_that_raises_leaves_the_others_of_its_round_to_run(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "mixed", 3)
    ran = []

    def handler(session, payload):
        if payload["n"] == 1:
            raise RuntimeError("poisoned")
        ran.append(payload["n"])

    Worker(runtime.database, {"mixed": handler}).run_once()
    assert ran == [0, 2]
    assert [stored_job(runtime, f"mixed:{n}").done_at is not None for n in range(3)] == [True, False, True]


# Housekeeping -----------------------------------------------------------------------------------


def test_housekeeping_forgets_throttles_that_count_for_nothing_any_more(runtime):
    from postvak.auth import repository as auth
    from postvak.auth.models import Throttle
    from postvak.auth.rules import ThrottleState
    from postvak.runtime import build_worker

    clock.set_clock(lambda: START)
    with runtime.database.unit_of_work() as session:
        auth.save_throttle(session, "ip:quiet", ThrottleState(3, START - timedelta(minutes=16), None))
        auth.save_throttle(session, "ip:counting", ThrottleState(3, START - timedelta(minutes=14), None))
        blocked = ThrottleState(25, START - timedelta(hours=2), START - timedelta(minutes=5))
        auth.save_throttle(session, "ip:was-blocked", blocked)  # blocked until 5 minutes ago: not quiet yet
        for n in range(25):
            auth.save_throttle(session, f"ip:old-{n}", ThrottleState(1, START - timedelta(days=3), None))
    worker = build_worker(runtime)
    worker.chores["throttles"] = lambda session: auth.delete_quiet_throttles(
        session, START - timedelta(minutes=15), 10
    )

    assert worker.housekeep()["throttles"] == 26  # in steps of 10 until none is left
    with runtime.database.unit_of_work(write=False) as session:
        assert sorted(session.scalars(select(Throttle.key))) == ["ip:counting", "ip:was-blocked"]
    clock.set_clock(lambda: START + timedelta(minutes=11))
    assert build_worker(runtime).housekeep()["throttles"] == 2  # the service's own rule: 15 quiet minutes
