"""First log-in: the inbox stays shut until an e-mail address is verified with a code sent over SMTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from postvak.citizens.models import Citizen, EmailAddress, Mailbox
from postvak.citizens.rules import MAX_CODE_ATTEMPTS
from postvak.kit import clock
from postvak.kit.clock import as_utc
from tests.support.citizens import csrf_token_in, login_with_totp, make_citizen
from tests.support.letters import letter
from tests.support.process import free_port
from tests.support.smtp import smtp_sink, text_of

ADDRESS = "Jan.Jansen@Example.NL"


@pytest.fixture
def sink(runtime):
    with smtp_sink() as sink:
        runtime.settings.smtp_url = sink.url
        yield sink


@pytest.fixture
def newcomer(runtime, bsns):
    return make_citizen(runtime, bsns[0], activated=False)


@pytest.fixture
def on_activation_page(web_client, newcomer):
    answer = login_with_totp(web_client, newcomer)
    assert answer.status_code == 303 and answer.headers["location"] == "/activate"
    return csrf_token_in(web_client.get("/activate").text)


def request_code(web_client, csrf: str, address: str = ADDRESS):
    return web_client.post("/activate", data={"email": address, "csrf_token": csrf}, follow_redirects=False)


def code_from(message) -> str:
    [code] = re.findall(r"\b\d{6}\b", text_of(message))
    return code


def enter_code(web_client, csrf: str, code: str):
    return web_client.post(
        "/activate/verify", data={"code": code, "csrf_token": csrf}, follow_redirects=False
    )


def test_the_inbox_stays_shut_until_an_address_is_verified(
    runtime, web_client, newcomer, sink, on_activation_page
):
    csrf = on_activation_page
    assert web_client.get("/inbox", follow_redirects=False).headers["location"] == "/activate"

    answer = request_code(web_client, csrf)
    assert answer.status_code == 303 and answer.headers["location"] == "/activate/verify"
    [message] = sink.wait_for(1)
    assert message["To"] == "Jan.Jansen@example.nl"
    assert sink.envelopes[0][1] == ["Jan.Jansen@example.nl"]
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(preferencelist=("html",)) is not None
    assert newcomer.bsn not in message.as_string()
    page = web_client.get("/activate/verify")
    assert "J…n@example.nl" in page.text and "Jan.Jansen@example.nl" not in re.sub(
        r'value="[^"]*"', "", page.text
    )

    assert (
        enter_code(web_client, csrf, "000000" if code_from(message) != "000000" else "111111").status_code
        == 401
    )
    answer = enter_code(web_client, csrf, code_from(message))
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert web_client.get("/activate", follow_redirects=False).headers["location"] == "/inbox"

    with runtime.database.unit_of_work(write=False) as session:
        citizen = session.get(Citizen, newcomer.id)
        address = session.scalars(select(EmailAddress).where(EmailAddress.citizen_id == newcomer.id)).all()
        mailbox = session.get(Mailbox, newcomer.mailbox_id)
    assert citizen.activated_at is not None and mailbox.activated_at is not None
    assert [a.address for a in address if a.verified_at] == ["Jan.Jansen@example.nl"]
    assert all(a.code_hash is None for a in address if a.verified_at)


def test_letters_are_unreachable_before_activation_and_delivered_after(
    client, web_client, sender, newcomer, sink, on_activation_page
):
    before = client.post(
        "/api/v1/messages", json=letter(newcomer.bsn, "ACT-1"), headers=sender.headers
    ).json()
    assert before["status"] == "unreachable"
    request_code(web_client, on_activation_page)
    enter_code(web_client, on_activation_page, code_from(sink.wait_for(1)[0]))
    after = client.post("/api/v1/messages", json=letter(newcomer.bsn, "ACT-2"), headers=sender.headers).json()
    assert after["status"] == "delivered"
    waited = client.get(f"/api/v1/messages/{before['id']}", headers=sender.headers).json()
    assert [e["type"] for e in waited["events"]] == ["accepted", "unreachable", "delivered"]


def test_the_code_is_only_stored_hashed(runtime, web_client, newcomer, sink, on_activation_page):
    request_code(web_client, on_activation_page)
    code = code_from(sink.wait_for(1)[0])
    with runtime.database.unit_of_work(write=False) as session:
        row = session.scalars(select(EmailAddress).where(EmailAddress.code_hash.is_not(None))).one()
    assert row.code_hash and code not in row.code_hash


def test_five_wrong_codes_and_the_code_is_void(web_client, sink, on_activation_page):
    csrf = on_activation_page
    request_code(web_client, csrf)
    code = code_from(sink.wait_for(1)[0])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(MAX_CODE_ATTEMPTS):
        assert enter_code(web_client, csrf, wrong).status_code == 401
    exhausted = enter_code(web_client, csrf, code)
    assert exhausted.status_code == 410 and "te vaak" in exhausted.text
    request_code(web_client, csrf)  # a new code starts afresh
    assert enter_code(web_client, csrf, code_from(sink.wait_for(2)[1])).headers["location"] == "/inbox"


def test_a_code_expires_after_15_minutes(web_client, sink, on_activation_page):
    csrf = on_activation_page
    start = clock.now()
    request_code(web_client, csrf)
    code = code_from(sink.wait_for(1)[0])
    moment = [start + timedelta(minutes=10)]
    clock.set_clock(lambda: moment[0])
    try:
        assert web_client.get("/activate/verify").status_code == 200  # the session stays in use
        moment[0] = start + timedelta(minutes=15, seconds=1)
        answer = enter_code(web_client, csrf, code)
    finally:
        clock.set_clock(None)
    assert answer.status_code == 410 and "verlopen" in answer.text


def test_an_address_with_a_header_injection_is_refused(web_client, sink, on_activation_page):
    answer = request_code(web_client, on_activation_page, "jan@example.nl\r\nBcc: victim@example.nl")
    assert answer.status_code == 422
    assert sink.messages == []


def test_an_smtp_server_that_is_down_gives_a_clear_page(runtime, web_client, on_activation_page):
    runtime.settings.smtp_url = f"smtp://127.0.0.1:{free_port()}"
    answer = request_code(web_client, on_activation_page)
    assert answer.status_code == 503 and "lukte ons nu niet" in answer.text


def test_codes_cannot_be_requested_without_end(web_client, sink, on_activation_page):
    answers = [request_code(web_client, on_activation_page).status_code for _ in range(6)]
    assert answers == [303] * 5 + [429]
    assert len(sink.wait_for(5)) == 5


def test_an_activated_account_never_sees_the_activation_pages(runtime, web_client, bsns):
    citizen = make_citizen(runtime, bsns[1])
    assert login_with_totp(web_client, citizen).headers["location"] == "/inbox"
    assert web_client.get("/activate", follow_redirects=False).headers["location"] == "/inbox"


def test_the_mailbox_activation_time_is_when_the_code_was_entered(
    runtime, web_client, newcomer, sink, on_activation_page
):
    request_code(web_client, on_activation_page)
    code = code_from(sink.wait_for(1)[0])
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=3)
    clock.set_clock(lambda: moment)
    try:
        enter_code(web_client, on_activation_page, code)
    finally:
        clock.set_clock(None)
    with runtime.database.unit_of_work(write=False) as session:
        assert as_utc(session.get(Mailbox, newcomer.mailbox_id).activated_at) == moment
