"""Notifications for tests: a worker whose e-mail goes to an aiosmtpd sink, citizens with SMS, events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from postvak.citizens import service as citizens
from postvak.jobs.worker import Worker
from postvak.runtime import Runtime, build_worker
from tests.support.letters import SenderHandle, letter
from tests.support.smtp import SmtpSink, smtp_sink


@contextmanager
def notifying(runtime: Runtime, **refuse: str) -> Iterator[tuple[SmtpSink, Worker]]:
    """An SMTP sink on loopback and a worker that sends to it as fast as it takes mail.

    Keyword arguments name addresses the sink refuses (`**{"a@example.nl": "550 5.1.1 no"}`).
    """
    with smtp_sink(refuse=refuse) as sink:
        runtime.settings = runtime.settings.model_copy(
            update={"smtp_url": sink.url, "notify_email_per_second": 0, "notify_sms_per_second": 0}
        )
        yield sink, build_worker(runtime)


def deliver(client: TestClient, sender: SenderHandle, bsn: str, reference: str, **fields) -> str:
    """One letter through the API (or its retry); returns its id."""
    answer = client.post("/api/v1/messages", json=letter(bsn, reference, **fields), headers=sender.headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["id"]


def events_of(client: TestClient, sender: SenderHandle, message_id: str) -> list[tuple[str, str | None]]:
    answer = client.get(f"/api/v1/messages/{message_id}", headers=sender.headers)
    return [(e["type"], e["detail"]) for e in answer.json()["events"]]


def add_phone(runtime: Runtime, citizen_id, number: str = "+31612345678", *, sms: bool = True) -> None:
    """A verified mobile number, as the settings page verifies it, with SMS notifications on or off."""
    with runtime.database.unit_of_work() as session:
        code = citizens.request_phone_code(
            session, keyring=runtime.keyring, citizen_id=citizen_id, number=number
        )
    with runtime.database.unit_of_work() as session:
        assert (
            citizens.verify_phone_code(
                session, keyring=runtime.keyring, citizen_id=citizen_id, code=code.code
            )
            == "ok"
        )
        citizens.set_sms_notifications(session, citizen_id=citizen_id, on=sms)
