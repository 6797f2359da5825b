"""Batches: bad items rejected alone, retries answered from storage, concurrent retries never duplicate."""

import base64
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from postvak.messages.models import Message, MessageEvent
from tests.attachments import pdfs
from tests.support.letters import letter
from tests.support.problems import assert_problem_document


def _count(runtime, model) -> int:
    with runtime.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(model))


def _thousand(bsns):
    items = [letter(bsns[i % len(bsns)], f"BATCH-{i:04d}") for i in range(1000)]
    broken = bsns[0][:-1] + str((int(bsns[0][-1]) + 1) % 10)  # one digit off: fails the elfproef
    items[10] = letter(broken, "BATCH-0010")
    bad_pdf = {
        "fileName": "a.pdf",
        "mediaType": "application/pdf",
        "content": base64.b64encode(pdfs.with_javascript_open_action()).decode(),
    }
    items[500] = letter(bsns[0], "BATCH-0500", attachments=[bad_pdf])
    return items


def test_one_bad_bsn_one_bad_pdf_and_998_good_letters(client, sender, runtime, bsns):
    r = client.post("/api/v1/message-batches", json={"messages": _thousand(bsns)}, headers=sender.headers)
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["index"] for x in results] == list(range(1000))
    assert [x["index"] for x in results if x["outcome"] == "rejected"] == [10, 500]
    assert_problem_document(results[10]["problem"], "invalid-recipient", 422)
    assert_problem_document(results[500]["problem"], "attachment-rejected", 422)
    assert results[500]["problem"]["instance"].endswith("#/messages/500")
    assert all(x["outcome"] == "created" and x["id"] for i, x in enumerate(results) if i not in (10, 500))
    assert _count(runtime, Message) == 998
    assert _count(runtime, MessageEvent) == 998 * 2


def test_the_same_batch_twice_stores_nothing_new(client, sender, runtime, bsns):
    batch = {"messages": _thousand(bsns)}
    first = client.post("/api/v1/message-batches", json=batch, headers=sender.headers).json()["results"]
    second = client.post("/api/v1/message-batches", json=batch, headers=sender.headers).json()["results"]
    assert {x["outcome"] for i, x in enumerate(second) if i not in (10, 500)} == {"existing"}
    assert [x["id"] for x in first] == [x["id"] for x in second]
    assert _count(runtime, Message) == 998
    assert _count(runtime, MessageEvent) == 998 * 2


def test_a_reference_twice_in_one_batch(client, sender, bsns):
    items = [letter(bsns[0], "TWICE"), letter(bsns[0], "TWICE"), letter(bsns[0], "TWICE", subject="Anders")]
    results = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers).json()
    outcomes = [x["outcome"] for x in results["results"]]
    assert outcomes == ["created", "existing", "rejected"]
    assert results["results"][0]["id"] == results["results"][1]["id"]
    assert_problem_document(results["results"][2]["problem"], "duplicate-reference", 409)


def test_twenty_concurrent_requests_with_one_reference_store_one_letter(client, sender, runtime, bsns):
    def send(_):
        return client.post("/api/v1/messages", json=letter(bsns[3], "CONCURRENT-1"), headers=sender.headers)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(send, range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 19 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _count(runtime, Message) == 1
    assert _count(runtime, MessageEvent) == 2


def test_concurrent_overlapping_batches_store_each_letter_once(client, sender, runtime, bsns):
    batches = [
        [letter(bsns[i], f"OVERLAP-{i:03d}") for i in range(start, start + 200)] for start in (0, 100, 50)
    ]

    def send(items):
        return client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(send, batches))
    assert all(a.status_code == 200 for a in answers)
    assert all(x["outcome"] in ("created", "existing") for a in answers for x in a.json()["results"])
    assert _count(runtime, Message) == 300
    assert _count(runtime, MessageEvent) == 600


def test_more_than_a_thousand_is_refused_whole(client, sender, bsns):
    items = [letter(bsns[0], f"MANY-{i}") for i in range(1001)]
    r = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers)
    assert r.status_code == 422 and "1000" in r.json()["detail"]


def test_non_object_items_are_rejected_alone(client, sender, bsns):
    items = [letter(bsns[0], "OK-1"), "not a letter", 42]
    results = client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers).json()
    assert [x["outcome"] for x in results["results"]] == ["created", "rejected", "rejected"]
