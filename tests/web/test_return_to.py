"""A notification's link to a letter, followed while logged out, leads to that letter after log-in."""

from __future__ import annotations

from postvak.web.return_to import RETURN_COOKIE
from tests.support.citizens import login_with_totp
from tests.support.notifying import deliver


def set_return_cookie(web_client, value: str) -> None:
    web_client.cookies.set(RETURN_COOKIE, value, domain="testserver.local", path="/")


def test_the_letter_asked_for_comes_after_the_log_in(runtime, client, web_client, sender, citizen):
    message_id = deliver(client, sender, citizen.bsn, "LINK-1")
    answer = web_client.get(f"/letters/{message_id}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert f'{RETURN_COOKIE}="/letters/{message_id}"' in answer.headers["set-cookie"]
    assert "HttpOnly" in answer.headers["set-cookie"] and "Max-Age=900" in answer.headers["set-cookie"]
    logged_in = login_with_totp(web_client, citizen)
    assert logged_in.status_code == 303 and logged_in.headers["location"] == f"/letters/{message_id}"
    assert f'{RETURN_COOKIE}=""' in logged_in.headers["set-cookie"]  # used once
    assert "Aanslag gemeentelijke belastingen LINK-1" in web_client.get(f"/letters/{message_id}").text


def test_other_pages_and_forged_cookies_lead_to_the_inbox(web_client, citizen):
    assert RETURN_COOKIE not in web_client.get("/inbox", follow_redirects=False).headers.get("set-cookie", "")
    set_return_cookie(web_client, "//evil.example/letters/x")
    assert login_with_totp(web_client, citizen).headers["location"] == "/inbox"
