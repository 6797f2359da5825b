"""Every problem slug of API.md, provoked through the API and checked."""

import base64

import pytest
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.runtime import build_runtime
from postvak.senders import service as senders
from tests.attachments import pdfs
from tests.support.letters import letter
from tests.support.problems import assert_problem


def test_unauthorized_without_unknown_and_revoked_key(client, sender, runtime, bsns):
    body = letter(bsns[0], "A-1")
    assert_problem(client.post("/api/v1/messages", json=body), "unauthorized", 401)
    r = client.post("/api/v1/messages", json=body, headers={"Authorization": "Bearer pvk_nope"})
    assert_problem(r, "unauthorized", 401)
    assert r.headers["www-authenticate"] == "Bearer"
    with runtime.database.unit_of_work() as session:
        senders.revoke_api_key(session, key_id=sender.key_id)
    assert_problem(client.post("/api/v1/messages", json=body, headers=sender.headers), "unauthorized", 401)
    assert_problem(client.get("/api/v1/events", headers=sender.headers), "unauthorized", 401)


def test_a_second_key_keeps_working_when_one_is_revoked(client, sender, runtime, bsns):
    with runtime.database.unit_of_work() as session:
        second = senders.issue_api_key(session, sender_id=sender.id)
        senders.revoke_api_key(session, key_id=sender.key_id)
    headers = {"Authorization": f"Bearer {second.api_key}"}
    assert client.post("/api/v1/messages", json=letter(bsns[0], "A-2"), headers=headers).status_code == 201


def test_forbidden_for_a_suspended_organisation(client, sender, runtime, bsns):
    with runtime.database.unit_of_work() as session:
        senders.set_sender_status(session, sender_id=sender.id, status="suspended")
    r = client.post("/api/v1/messages", json=letter(bsns[0], "F-1"), headers=sender.headers)
    assert_problem(r, "forbidden", 403)


def test_not_found_for_unknown_malformed_and_foreign_ids(client, sender, other_sender, bsns):
    created = client.post("/api/v1/messages", json=letter(bsns[0], "N-1"), headers=sender.headers).json()
    assert_problem(
        client.get(f"/api/v1/messages/{created['id']}", headers=other_sender.headers), "not-found", 404
    )
    assert_problem(
        client.get("/api/v1/messages/00000000-0000-7000-8000-000000000000", headers=sender.headers),
        "not-found",
        404,
    )
    assert_problem(client.get("/api/v1/messages/not-an-id", headers=sender.headers), "not-found", 404)
    assert_problem(client.get("/api/v1/nothing-here", headers=sender.headers), "not-found", 404)


@pytest.mark.parametrize(
    "change,field",
    [
        ({"subject": ""}, "subject"),
        ({"senderReference": "x" * 65}, "senderReference"),
        ({"action": {"kind": "pay", "label": "Betalen", "url": "http://insecure.example.nl"}}, "action.url"),
        ({"action": {"kind": "dance", "label": "x", "url": "https://a.example.nl"}}, "action.kind"),
        ({"paperFallback": "always"}, "paperFallback"),
        ({"publishAt": "2027-01-05T07:00:00"}, "publishAt"),
        ({"dueDate": "31-03-2027"}, "dueDate"),
        ({"unknownField": 1}, "unknownField"),
        ({"recipient": {"type": "KVK", "value": "12345678"}}, "recipient.type"),
        ({"body": ""}, "body"),
        # No database keeps a NUL in text (PostgreSQL refuses it): named, never a 500.
        ({"subject": "Aanslag\x00"}, "subject"),
        ({"senderReference": "A\x00"}, "senderReference"),
        ({"body": "Geachte\x00"}, "body"),
        ({"notification": {"text": "x\x00"}}, "notification.text"),
        ({"messageType": "aanslag\n"}, "messageType"),
    ],
)
def test_validation_failed_names_the_field(client, sender, bsns, change, field):
    r = client.post("/api/v1/messages", json={**letter(bsns[0], "V-1"), **change}, headers=sender.headers)
    problem = assert_problem(r, "validation-failed", 422)
    assert problem["detail"].startswith(field)


