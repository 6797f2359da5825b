"""publishAt with any UTC offset: stored as the same moment, echoed in UTC, published at that moment."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from postvak.jobs.models import Job
from postvak.jobs.worker import Worker
from postvak.kit import clock
from postvak.messages.models import Message
from postvak.runtime import job_handlers
from tests.support.letters import letter
from tests.support.problems import assert_problem

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

OFFSETS = [
    ("2026-12-01T13:52:32-05:00", "2026-12-01T18:52:32Z"),
    ("2026-12-01T13:52:32+01:00", "2026-12-01T12:52:32Z"),
    ("2026-12-02T13:52:32+14:00", "2026-12-01T23:52:32Z"),
    ("2026-12-01T13:52:32-12:00", "2026-12-02T01:52:32Z"),
    ("2026-12-01T18:37:32+05:45", "2026-12-01T12:52:32Z"),
    ("2026-12-01T13:52:32Z", "2026-12-01T13:52:32Z"),
    ("2026-12-01t13:52:32z", "2026-12-01T13:52:32Z"),
    ("2026-12-01T13:52:32-00:00", "2026-12-01T13:52:32Z"),
    ("2026-12-01T13:52:32.5+01:00", "2026-12-01T12:52:32.500000Z"),
]


def _status(client, sender, message_id) -> str:
    return client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()["status"]


@pytest.mark.parametrize(("sent", "utc"), OFFSETS, ids=[o[0] for o in OFFSETS])
def test_publish_at_is_kept_as_the_moment_sent(client, sender, runtime, bsns, sent, utc):
    clock.set_clock(lambda: START)
    moment = datetime.fromisoformat(utc)
    response = client.post(
        "/api/v1/messages", json=letter(bsns[0], "T-1", publishAt=sent), headers=sender.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["publishAt"] == utc
    assert response.json()["status"] == "scheduled"
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalar(select(Message.publish_at)) == moment
        assert session.scalar(select(Job.due_at).where(Job.kind == "publish-message")) == moment

    worker = Worker(runtime.database, job_handlers())
    clock.set_clock(lambda: moment - timedelta(seconds=1))
    worker.run_once()
    assert _status(client, sender, response.json()["id"]) == "scheduled"
    clock.set_clock(lambda: moment + timedelta(seconds=1))
    worker.run_once()
    assert _status(client, sender, response.json()["id"]) == "unreachable"  # published, no account yet


def test_a_moment_already_past_by_less_than_a_day_is_delivered_at_once(client, sender, bsns):
    clock.set_clock(lambda: START)
    sent = (START - timedelta(hours=23)).astimezone(timezone(timedelta(hours=5, minutes=45)))
    response = client.post(
        "/api/v1/messages", json=letter(bsns[0], "T-PAST", publishAt=sent.isoformat()), headers=sender.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "unreachable"
    assert response.json()["publishAt"] == "2026-11-30T13:00:00Z"


def test_a_time_without_an_offset_is_refused(client, sender, runtime, bsns):
    clock.set_clock(lambda: START)
    response = client.post(
        "/api/v1/messages",
        json=letter(bsns[0], "T-NAIVE", publishAt="2026-12-01T13:52:32"),
        headers=sender.headers,
    )
    problem = assert_problem(response, "validation-failed", 422)
    assert problem["detail"] == "publishAt: must carry its UTC offset (Z or ±hh:mm)"
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalar(select(Message.id)) is None
