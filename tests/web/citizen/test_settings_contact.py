"""Settings: e-mail addresses verified by an e-mailed code, a mobile number verified by SMS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postvak.citizens.models import Citizen, EmailAddress
from postvak.citizens.rules import MAX_CODE_ATTEMPTS
from postvak.kit import clock
from postvak.notifications.sms import ConsoleSms
from tests.support.citizens import make_citizen, sign_in
from tests.support.smtp import smtp_sink, text_of

NEW_ADDRESS = "Jan.Werk@Example.NL"


@pytest.fixture
def sink(runtime):
    with smtp_sink() as sink:
        runtime.settings = runtime.settings.model_copy(update={"smtp_url": sink.url})
        yield sink


def addresses(runtime, citizen) -> dict[str, bool]:
    """Address → verified."""
    with runtime.database.unit_of_work(write=False) as session:
        rows = session.scalars(select(EmailAddress).where(EmailAddress.citizen_id == citizen.id))
        return {row.address: row.verified_at is not None for row in rows}


def address_id(runtime, citizen, address: str) -> str:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(EmailAddress.id).where(
            EmailAddress.citizen_id == citizen.id, EmailAddress.address == address
        )
        return str(session.scalar(query))


def only_code(text: str) -> str:
    [code] = re.findall(r"\b\d{6}\b", text)
    return code


# --- e-mail addresses ------------------------------------------------------------------------


def test_an_address_is_added_once_its_code_is_entered(runtime, web_client, citizen, csrf, sink):
    answer = web_client.post(
        "/settings/emails", data={"csrf_token": csrf, "email": NEW_ADDRESS}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/settings/emails/verify"
    [message] = sink.wait_for(1)
    assert message["To"] == "Jan.Werk@example.nl"
    page = web_client.get("/settings/emails/verify")
    assert "naar J…k@example.nl." in page.text  # masked where it is shown
    assert addresses(runtime, citizen)["Jan.Werk@example.nl"] is False
    assert "Wacht op de code" in web_client.get("/settings").text

    code = only_code(text_of(message))
    wrong = "000000" if code != "000000" else "111111"
    refused = web_client.post("/settings/emails/verify", data={"csrf_token": csrf, "code": wrong})
    assert refused.status_code == 401 and 'role="alert"' in refused.text
    answer = web_client.post(
        "/settings/emails/verify", data={"csrf_token": csrf, "code": code}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/settings?notice=email-verified")
    assert addresses(runtime, citizen) == {citizen.username: True, "Jan.Werk@example.nl": True}


def test_the_last_verified_address_cannot_be_removed(runtime, web_client, citizen, csrf, sink):
    original = address_id(runtime, citizen, citizen.username)
    refused = web_client.post(f"/settings/emails/{original}/delete", data={"csrf_token": csrf})
    assert refused.status_code == 409 and "minstens één bevestigd e-mailadres" in refused.text
    assert f"/settings/emails/{original}/delete" not in refused.text  # not even offered

    web_client.post("/settings/emails", data={"csrf_token": csrf, "email": NEW_ADDRESS})
    code = only_code(text_of(sink.wait_for(1)[0]))
    web_client.post("/settings/emails/verify", data={"csrf_token": csrf, "code": code})
    answer = web_client.post(
        f"/settings/emails/{original}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/settings?notice=email-removed")
    assert addresses(runtime, citizen) == {"Jan.Werk@example.nl": True}
    added = address_id(runtime, citizen, "Jan.Werk@example.nl")
    assert web_client.post(f"/settings/emails/{added}/delete", data={"csrf_token": csrf}).status_code == 409
    assert addresses(runtime, citizen) == {"Jan.Werk@example.nl": True}


def test_an_unverified_address_can_always_be_removed(runtime, web_client, citizen, csrf, sink):
    web_client.post("/settings/emails", data={"csrf_token": csrf, "email": NEW_ADDRESS})
    pending = address_id(runtime, citizen, "Jan.Werk@example.nl")
    answer = web_client.post(f"/settings/emails/{pending}/delete", data={"csrf_token": csrf})
    assert answer.status_code == 200 and addresses(runtime, citizen) == {citizen.username: True}
    assert web_client.get("/settings/emails/verify", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "address, message",
    [
        ("not an address", "Dat lijkt geen e-mailadres"),
        ("jan@localhost", "Dat lijkt geen e-mailadres"),
        (None, "staat al bij uw account"),
    ],
)
def test_a_wrong_or_known_address_is_refused_beside_the_form(
    web_client, citizen, csrf, sink, address, message
):
    address = address or citizen.username.upper()
    answer = web_client.post("/settings/emails", data={"csrf_token": csrf, "email": address})
    assert answer.status_code == 422 and message in answer.text
    assert (
        'id="email-error"' in answer.text and 'aria-describedby="new-email-hint email-error"' in answer.text
    )
    assert sink.messages == []


def test_someone_elses_address_is_not_found(runtime, web_client, citizen, csrf, bsns):
    stranger = make_citizen(runtime, bsns[1])
    theirs = address_id(runtime, stranger, stranger.username)
    assert web_client.post(f"/settings/emails/{theirs}/delete", data={"csrf_token": csrf}).status_code == 404
    assert web_client.post("/settings/emails/not-an-id/delete", data={"csrf_token": csrf}).status_code == 404
    assert addresses(runtime, stranger) == {stranger.username: True}


def test_codes_are_throttled_per_account(web_client, citizen, csrf, sink):
    """Asking again (the page's "send a new code") counts too: five e-mails, then a pause."""
    form = {"csrf_token": csrf, "email": NEW_ADDRESS}
    statuses = [
        web_client.post("/settings/emails", data=form, follow_redirects=False).status_code for _ in range(6)
    ]
    assert statuses == [303] * 5 + [429]
    assert len(sink.wait_for(5)) == 5


def test_at_most_five_addresses(web_client, citizen, csrf, sink):
    statuses = [
        web_client.post(
            "/settings/emails", data={"csrf_token": csrf, "email": f"n{n}@example.nl"}
        ).status_code
        for n in range(5)
    ]
    assert statuses[:4] == [200] * 4 and statuses[4] == 422


# --- a mobile number for SMS -----------------------------------------------------------------


def phone_of(runtime, citizen) -> tuple[str | None, bool, bool]:
    with runtime.database.unit_of_work(write=False) as session:
        row = session.get(Citizen, citizen.id)
        return row.phone, row.phone_verified_at is not None, row.sms_notifications


def test_a_mobile_number_is_verified_with_a_code_by_sms(runtime, web_client, citizen, csrf):
    assert isinstance(runtime.sms, ConsoleSms)
    answer = web_client.post(
        "/settings/phone", data={"csrf_token": csrf, "phone": "06-1234 5678"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/settings/phone/verify"
    [(to, text, _reference)] = runtime.sms.sent
    assert to == "+31612345678" and "Postvak" in text and "http" not in text
    assert phone_of(runtime, citizen) == (None, False, False)  # not before the code
    assert "+31 6 1234 5678" in web_client.get("/settings/phone/verify").text

    code = only_code(text)
    wrong = web_client.post("/settings/phone/verify", data={"csrf_token": csrf, "code": "12345"})
    assert wrong.status_code == 401
    answer = web_client.post(
        "/settings/phone/verify", data={"csrf_token": csrf, "code": code}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/settings?notice=phone-verified")
    assert phone_of(runtime, citizen) == ("+31612345678", True, False)
    assert "+31 6 1234 5678" in web_client.get("/settings").text


def test_sms_notifications_need_a_verified_number(runtime, web_client, citizen, csrf):
    refused = web_client.post("/settings/sms-notifications", data={"csrf_token": csrf, "sms": "on"})
    assert refused.status_code == 409 and 'id="sms-error"' in refused.text
    assert phone_of(runtime, citizen)[2] is False
    web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "+31 6 12345678"})
    code = only_code(runtime.sms.sent[-1][1])
    web_client.post("/settings/phone/verify", data={"csrf_token": csrf, "code": code})

    answer = web_client.post(
        "/settings/sms-notifications", data={"csrf_token": csrf, "sms": "on"}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/settings?notice=sms-on")
    assert phone_of(runtime, citizen) == ("+31612345678", True, True)
    web_client.post("/settings/sms-notifications", data={"csrf_token": csrf})
    assert phone_of(runtime, citizen)[2] is False

    web_client.post("/settings/sms-notifications", data={"csrf_token": csrf, "sms": "on"})
    web_client.post("/settings/phone/delete", data={"csrf_token": csrf})
    assert phone_of(runtime, citizen) == (None, False, False)


def test_a_new_number_replaces_the_old_one_only_when_verified(runtime, web_client, citizen, csrf):
    web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "0612345678"})
    web_client.post(
        "/settings/phone/verify", data={"csrf_token": csrf, "code": only_code(runtime.sms.sent[-1][1])}
    )
    web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "0687654321"})
    assert phone_of(runtime, citizen) == ("+31612345678", True, False)
    web_client.post(
        "/settings/phone/verify", data={"csrf_token": csrf, "code": only_code(runtime.sms.sent[-1][1])}
    )
    assert phone_of(runtime, citizen) == ("+31687654321", True, False)
    again = web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "06 87654321"})
    assert again.status_code == 422 and "al bevestigd" in again.text


