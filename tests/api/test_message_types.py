"""Settings per message type: a sender chooses after how many days an unread letter is reminded."""

from datetime import UTC, datetime, timedelta

import pytest

from postvak.kit import clock
from postvak.senders import service as senders
from tests.support.problems import assert_problem

URL = "/api/v1/message-types"


def _put(client, sender, message_type, days):
    return client.put(f"{URL}/{message_type}", json={"unreadReminderDays": days}, headers=sender.headers)


def _listed(client, sender) -> list[dict]:
    response = client.get(URL, headers=sender.headers)
    assert response.status_code == 200, response.text
    return response.json()["messageTypes"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("put", f"{URL}/aanslag"), ("delete", f"{URL}/aanslag")],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer pvk_not-a-key"}])
def test_every_route_needs_an_api_key(client, method, path, headers):
    response = client.request(method, path, json={"unreadReminderDays": 14}, headers=headers)
    assert_problem(response, "unauthorized", 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_suspended_sender_may_not_change_settings(client, runtime, sender):
    with runtime.database.unit_of_work() as session:
        senders.set_sender_status(session, sender_id=sender.id, status="suspended")
    assert_problem(client.get(URL, headers=sender.headers), "forbidden", 403)
    assert_problem(_put(client, sender, "aanslag", 14), "forbidden", 403)


def test_a_sender_without_settings_lists_none(client, sender):
    assert _listed(client, sender) == []


def test_put_stores_the_setting_and_answers_it(client, sender):
    moment = datetime(2027, 1, 4, 9, 30, tzinfo=UTC)
    clock.set_clock(lambda: moment)
    response = _put(client, sender, "voorlopige-aanslag", 14)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "messageType": "voorlopige-aanslag",
        "unreadReminderDays": 14,
        "updatedAt": "2027-01-04T09:30:00Z",
    }
    assert _listed(client, sender) == [response.json()]


def test_the_list_is_sorted_by_message_type(client, sender):
    for message_type, days in [("voorlopige-aanslag", 14), ("aanslag", 30), ("beschikking", 3)]:
        assert _put(client, sender, message_type, days).status_code == 200
    listed = _listed(client, sender)
    assert [(s["messageType"], s["unreadReminderDays"]) for s in listed] == [
        ("aanslag", 30),
        ("beschikking", 3),
        ("voorlopige-aanslag", 14),
    ]


def test_put_is_an_idempotent_upsert(client, sender):
    start = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    first = _put(client, sender, "aanslag", 14).json()
    clock.set_clock(lambda: start + timedelta(hours=1))
    assert _put(client, sender, "aanslag", 14).json() == first  # a retry changes nothing
    clock.set_clock(lambda: start + timedelta(hours=2))
    changed = _put(client, sender, "aanslag", 21).json()
    assert changed == {
        "messageType": "aanslag",
        "unreadReminderDays": 21,
        "updatedAt": "2027-01-04T11:00:00Z",
    }
    assert _listed(client, sender) == [changed]


@pytest.mark.parametrize("days", [1, 90])
def test_the_limits_themselves_are_allowed(client, sender, days):
    assert _put(client, sender, "aanslag", days).json()["unreadReminderDays"] == days


@pytest.mark.parametrize("days", [56.0, 1.0, 9e1])
def test_a_whole_number_written_with_a_fraction_is_that_number(client, sender, days):
    # JSON Schema's "integer" includes 56.0, and the document says integer: the server agrees.
    assert _put(client, sender, "aanslag", days).json()["unreadReminderDays"] == int(days)


