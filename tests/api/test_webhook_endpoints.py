"""The webhook endpoint routes as API.md fixes them: the secret shown only on creation and rotation,
another sender's id not found, URLs refused unless https to public addresses."""

from __future__ import annotations

import pytest

from postvak.webhooks import rules
from tests.support.problems import assert_problem

BASE = "/api/v1/webhook-endpoints"
PUBLIC_URL = "https://93.184.215.14/postvak"  # a public address: nothing is sent at registration
SHAPE = {"id", "url", "eventTypes", "createdAt", "disabledAt", "disabledReason", "rotationEndsAt"}


def create(client, sender, **body):
    return client.post(BASE, json={"url": PUBLIC_URL, **body}, headers=sender.headers)


def test_create_answers_201_with_the_secret_once(client, sender):
    answer = create(client, sender, eventTypes=["read", "confirmed"])
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert set(created) == SHAPE | {"secret"}
    assert created["url"] == PUBLIC_URL and created["eventTypes"] == ["read", "confirmed"]
    assert created["secret"].startswith("whsec_") and len(rules.secret_key(created["secret"])) >= 24
    assert answer.headers["api-version"]
    one = client.get(f"{BASE}/{created['id']}", headers=sender.headers)
    assert one.status_code == 200 and set(one.json()) == SHAPE
    assert {k: v for k, v in created.items() if k != "secret"} == one.json()
    listed = client.get(BASE, headers=sender.headers).json()
    assert listed == {"webhookEndpoints": [one.json()]}
    assert created["secret"] not in one.text + str(listed)


def test_without_event_types_every_type_is_delivered(client, sender):
    created = create(client, sender).json()
    assert created["eventTypes"] == list(rules.EVENT_TYPES)


def test_rotation_answers_201_with_a_new_secret_and_shows_the_overlap(client, sender):
    created = create(client, sender).json()
    answer = client.post(f"{BASE}/{created['id']}/secret-rotations", headers=sender.headers)
    assert answer.status_code == 201, answer.text
    assert set(answer.json()) == {"secret"}
    assert answer.json()["secret"].startswith("whsec_") and answer.json()["secret"] != created["secret"]
    assert client.get(f"{BASE}/{created['id']}", headers=sender.headers).json()["rotationEndsAt"]


def test_delete_answers_204_and_the_endpoint_is_gone(client, sender):
    created = create(client, sender).json()
    answer = client.delete(f"{BASE}/{created['id']}", headers=sender.headers)
    assert answer.status_code == 204 and answer.content == b""
    assert_problem(client.get(f"{BASE}/{created['id']}", headers=sender.headers), "not-found", 404)
    assert_problem(client.delete(f"{BASE}/{created['id']}", headers=sender.headers), "not-found", 404)
    assert client.get(BASE, headers=sender.headers).json() == {"webhookEndpoints": []}


def test_another_senders_endpoint_answers_404(client, sender, other_sender):
    created = create(client, sender).json()
    path = f"{BASE}/{created['id']}"
    assert_problem(client.get(path, headers=other_sender.headers), "not-found", 404)
    assert_problem(client.delete(path, headers=other_sender.headers), "not-found", 404)
    assert_problem(client.post(f"{path}/secret-rotations", headers=other_sender.headers), "not-found", 404)
    assert client.get(BASE, headers=other_sender.headers).json() == {"webhookEndpoints": []}
    assert client.get(path, headers=sender.headers).status_code == 200  # still there for its owner
    assert_problem(client.get(f"{BASE}/not-an-id", headers=sender.headers), "not-found", 404)


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://93.184.215.14/hook", "must be an https URL"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "localhost"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://10.0.0.1/hook", "private"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:192.168.0.1]/hook", "private"),
        ("https://2130706433/hook", "four decimal numbers"),
        ("https://0x7f.1/hook", "four decimal numbers"),
        ("https://evil@93.184.215.14/hook", "user name"),
        ("https://hooks.invalid/hook", "does not resolve"),
        ("not-a-url", "https"),
        ("https://hooks .example.nl/", "spaces"),
    ],
)
def test_urls_that_are_not_https_to_public_addresses_are_refused(client, sender, url, detail):
    problem = assert_problem(create(client, sender, url=url), "validation-failed", 422)
    assert problem["detail"].startswith("url: ") and detail in problem["detail"]
    assert client.get(BASE, headers=sender.headers).json() == {"webhookEndpoints": []}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"eventTypes": ["opened"]}, "eventTypes[0]"),
        ({"eventTypes": []}, "eventTypes"),
        ({"eventTypes": "read"}, "eventTypes"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"url": 5}, "url"),
    ],
)
def test_a_body_that_breaks_the_schema_is_refused(client, sender, body, detail):
    problem = assert_problem(create(client, sender, **body), "validation-failed", 422)
    assert problem["detail"].startswith(detail)


def test_the_url_is_required_and_the_body_must_be_json(client, sender):
    assert_problem(client.post(BASE, json={}, headers=sender.headers), "validation-failed", 422)
    answer = client.post(BASE, content=b"url=x", headers={**sender.headers, "content-type": "text/plain"})
    assert_problem(answer, "unsupported-media-type", 415)
    answer = client.post(BASE, content=b"{", headers={**sender.headers, "content-type": "application/json"})
    assert_problem(answer, "validation-failed", 422)


def test_an_organisation_has_at_most_ten_endpoints(client, sender):
    for _ in range(rules.MAX_ENDPOINTS_PER_SENDER):
        assert create(client, sender).status_code == 201
    problem = assert_problem(create(client, sender), "validation-failed", 422)
    assert "at most 10" in problem["detail"]


def test_every_route_wants_an_api_key(client, sender):
    created = create(client, sender).json()
    for method, path in [
        ("post", BASE),
        ("get", BASE),
        ("get", f"{BASE}/{created['id']}"),
        ("delete", f"{BASE}/{created['id']}"),
        ("post", f"{BASE}/{created['id']}/secret-rotations"),
    ]:
        assert_problem(getattr(client, method)(path), "unauthorized", 401)


def test_loopback_http_is_allowed_only_with_the_development_switch(runtime, client, sender):
    assert_problem(create(client, sender, url="http://127.0.0.1:8080/hook"), "validation-failed", 422)
    runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": True})
    assert create(client, sender, url="http://127.0.0.1:8080/hook").status_code == 201


def test_other_methods_answer_405_naming_every_method_of_the_path(client, sender):
    created = create(client, sender).json()
    for method, path, allowed in [
        ("put", BASE, "GET, POST"),
        ("patch", f"{BASE}/{created['id']}", "GET, DELETE"),
        ("get", f"{BASE}/{created['id']}/secret-rotations", "POST"),
    ]:
        answer = getattr(client, method)(path, headers=sender.headers)
        assert_problem(answer, "method-not-allowed", 405)
        assert answer.headers["allow"] == allowed