@pytest.mark.parametrize(
    "number, message",
    [("12345", "10 cijfers"), ("030 123 4567", "mobiel nummer"), ("+31 6 1234", "10 cijfers")],
)
def test_a_number_that_cannot_get_text_messages_is_refused(runtime, web_client, csrf, number, message):
    answer = web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": number})
    assert answer.status_code == 422 and message in answer.text and 'id="phone-error"' in answer.text
    assert runtime.sms.sent == []


def test_a_phone_code_expires_and_has_five_tries(runtime, web_client, citizen):
    moment = [datetime(2027, 3, 1, 9, 0, tzinfo=UTC)]
    clock.set_clock(lambda: moment[0])
    csrf = sign_in(web_client, runtime, citizen)
    web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "0612345678"})
    code = only_code(runtime.sms.sent[-1][1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_CODE_ATTEMPTS):
        web_client.post("/settings/phone/verify", data={"csrf_token": csrf, "code": wrong})
    exhausted = web_client.post("/settings/phone/verify", data={"csrf_token": csrf, "code": code})
    assert exhausted.status_code == 410 and phone_of(runtime, citizen)[1] is False

    web_client.post("/settings/phone", data={"csrf_token": csrf, "phone": "0612345678"})
    code = only_code(runtime.sms.sent[-1][1])
    moment[0] += timedelta(minutes=16)
    csrf = sign_in(web_client, runtime, citizen)  # the old session idled out meanwhile
    expired = web_client.post("/settings/phone/verify", data={"csrf_token": csrf, "code": code})
    assert expired.status_code == 410 and phone_of(runtime, citizen)[1] is False