@pytest.mark.parametrize("days", [0, 91, -7, 14.5, 90.5, 0.0, "14", "14.0", True, None, [14]])
def test_days_outside_1_to_90_or_not_whole_numbers_are_refused(client, sender, days):
    problem = assert_problem(_put(client, sender, "aanslag", days), "validation-failed", 422)
    assert problem["detail"].startswith("unreadReminderDays: ")
    assert _listed(client, sender) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "unreadReminderDays"),
        ({"unreadReminderDays": 14, "reminderDays": 3}, "reminderDays"),
        ([], "body"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_naming_the_field(client, sender, body, field):
    response = client.put(f"{URL}/aanslag", json=body, headers=sender.headers)
    problem = assert_problem(response, "validation-failed", 422)
    assert problem["detail"].startswith(f"{field}: ")


def test_the_body_must_be_json(client, sender):
    body = b'{"unreadReminderDays": 14}'
    response = client.put(
        f"{URL}/aanslag", content=body, headers={**sender.headers, "Content-Type": "text/plain"}
    )
    assert_problem(response, "unsupported-media-type", 415)
    response = client.put(
        f"{URL}/aanslag", content=b"{", headers={**sender.headers, "Content-Type": "application/json"}
    )
    assert_problem(response, "validation-failed", 422)


@pytest.mark.parametrize("message_type", ["x" * 101, "aan%00slag", "aan%09slag", "aan%7Fslag"])
def test_a_message_type_too_long_or_with_control_characters_is_refused(client, sender, message_type):
    problem = assert_problem(_put(client, sender, message_type, 14), "validation-failed", 422)
    assert problem["detail"].startswith("messageType: ")
    assert_problem(client.delete(f"{URL}/{message_type}", headers=sender.headers), "validation-failed", 422)


def test_a_message_type_with_a_line_break_is_refused_as_a_problem(client, sender):
    """The /api/v1 mount does not route a %0A, so this is not-found today; validation-failed would do too."""
    response = _put(client, sender, "aanslag%0A", 14)
    assert response.status_code in (404, 422)
    assert_problem(
        response, "not-found" if response.status_code == 404 else "validation-failed", response.status_code
    )


@pytest.mark.parametrize(
    ("in_path", "message_type"),
    [
        ("x" * 100, "x" * 100),
        ("Aanslag%20OZB%202027", "Aanslag OZB 2027"),
        ("bezwaar%2Fberoep", "bezwaar/beroep"),
        ("%C3%A9%C3%A9n", "één"),
    ],
)
def test_every_message_type_a_letter_may_carry_can_be_set(client, sender, in_path, message_type):
    """A letter's messageType is any 1 to 100 characters; the path segment is percent-encoded."""
    response = _put(client, sender, in_path, 5)
    assert response.status_code == 200, response.text
    assert response.json()["messageType"] == message_type
    assert [s["messageType"] for s in _listed(client, sender)] == [message_type]
    assert client.delete(f"{URL}/{in_path}", headers=sender.headers).status_code == 204


def test_message_types_are_matched_exactly(client, sender):
    _put(client, sender, "aanslag", 14)
    _put(client, sender, "Aanslag", 30)
    assert {s["messageType"]: s["unreadReminderDays"] for s in _listed(client, sender)} == {
        "aanslag": 14,
        "Aanslag": 30,
    }


def test_delete_goes_back_to_the_default(client, sender):
    _put(client, sender, "aanslag", 14)
    _put(client, sender, "beschikking", 3)
    response = client.delete(f"{URL}/aanslag", headers=sender.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["API-Version"]
    assert [s["messageType"] for s in _listed(client, sender)] == ["beschikking"]


def test_deleting_a_type_without_a_setting_is_not_found(client, sender):
    assert_problem(client.delete(f"{URL}/aanslag", headers=sender.headers), "not-found", 404)
    _put(client, sender, "aanslag", 14)
    assert client.delete(f"{URL}/aanslag", headers=sender.headers).status_code == 204
    assert_problem(client.delete(f"{URL}/aanslag", headers=sender.headers), "not-found", 404)


def test_another_sender_can_neither_see_nor_delete_a_setting(client, sender, other_sender):
    _put(client, sender, "aanslag", 14)
    assert _listed(client, other_sender) == []
    response = client.delete(f"{URL}/aanslag", headers=other_sender.headers)
    assert_problem(response, "not-found", 404)
    assert [s["unreadReminderDays"] for s in _listed(client, sender)] == [14]


def test_each_sender_has_its_own_setting_for_the_same_type(client, sender, other_sender):
    _put(client, sender, "aanslag", 14)
    _put(client, other_sender, "aanslag", 60)
    assert [s["unreadReminderDays"] for s in _listed(client, sender)] == [14]
    assert [s["unreadReminderDays"] for s in _listed(client, other_sender)] == [60]
    client.delete(f"{URL}/aanslag", headers=other_sender.headers)
    assert [s["unreadReminderDays"] for s in _listed(client, sender)] == [14]


def test_other_methods_are_refused_naming_both_allowed_ones(client, sender):
    response = client.post(f"{URL}/aanslag", json={"unreadReminderDays": 14}, headers=sender.headers)
    assert_problem(response, "method-not-allowed", 405)
    assert response.headers["Allow"] == "PUT, DELETE"


def test_the_routes_are_documented_with_the_default_and_their_problems(client):
    document = client.get("/api/v1/openapi.json").json()
    listing = document["paths"]["/message-types"]["get"]
    one = document["paths"]["/message-types/{messageType}"]
    assert set(listing["responses"]) == {"200", "401", "403", "429", "500"}
    assert set(one["put"]["responses"]) == {"200", "401", "403", "404", "413", "415", "422", "429", "500"}
    assert set(one["delete"]["responses"]) == {"204", "401", "403", "404", "422", "429", "500"}
    for operation in (listing, one["put"], one["delete"]):
        assert "7 days" in operation["description"]
    for operation in (one["put"], one["delete"]):
        assert "delivered after the change" in operation["description"]
    body = one["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    days = document["components"]["schemas"][body.rsplit("/", 1)[-1]]["properties"]["unreadReminderDays"]
    assert (days["type"], days["minimum"], days["maximum"]) == ("integer", 1, 90)
