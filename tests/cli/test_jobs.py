"""`postvak jobs` as operators use it: a real process, one JSON object on stdout with --json."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from postvak.jobs import repository as jobs
from postvak.jobs.worker import Worker
from postvak.kit import clock
from tests.support.jobs import run_until_parked, stored_job

START = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
    }

    def run(*args: str, code: int = 0) -> dict | str:
        done = subprocess.run(
            [sys.executable, "-m", "postvak.cli", "jobs", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, done.stderr
        return json.loads(done.stdout) if "--json" in args else done.stdout

    return run


@pytest.fixture
def parked_job(runtime) -> int:
    """A job whose handler always raises, run until it is parked (two failures)."""
    clock.set_clock(lambda: START)
    with runtime.database.unit_of_work() as session:
        rows = [
            {"kind": "work", "dedupe_key": f"work:{n}", "payload": {"n": n}, "due_at": START} for n in (1, 2)
        ]
        jobs.enqueue(session, rows)

    def work(session, payload):
        if payload["n"] == 2:
            raise ValueError("poisoned")

    run_until_parked(runtime, Worker(runtime.database, {"work": work}, max_failures=2), "work:2", START)
    clock.set_clock(None)
    return stored_job(runtime, "work:2").id


def test_list_retry_and_discard_print_one_json_object_each(postvak, parked_job):
    listed = postvak("list", "--parked", "--json")
    [job] = listed["jobs"]
    assert job["id"] == parked_job and job["state"] == "parked" and job["lastError"] == "ValueError: poisoned"
    assert postvak("list", "--json") == listed  # the job that ran fine is not listed

    retried = postvak("retry", str(parked_job), "--json")
    assert retried["id"] == parked_job and retried["state"] == "waiting" and retried["failures"] == 0
    assert postvak("list", "--parked", "--json") == {"jobs": []}

    discarded = postvak("discard", str(parked_job), "--json")
    assert discarded["state"] == "discarded" and discarded["doneAt"]
    assert postvak("list", "--json") == {"jobs": []}


def test_without_json_the_commands_print_lines_for_people(postvak, parked_job):
    assert f"{parked_job}" in postvak("list") and "ValueError: poisoned" in postvak("list")
    assert postvak("retry", str(parked_job)).strip() == f"job {parked_job} (work) will run again now"


def test_unknown_or_malformed_ids_are_refused_as_problems(postvak, parked_job):
    assert postvak("retry", "999999", "--json", code=2) == {
        "error": "not-found",
        "detail": "no job with id 999999",
    }
    refused = postvak("discard", "12; DROP TABLE jobs", "--json", code=2)
    assert refused["error"] == "validation-failed"
    assert postvak("list", "--json")["jobs"][0]["id"] == parked_job
