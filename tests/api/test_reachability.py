"""POST /api/v1/reachability-checks as a sender uses it: yes or no per recipient, in request order."""

from __future__ import annotations

from tests.support.citizens import make_citizen
from tests.support.notifying import deliver
from tests.support.problems import assert_problem, assert_problem_document

PATH = "/api/v1/reachability-checks"


def _bsn(value: str) -> dict:
    return {"type": "BSN", "value": value}


def test_each_recipient_is_answered_yes_or_no_in_request_order(client, runtime, sender, bsns):
    make_citizen(runtime, bsns[0])
    make_citizen(runtime, bsns[1], activated=False)
    deliver(client, sender, bsns[2], "REACH-1")
    bad = bsns[3][:8] + str((int(bsns[3][8]) + 1) % 10)
    body = {
        "recipients": [_bsn(bsns[0]), _bsn(bsns[1]), _bsn(bsns[2]), _bsn(bad), _bsn(bsns[4]), _bsn(bsns[0])]
    }
    answer = client.post(PATH, json=body, headers=sender.headers)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["index"], r["reachable"]) for r in results] == [
        (0, True),
        (1, False),
        (2, False),
        (3, False),
        (4, False),
        (5, True),
    ]
    problem = assert_problem_document(results[3]["problem"], "invalid-recipient", 422)
    assert problem["instance"] == f"{PATH}#/recipients/3"
    assert problem["detail"] == "value: the BSN fails the check digit (elfproef)"
    # Nothing more about a person than yes or no: no ids, no names, no channels, no BSN echoed.
    assert all(set(r) == {"index", "reachable", "problem"} for r in results)
    assert all(r["problem"] is None for i, r in enumerate(results) if i != 3)
    assert bsns[0] not in answer.text and bad not in answer.text


def test_ten_thousand_recipients_are_one_request_and_one_more_is_too_large(client, runtime, sender, bsns):
    make_citizen(runtime, bsns[1])
    recipients = [_bsn(b) for b in bsns] * 5
    answer = client.post(PATH, json={"recipients": recipients}, headers=sender.headers)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert len(results) == 10_000 and [r["index"] for r in results] == list(range(10_000))
    assert sum(r["reachable"] for r in results) == 5
    too_many = client.post(PATH, json={"recipients": [*recipients, _bsn(bsns[0])]}, headers=sender.headers)
    problem = assert_problem(too_many, "payload-too-large", 413)
    assert problem["detail"] == "recipients: at most 10000 per check"


def test_a_body_that_is_no_check_is_refused_whole(client, sender):
    cases = [
        ([], "body: give an object"),
        ({}, "recipients: give a non-empty list of recipients"),
        ({"recipients": []}, "recipients: give a non-empty list of recipients"),
        ({"recipients": "999993653"}, "recipients: give a non-empty list of recipients"),
        (
            {"recipients": [_bsn("999993653")], "sender": "x"},
            "sender: not a member of a check (only recipients)",
        ),
    ]
    for body, detail in cases:
        problem = assert_problem(
            client.post(PATH, json=body, headers=sender.headers), "validation-failed", 422
        )
        assert detail in problem["detail"], (body, problem["detail"])
    wrong_type = client.post(PATH, content=b"{}", headers={**sender.headers, "Content-Type": "text/plain"})
    assert_problem(wrong_type, "unsupported-media-type", 415)


def test_a_malformed_recipient_is_answered_alone(client, runtime, sender, bsns):
    make_citizen(runtime, bsns[0])
    body = {
        "recipients": [{"type": "KVK", "value": "12345678"}, 42, _bsn(bsns[0]), {"type": "BSN", "value": ""}]
    }
    results = client.post(PATH, json=body, headers=sender.headers).json()["results"]
    assert [r["reachable"] for r in results] == [False, False, True, False]
    assert_problem_document(results[0]["problem"], "validation-failed", 422)
    assert_problem_document(results[1]["problem"], "validation-failed", 422)
    assert_problem_document(results[3]["problem"], "invalid-recipient", 422)


def test_only_senders_may_ask(client):
    assert_problem(client.post(PATH, json={"recipients": [_bsn("999993653")]}), "unauthorized", 401)
