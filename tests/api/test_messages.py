"""Reading letters back by senderReference, and withdrawing one still scheduled (DELETE /messages/{id})."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postvak.flows.publishing import publish_scheduled_message
from postvak.inbox.models import InboxItem
from postvak.jobs.models import Job
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import history, rules
from postvak.messages import service as messages
from postvak.notifications.models import Notification
from tests.support.citizens import make_citizen, sign_in
from tests.support.html import letter_links
from tests.support.letters import letter
from tests.support.notifying import notifying
from tests.support.problems import assert_problem

START = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)
LATER = START + timedelta(hours=2)


@pytest.fixture
def at_start():
    clock.set_clock(lambda: START)
    yield
    clock.set_clock(None)


def deliver(client, sender, bsn, reference, **fields) -> dict:
    answer = client.post("/api/v1/messages", json=letter(bsn, reference, **fields), headers=sender.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def scheduled(client, sender, bsn, reference, **fields) -> str:
    found = deliver(client, sender, bsn, reference, publishAt=LATER.isoformat(), **fields)
    assert found["status"] == "scheduled"
    return found["id"]


def withdraw(client, sender, message_id):
    return client.delete(f"/api/v1/messages/{message_id}", headers=sender.headers)


def read(client, sender, message_id) -> dict:
    answer = client.get(f"/api/v1/messages/{message_id}", headers=sender.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def feed_types(client, sender, message_id) -> list[str]:
    seen, cursor, deadline = [], None, time.monotonic() + 20
    while time.monotonic() < deadline:  # on PostgreSQL an event shows once older transactions ended
        page = client.get("/api/v1/events" + (f"?after={cursor}" if cursor else ""), headers=sender.headers)
        body = page.json()
        seen += [e["type"] for e in body["events"] if e["messageId"] == message_id]
        cursor = body["nextCursor"]
        if "withdrawn" in seen:
            break
        if not body["events"]:
            time.sleep(0.05)
    return seen


def run_publication(runtime, message_id: str) -> None:
    with runtime.database.unit_of_work() as session:
        publish_scheduled_message(session, {"messageId": message_id})


def history_of(runtime, message_id: str) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        ids = [parse_id(message_id)]
        return history.types_of(session, message_ids=ids)[ids[0]]


def filed(runtime, message_id: str) -> bool:
    with runtime.database.unit_of_work(write=False) as session:
        return session.get(InboxItem, parse_id(message_id)) is not None


# --- withdrawing ------------------------------------------------------------------------------------


def test_a_scheduled_letter_is_withdrawn_and_its_citizen_never_sees_it(
    runtime, client, web_client, sender, bsns, at_start
):
    citizen = make_citizen(runtime, bsns[0])
    gone = scheduled(
        client, sender, bsns[0], "WD-1", subject="Ingetrokken aanslag", paperFallback="if-unreachable"
    )
    kept = scheduled(client, sender, bsns[0], "WD-2", subject="Gewone aanslag")

    answer = withdraw(client, sender, gone)
    assert answer.status_code == 204 and answer.content == b""
    assert answer.headers["api-version"]
    shown = read(client, sender, gone)
    assert shown["status"] == "withdrawn"
    assert [e["type"] for e in shown["events"]] == ["accepted", "scheduled", "withdrawn"]
    assert feed_types(client, sender, gone) == ["accepted", "scheduled", "withdrawn"]

    # At publishAt the worker publishes the other letter (and mails about it); this one stays away.
    clock.set_clock(lambda: LATER + timedelta(seconds=1))
    with notifying(runtime) as (sink, worker):
        worker.drain()
        assert len(sink.wait_for(1)) == 1
    assert history_of(runtime, gone) == ["accepted", "scheduled", "withdrawn"]
    assert read(client, sender, kept)["status"] == "notified"
    assert not filed(runtime, gone) and filed(runtime, kept)
    with runtime.database.unit_of_work(write=False) as session:
        jobs = list(session.scalars(select(Job.dedupe_key).where(Job.dedupe_key.like(f"%{gone}%"))))
        told = session.scalars(select(Notification).where(Notification.message_id == parse_id(gone)))
        assert jobs == [f"publish-message:{gone}"] and list(told) == []

    sign_in(web_client, runtime, citizen)
    pages = {page: web_client.get(page) for page in ("/inbox", "/inbox?box=all", "/inbox?unread=1")}
    for page, answer in pages.items():
        assert answer.status_code == 200
        assert [letter_id for letter_id, _ in letter_links(answer.text)] == [kept], page
        assert gone not in answer.text and "Ingetrokken aanslag" not in answer.text
    assert [i for i, _ in letter_links(web_client.get("/inbox?q=aanslag").text)] == [kept]
    assert letter_links(web_client.get("/inbox?q=Ingetrokken").text) == []
    assert web_client.get(f"/inbox/letters/{gone}").status_code == 404


def test_a_withdrawn_letter_stays_away_when_its_mailbox_is_activated_later(
    runtime, client, sender, bsns, at_start
):
    waiting = scheduled(client, sender, bsns[1], "WD-ACT")  # no account yet: an inactive mailbox
    unreachable = deliver(client, sender, bsns[1], "WD-ACT-2")["id"]
    assert withdraw(client, sender, waiting).status_code == 204
    make_citizen(runtime, bsns[1])  # activated at once: the letters that waited are delivered now
    assert not filed(runtime, waiting)
    assert filed(runtime, unreachable) and read(client, sender, unreachable)["status"] == "delivered"
    assert history_of(runtime, waiting) == ["accepted", "scheduled", "withdrawn"]


def test_a_published_letter_or_one_withdrawn_before_is_not_withdrawable(
    runtime, client, sender, bsns, at_start
):
    make_citizen(runtime, bsns[2])
    published = deliver(client, sender, bsns[2], "WD-NOW")["id"]
    answer = withdraw(client, sender, published)
    assert_problem(answer, "not-withdrawable", 409)
    assert "delivered" in answer.json()["detail"]
    assert read(client, sender, published)["status"] == "delivered"

    twice = scheduled(client, sender, bsns[2], "WD-TWICE")
    assert withdraw(client, sender, twice).status_code == 204
    again = withdraw(client, sender, twice)
    assert_problem(again, "not-withdrawable", 409)
    assert again.json()["detail"] == "the letter was withdrawn before"
    assert history_of(runtime, twice) == ["accepted", "scheduled", "withdrawn"]


def test_a_letter_whose_publish_at_has_passed_is_not_withdrawable_even_before_the_worker_ran(
    runtime, client, sender, bsns, at_start
):
    make_citizen(runtime, bsns[3])
    due = scheduled(client, sender, bsns[3], "WD-DUE")
    clock.set_clock(lambda: LATER)
    answer = withdraw(client, sender, due)
    assert_problem(answer, "not-withdrawable", 409)
    assert "publishAt has passed" in answer.json()["detail"]
    run_publication(runtime, due)
    assert history_of(runtime, due) == ["accepted", "scheduled", "delivered"] and filed(runtime, due)


def test_another_senders_letter_or_an_unknown_id_is_not_found(client, sender, other_sender, bsns, at_start):
    theirs = scheduled(client, other_sender, bsns[4], "WD-THEIRS")
    for message_id in (theirs, "0193a1c2-7d4e-7b7a-9c1d-2f3e4a5b6c7d", "not-an-id"):
        assert_problem(withdraw(client, sender, message_id), "not-found", 404)
    assert read(client, other_sender, theirs)["status"] == "scheduled"
    assert_problem(client.delete(f"/api/v1/messages/{theirs}"), "unauthorized", 401)


@pytest.mark.parametrize("rounds", [6])
def test_a_withdrawal_and_a_publication_at_the_same_moment_end_in_exactly_one(
    runtime, client, sender, bsns, at_start, monkeypatch, rounds
):
    """Both read the history, then append: a pause between the two lets the other one in, were the
    message's row not locked (PostgreSQL; SQLite's writers are serial anyway)."""
    make_citizen(runtime, bsns[5])
    ids = [scheduled(client, sender, bsns[5], f"WD-RACE-{n}") for n in range(rounds)]
    append = history.append

    def slow_append(session, *, events):
        time.sleep(0.05)
        append(session, events=events)

    monkeypatch.setattr(history, "append", slow_append)
    outcomes = {}
    for message_id in ids:
        start = threading.Barrier(2)
        answers: dict[str, object] = {}

        def withdraw_it(message_id=message_id, start=start, answers=answers):
            start.wait()
            try:
                with runtime.database.unit_of_work() as session:
                    messages.withdraw_message(session, sender_id=sender.id, message_id=message_id, now=START)
                answers["withdraw"] = "ok"
            except Exception as exc:  # noqa: BLE001 - the answer is what the test looks at
                answers["withdraw"] = exc

        def publish_it(message_id=message_id, start=start):
            start.wait()
            run_publication(runtime, message_id)

        threads = [threading.Thread(target=withdraw_it), threading.Thread(target=publish_it)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        events = history_of(runtime, message_id)
        status = rules.current_status(events)  # raises on a history no message can have
        assert status in ("withdrawn", "delivered"), events
        assert events.count("withdrawn") + events.count("delivered") == 1, events
        assert filed(runtime, message_id) == (status == "delivered")
        withdrew = answers["withdraw"]
        assert (withdrew == "ok") == (status == "withdrawn"), withdrew
        if status == "delivered":
            assert getattr(withdrew, "slug", None) == "not-withdrawable"
        outcomes[message_id] = status
    assert len(outcomes) == rounds


def test_the_openapi_document_declares_the_withdrawal_and_its_problems(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/messages/{messageId}"]["delete"]
    assert operation["operationId"] == "withdrawMessage"
    assert {"204", "401", "404", "409"} <= set(operation["responses"])
    assert list(operation["responses"]["409"]["content"]["application/problem+json"]["examples"]) == [
        "not-withdrawable"
    ]
    page = client.get("/problems/not-withdrawable")
    assert page.status_code == 200 and "not-withdrawable" in page.text and "publishAt" in page.text


# --- looking up by senderReference ----------------------------------------------------------------


def test_a_letter_is_found_by_its_reference_as_get_shows_it(client, sender, other_sender, bsns, at_start):
    mine = deliver(client, sender, bsns[6], "REF/2027 001", dueDate="2027-06-01")["id"]
    deliver(client, other_sender, bsns[6], "REF-THEIRS")
    answer = client.get(
        "/api/v1/messages", params={"senderReference": "REF/2027 001"}, headers=sender.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"messages": [read(client, sender, mine)]}
    for reference in ("REF-THEIRS", "REF/2027 00", "ref/2027 001", "x" * 64):
        found = client.get("/api/v1/messages", params={"senderReference": reference}, headers=sender.headers)
        assert found.status_code == 200 and found.json() == {"messages": []}, reference


@pytest.mark.parametrize(
    "query,fault",
    [
        ("", "senderReference: "),
        ("?senderReference=", "senderReference: String should have at least 1 character"),
        ("?senderReference=" + "x" * 65, "senderReference: String should have at most 64 characters"),
        ("?senderReference=a%07b", "senderReference: may not contain the control character U+0007"),
        ("?senderReference=a%0Ab", "senderReference: may not contain a line break or tab (U+000A)"),
        ("?senderReference=a%E2%80%AEb", "senderReference: may not contain the bidirectional control"),
        ("?senderReference=a&senderReference=b", "senderReference: given more than once"),
        ("?senderReference=a&reference=b", "reference: not a parameter of this lookup (senderReference)"),
    ],
)
def test_a_reference_no_letter_can_have_or_an_odd_query_is_refused(client, sender, query, fault):
    answer = client.get(f"/api/v1/messages{query}", headers=sender.headers)
    assert_problem(answer, "validation-failed", 422)
    assert answer.json()["detail"].startswith(fault), answer.json()["detail"]


def test_a_lookup_needs_an_api_key(client):
    assert_problem(client.get("/api/v1/messages?senderReference=x"), "unauthorized", 401)


def test_another_method_is_refused_naming_every_method_of_the_path(client, sender):
    for path, allowed in (("/api/v1/messages", "GET, POST"), ("/api/v1/messages/x", "GET, DELETE")):
        answer = client.put(path, headers=sender.headers, json={})
        assert_problem(answer, "method-not-allowed", 405)
        assert answer.headers["allow"] == allowed