def test_validation_failed_for_missing_fields_and_broken_json(client, sender):
    r = client.post("/api/v1/messages", json={"senderReference": "V-2"}, headers=sender.headers)
    assert "recipient" in assert_problem(r, "validation-failed", 422)["detail"]
    r = client.post(
        "/api/v1/messages",
        content=b"{not json",
        headers={**sender.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, "validation-failed", 422)
    assert_problem(
        client.post("/api/v1/message-batches", json={"messages": []}, headers=sender.headers),
        "validation-failed",
        422,
    )
    assert_problem(
        client.get("/api/v1/events?after=garbage", headers=sender.headers), "validation-failed", 422
    )
    assert_problem(client.get("/api/v1/events?limit=0", headers=sender.headers), "validation-failed", 422)


@pytest.mark.parametrize("value", ["123456789", "000000000", "99999365", "9999936530", "abcdefghi"])
def test_invalid_recipient(client, sender, value):
    r = client.post("/api/v1/messages", json=letter(value, "I-1"), headers=sender.headers)
    problem = assert_problem(r, "invalid-recipient", 422)
    assert value not in problem["detail"]


def test_duplicate_reference_with_other_content(client, sender, bsns):
    assert (
        client.post("/api/v1/messages", json=letter(bsns[0], "D-1"), headers=sender.headers).status_code
        == 201
    )
    r = client.post(
        "/api/v1/messages", json=letter(bsns[0], "D-1", subject="Iets anders"), headers=sender.headers
    )
    assert_problem(r, "duplicate-reference", 409)


def test_attachment_rejected(client, sender, bsns):
    r = client.post(
        "/api/v1/attachments",
        content=pdfs.png(),
        headers={**sender.headers, "Content-Type": "application/pdf"},
    )
    assert_problem(r, "attachment-rejected", 422)
    inline = {
        "fileName": "a.pdf",
        "mediaType": "application/pdf",
        "content": base64.b64encode(pdfs.with_javascript_open_action()).decode(),
    }
    r = client.post(
        "/api/v1/messages", json=letter(bsns[0], "P-1", attachments=[inline]), headers=sender.headers
    )
    assert assert_problem(r, "attachment-rejected", 422)["detail"].startswith("attachments[0]")


def test_payload_too_large(client, sender, bsns):
    r = client.post(
        "/api/v1/messages", json=letter(bsns[0], "L-1", body="x" * (1024 * 1024 + 1)), headers=sender.headers
    )
    assert_problem(r, "payload-too-large", 413)
    r = client.post(
        "/api/v1/attachments",
        content=b"%PDF-" + b"0" * (11 * 1024 * 1024),
        headers={**sender.headers, "Content-Type": "application/pdf"},
    )
    assert_problem(r, "payload-too-large", 413)


def test_unsupported_media_type(client, sender, bsns):
    r = client.post(
        "/api/v1/messages", content=b"{}", headers={**sender.headers, "Content-Type": "text/plain"}
    )
    assert_problem(r, "unsupported-media-type", 415)
    r = client.post(
        "/api/v1/attachments",
        content=pdfs.one_page(),
        headers={**sender.headers, "Content-Type": "application/octet-stream"},
    )
    assert_problem(r, "unsupported-media-type", 415)


def test_rate_limited_with_retry_after(runtime):
    slow = build_runtime(
        runtime.settings.model_copy(update={"sender_rate_per_second": 0.5, "sender_rate_burst": 2})
    )
    from tests.support.letters import register

    handle = register(slow)
    with TestClient(build_app(slow)) as client:
        answers = [client.get("/api/v1/events", headers=handle.headers) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert_problem(answers[2], "rate-limited", 429)
    assert int(answers[2].headers["retry-after"]) >= 1


def test_problem_type_pages_explain_each_slug(client):
    page = client.get("/problems/duplicate-reference")
    assert page.status_code == 200 and "senderReference" in page.text
    assert client.get("/problems/no-such-slug").status_code == 404


def test_every_response_carries_the_api_version(client, sender):
    assert client.get("/api/v1/events", headers=sender.headers).headers["api-version"] == "1.0.0"
    assert client.get("/api/v1/events").headers["api-version"] == "1.0.0"
