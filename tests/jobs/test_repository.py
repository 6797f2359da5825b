"""Handing a claimed job back unrun (jobs.repository.release): fenced by the claim's attempt, no
failure counted, and never taken for a lease that ran out, however often it happens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from postvak.jobs import repository as jobs
from postvak.kit import clock
from tests.support.jobs import stored_job

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def enqueue(runtime, key: str) -> None:
    with runtime.database.unit_of_work() as session:
        jobs.enqueue(session, [{"kind": "handed", "dedupe_key": key, "payload": {}, "due_at": START}])


def claim(runtime, now: datetime, max_failures: int = 3) -> jobs.Claim:
    with runtime.database.unit_of_work() as session:
        return jobs.claim(session, "handed", now, LEASE, 10, max_failures)


def release(runtime, job: jobs.ClaimedJob, due_at: datetime, reason: str = "parked: busy") -> bool:
    with runtime.database.unit_of_work() as session:
        return jobs.release(session, job, due_at, reason)


def test_a_job_handed_back_again_and_again_is_never_taken_for_a_lease_that_ran_out(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "handed:0")
    moment = START
    for n in range(1, 8):  # more hand-backs than the three failures that would park it
        [job] = claim(runtime, moment).jobs
        assert (job.attempt, job.failures, job.taken_over) == (n, 0, False)
        moment += timedelta(minutes=10)  # later than the lease would have run
        assert release(runtime, job, moment)
        stored = stored_job(runtime, "handed:0")
        assert stored.locked_until is None and clock.as_utc(stored.due_at) == moment
        assert stored.failures == 0 and stored.parked_at is None and stored.last_error == "parked: busy"
    assert claim(runtime, moment).parked == []
    assert stored_job(runtime, "handed:0").attempts == 8  # every claim counted: the fence only grows


def test_a_hand_back_after_another_worker_claimed_the_job_changes_nothing(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "handed:1")
    [first] = claim(runtime, START).jobs
    later = START + LEASE + timedelta(seconds=1)
    [second] = claim(runtime, later).jobs  # the first run held it past its lease
    assert second.taken_over and second.attempt == first.attempt + 1
    before = stored_job(runtime, "handed:1")
    assert not release(runtime, first, START + timedelta(hours=1), "parked: its endpoint is busy")
    after = stored_job(runtime, "handed:1")
    fields = ("due_at", "locked_until", "attempts", "failures", "last_error", "done_at", "parked_at")
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]
    assert release(runtime, second, later, "waiting")  # the worker that holds it may


def test_a_released_job_is_woken_by_its_claim_until_someone_claims_it_again(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "handed:2")
    [job] = claim(runtime, START).jobs
    assert release(runtime, job, START + timedelta(minutes=15))  # parked out of the way
    assert release(runtime, job, START, "woken")  # made due again: nobody claimed it meanwhile
    assert clock.as_utc(stored_job(runtime, "handed:2").due_at) == START
    [again] = claim(runtime, START).jobs
    assert not again.taken_over and again.attempt == 2
    assert not release(runtime, job, START + timedelta(hours=1), "woken")  # too late: claimed again
    stored = stored_job(runtime, "handed:2")
    assert clock.as_utc(stored.locked_until) == START + LEASE and stored.last_error == "woken"


def test_a_parked_or_finished_job_is_not_handed_back(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "handed:3")
    enqueue(runtime, "handed:4")
    parked, finished = sorted(claim(runtime, START).jobs, key=lambda j: j.id)
    with runtime.database.unit_of_work() as session:
        jobs.park(session, parked, "ValueError: poisoned", START)
        jobs.finish(session, [finished], START)
    assert not release(runtime, parked, START, "woken") and not release(runtime, finished, START, "woken")
    assert stored_job(runtime, "handed:3").last_error == "ValueError: poisoned"
    assert stored_job(runtime, "handed:4").done_at is not None


def test_a_run_whose_job_was_parked_for_lost_leases_cannot_close_it_late(runtime):
    clock.set_clock(lambda: START)
    enqueue(runtime, "handed:2")
    [first] = claim(runtime, START, max_failures=1).jobs
    parked = claim(runtime, START + LEASE + timedelta(seconds=1), max_failures=1).parked
    assert parked == [first.id]
    with runtime.database.unit_of_work() as session:
        assert jobs.finish(session, [first], START + LEASE * 2) == 0  # the late run is fenced off
    stored = stored_job(runtime, "handed:2")
    assert stored.parked_at is not None and stored.done_at is None
