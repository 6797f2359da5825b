"""Bad input at POST /api/v1/message-batches: an odd letter is rejected alone with its exact problem,
its neighbours are stored, and the envelope itself is checked as precisely."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postvak.kit import clock
from postvak.messages.models import Message
from tests.support.letters import letter
from tests.support.logcheck import bsns_in
from tests.support.odd_letters import ODD_LETTERS, raw_controls_in
from tests.support.problems import PROBLEM_MEMBERS, assert_problem, assert_problem_document

URL = "/api/v1/message-batches"


def _stored_references(runtime) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        return sorted(session.scalars(select(Message.sender_reference)))


def _post(client, sender, body: bytes):
    return client.post(URL, content=body, headers={**sender.headers, "Content-Type": "application/json"})


def test_every_odd_letter_is_rejected_alone_between_good_ones(client, sender, runtime, bsns, capfd, caplog):
    # One batch: good, odd, good, odd, …, good. Every odd letter of the table gets its own problem.
    items = [json.dumps(letter(bsns[0], "GOOD-0"), ensure_ascii=True)]
    for n, odd in enumerate(ODD_LETTERS, start=1):
        items.append(odd.encoded(letter(bsns[n], f"ODD-{n}")).decode())
        items.append(json.dumps(letter(bsns[n], f"GOOD-{n}"), ensure_ascii=True))
    response = _post(client, sender, f'{{"messages": [{", ".join(items)}]}}'.encode())
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert all(r["outcome"] == "created" and r["id"] for r in results[::2])
    wrong = []
    for odd, result in zip(ODD_LETTERS, results[1::2], strict=True):
        problem = result["problem"] or {}
        if not (
            result["outcome"] == "rejected"
            and result["id"] is None
            and set(problem) == PROBLEM_MEMBERS
            and problem.get("type", "").endswith(f"/{odd.slug}")
            and problem.get("status") == odd.status
            and problem.get("detail", "").startswith(f"{odd.field}: ")
            and odd.says in problem.get("detail", "")
            and problem.get("instance") == f"{URL}#/messages/{result['index']}"
        ):
            wrong.append((odd.name, result))
    assert wrong == []
    assert _stored_references(runtime) == sorted(f"GOOD-{n}" for n in range(len(ODD_LETTERS) + 1))
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert bsns_in(logged) == []
    assert raw_controls_in(logged) == []


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ("a letter", "JSON object"),
        (42, "JSON object"),
        (None, "JSON object"),
        ([], "JSON object"),
        (True, ""),
    ],
)
def test_an_item_that_is_not_an_object_is_rejected_alone(client, sender, runtime, bsns, item, says):
    items = [letter(bsns[0], "GOOD-0"), item, letter(bsns[2], "GOOD-2")]
    results = client.post(URL, json={"messages": items}, headers=sender.headers).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "created"]
    assert says in assert_problem_document(results[1]["problem"], "validation-failed", 422)["detail"]
    assert _stored_references(runtime) == ["GOOD-0", "GOOD-2"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[]", "body"),
        (b'"messages"', "body"),
        (b"{}", "messages"),
        (b'{"messages": []}', "messages"),
        (b'{"messages": {}}', "messages"),
        (b'{"messages": null}', "messages"),
        (b'{"messages": "[]"}', "messages"),
        (b'{"messages": [{}], "dryRun": true}', "dryRun"),
        (b'{"messages": [{}], "\\ud800": 1}', "\\ud800"),
        (b'{"messages": [{}], "\\u001b[2J": 1}', "\\x1b[2J"),
        (b'{"messages": [', "body"),
        (b'{"messages": [NaN]}', "body"),
        (b'{"messages": ["\xff"]}', "body"),
    ],
)
def test_a_broken_envelope_is_refused_whole(client, sender, runtime, body, field, capfd):
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"].startswith(f"{field}: "), problem["detail"]
    assert _stored_references(runtime) == []
    out, err = capfd.readouterr()
    assert raw_controls_in(out + err) == []


def test_a_broken_envelope_names_every_fault(client, sender):
    body = b'{"dryRun": true, "messages": [], "priority": 1}'
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"] == (
        "dryRun: not a member of a batch (only messages); priority: not a member of a batch (only messages); "
        "messages: give a non-empty list of letters"
    )


def test_an_item_with_many_faults_has_them_all_in_its_problem(client, sender, runtime, bsns):
    bad = letter(bsns[0], "BAD-1", subject="", sensitive="no")
    results = _post(client, sender, json.dumps({"messages": [bad]}).encode()).json()["results"]
    detail = assert_problem_document(results[0]["problem"], "validation-failed", 422)["detail"]
    assert detail == (
        "subject: String should have at least 1 character; sensitive: Input should be a valid boolean"
    )


def test_a_stored_letter_is_answered_after_its_dates_passed_and_a_new_one_is_not(
    client, sender, runtime, bsns
):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    dated = letter(bsns[0], "DATED", dueDate="2027-03-10", publishAt="2027-03-02T08:00:00-05:00")
    first = client.post(URL, json={"messages": [dated]}, headers=sender.headers).json()["results"]
    assert first[0]["outcome"] == "created"
    clock.set_clock(lambda: start + timedelta(days=30))
    items = [dated, {**dated, "senderReference": "DATED-NEW"}, letter(bsns[1], "UNDATED")]
    results = client.post(URL, json={"messages": items}, headers=sender.headers).json()["results"]
    assert [r["outcome"] for r in results] == ["existing", "rejected", "created"]
    assert results[0]["id"] == first[0]["id"]
    problem = assert_problem_document(results[1]["problem"], "validation-failed", 422)
    assert problem["detail"] == "dueDate: lies in the past: a new letter's dueDate is 2027-03-30 or later"
    assert _stored_references(runtime) == ["DATED", "UNDATED"]
