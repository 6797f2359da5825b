"""The use cases of the outbox: queue work once per key, in one insert however much; and the operator's:
see failing and parked jobs, retry or discard one."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from postvak.errors import NotFound, ValidationFailed
from postvak.jobs import repository as jobs
from postvak.jobs import service
from postvak.jobs.models import NewJob
from postvak.jobs.worker import Worker
from postvak.kit import clock
from tests.support.jobs import run_until_parked, stored_job
from tests.support.webhooks import counting_statements

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


class Outbox:
    """Jobs 0…3 of kind `work`: 0 runs fine, 1 fails its first run only, 2 and 3 always fail."""

    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.runs: list[int] = []
        self.cured: set[int] = set()
        self.worker = Worker(runtime.database, {"work": self.work}, max_failures=2)

    def work(self, session, payload) -> None:
        n = payload["n"]
        self.runs.append(n)
        if n in self.cured:
            return
        if n in (2, 3) or (n == 1 and self.runs.count(1) == 1):
            raise RuntimeError(f"poisoned {n}")

    def id(self, n: int) -> int:
        return stored_job(self.runtime, f"work:{n}").id


def test_work_queued_twice_under_one_key_is_queued_once(runtime):
    with runtime.database.unit_of_work() as session:
        service.enqueue(session, kind="work", key="work:once", payload={"n": 1}, due_at=START)
    with runtime.database.unit_of_work() as session:
        service.enqueue(session, kind="work", key="work:once", payload={"n": 2}, due_at=START)
        service.enqueue_many(session, jobs=[NewJob("work", "work:once", {"n": 3}, START)])
    assert stored_job(runtime, "work:once").payload == {"n": 1}


def test_a_thousand_jobs_are_queued_with_one_statement(runtime):
    planned = [NewJob("work", f"work:{n}", {"n": n}, START + timedelta(seconds=n)) for n in range(1000)]
    with runtime.database.unit_of_work() as session:
        session.execute(text("SELECT 1"))  # the transaction has begun
        with counting_statements(runtime.database.writer) as statements:
            service.enqueue_many(session, jobs=planned)
    assert len(statements) == 1, statements
    assert clock.as_utc(stored_job(runtime, "work:999").due_at) == START + timedelta(seconds=999)


@pytest.fixture
def outbox(runtime) -> Outbox:
    clock.set_clock(lambda: START)
    with runtime.database.unit_of_work() as session:
        service.enqueue_many(session, jobs=[NewJob("work", f"work:{n}", {"n": n}, START) for n in range(4)])
    box = Outbox(runtime)
    box.worker.run_once()  # 0 done; 1, 2, 3 failed once
    _, two = run_until_parked(runtime, box.worker, "work:2", START)
    _, three = run_until_parked(runtime, box.worker, "work:3", clock.as_utc(two.parked_at))
    clock.set_clock(lambda: clock.as_utc(three.parked_at) + timedelta(hours=1))
    box.worker.drain()  # 1 succeeds at its retry
    assert stored_job(runtime, "work:1").done_at is not None
    return box


def test_failing_and_parked_jobs_are_listed_newest_first(runtime, outbox):
    with runtime.database.unit_of_work(write=False) as session:
        listed = service.list_failing_jobs(session)
        parked = service.list_failing_jobs(session, parked_only=True)
    assert [v.id for v in listed] == [v.id for v in parked] == [outbox.id(3), outbox.id(2)]
    view = parked[1]
    assert view.state == "parked" and view.failures == 2 and view.attempts == 2
    assert view.last_error == "RuntimeError: poisoned 2"
    shown = view.as_dict()
    assert (
        shown["kind"] == "work" and shown["payload"] == {"n": 2} and shown["parkedAt"] and not shown["doneAt"]
    )


def test_a_job_that_failed_once_and_waits_for_its_retry_is_listed_but_not_as_parked(runtime):
    clock.set_clock(lambda: START)
    with runtime.database.unit_of_work() as session:
        service.enqueue(session, kind="work", key="work:1", payload={"n": 1}, due_at=START)
    Outbox(runtime).worker.run_once()
    with runtime.database.unit_of_work(write=False) as session:
        [view] = service.list_failing_jobs(session)
        assert view.state == "waiting" and view.failures == 1
        assert service.list_failing_jobs(session, parked_only=True) == []


def test_a_retried_job_runs_again_now_with_its_failures_forgotten(runtime, outbox):
    outbox.cured.add(2)
    with runtime.database.unit_of_work() as session:
        view = service.retry_job(session, job_id=outbox.id(2))
    assert view.state == "waiting" and view.failures == 0 and view.parked_at is None
    assert view.last_error == "RuntimeError: poisoned 2"  # kept, as history
    assert outbox.worker.run_once() == 1
    assert stored_job(runtime, "work:2").done_at is not None
    assert stored_job(runtime, "work:3").parked_at is not None  # the other parked job stays parked


def test_a_discarded_job_is_never_run_and_can_still_be_retried(runtime, outbox):
    with runtime.database.unit_of_work() as session:
        view = service.discard_job(session, job_id=outbox.id(3))
    assert view.state == "discarded" and view.done_at is not None
    with runtime.database.unit_of_work(write=False) as session:
        assert [v.id for v in service.list_failing_jobs(session)] == [outbox.id(2)]
    clock.set_clock(lambda: START + timedelta(days=1))
    assert outbox.worker.run_once() == 0
    with runtime.database.unit_of_work() as session:
        assert service.retry_job(session, job_id=outbox.id(3)).state == "waiting"
    assert outbox.worker.run_once() == 1


def test_what_cannot_be_retried_or_discarded_is_refused(runtime, outbox):
    with runtime.database.unit_of_work() as session:
        with pytest.raises(ValidationFailed, match="has finished"):
            service.retry_job(session, job_id=outbox.id(0))
        with pytest.raises(ValidationFailed, match="has finished"):
            service.discard_job(session, job_id=outbox.id(0))
        with pytest.raises(NotFound):
            service.retry_job(session, job_id=10**12)
    with runtime.database.unit_of_work() as session:
        service.retry_job(session, job_id=outbox.id(2))
    with runtime.database.unit_of_work() as session:  # a worker claims it: it is running now
        assert jobs.claim(session, "work", clock.now(), timedelta(minutes=5), 10, 2).jobs
    with runtime.database.unit_of_work() as session:
        with pytest.raises(ValidationFailed, match="running now"):
            service.retry_job(session, job_id=outbox.id(2))
        with pytest.raises(ValidationFailed, match="running now"):
            service.discard_job(session, job_id=outbox.id(2))


def test_every_job_is_queued_through_jobs_service():
    """No module outside the outbox builds a job's row (its `dedupe_key` column) by hand."""
    source = Path(__file__).resolve().parents[2] / "src" / "postvak"
    hand_built = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if path.parent != source / "jobs"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value == "dedupe_key"
    ]
    assert hand_built == []
