"""Sensitive changes ask for the password again when the log-in is more than 10 minutes old: adding a
passkey and replacing the authenticator app; the page is throttled, recorded and returns the citizen."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from postvak.app import build_app
from postvak.auth.models import LoginEvent, WebSession
from postvak.auth.rules import PER_USERNAME_FROM_IP, REAUTHENTICATION_WINDOW, hash_token
from postvak.kit import clock
from tests.support.authenticator import SoftAuthenticator
from tests.support.citizens import (
    ORIGIN,
    csrf_token_in,
    log_in_with_password,
    login_with_totp,
    session_cookie,
)

T0 = datetime(2027, 3, 1, 9, 0, 7, tzinfo=UTC)
LATER = REAUTHENTICATION_WINDOW + timedelta(seconds=1)
CONFIRM = "/confirm-password?next="
TO_SECTION = CONFIRM + quote("/settings#second-factors", safe="")
TO_TOTP_PAGE = CONFIRM + quote("/settings/totp", safe="")


@pytest.fixture
def frozen_clock():
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def signed_in(runtime, web_client, citizen, frozen_clock):
    """Logged in through the real forms at T0; the settings page's CSRF token."""
    runtime.settings = runtime.settings.model_copy(update={"base_url": ORIGIN})  # the passkeys' relying party
    assert login_with_totp(web_client, citizen).headers["location"] == "/inbox"
    return csrf_token_in(web_client.get("/settings").text)


def events_of(runtime, citizen) -> list[str]:
    with runtime.database.unit_of_work(write=False) as session:
        query = select(LoginEvent.kind).where(LoginEvent.citizen_id == citizen.id).order_by(LoginEvent.id)
        return list(session.scalars(query))


def confirm_password(web_client, password: str, next_path: str = "/settings#second-factors"):
    page = web_client.get(CONFIRM + quote(next_path, safe=""))
    assert page.status_code == 200
    form = {"csrf_token": csrf_token_in(page.text), "password": password, "next": next_path}
    return web_client.post("/confirm-password", data=form, follow_redirects=False)


# --- right after logging in, no password is asked ----------------------------------------------


def test_right_after_the_log_in_a_passkey_and_an_app_can_be_added(signed_in, web_client, frozen_clock):
    frozen_clock[0] = T0 + REAUTHENTICATION_WINDOW - timedelta(seconds=1)
    options = web_client.post("/settings/passkeys/options", data={"csrf_token": signed_in})
    assert options.status_code == 200 and options.headers["content-type"].startswith("application/json")
    started = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    assert started.headers["location"] == "/settings/totp"


# --- later, every step of a sensitive change asks for the password first -------------------------


@pytest.mark.parametrize(
    ("method", "path", "goes_to"),
    [
        ("POST", "/settings/passkeys/options", TO_SECTION),
        ("POST", "/settings/passkeys", TO_SECTION),
        ("POST", "/settings/totp/new", TO_SECTION),
        ("GET", "/settings/totp", TO_TOTP_PAGE),
        ("POST", "/settings/totp", TO_TOTP_PAGE),
    ],
)
def test_later_a_change_asks_for_the_password(signed_in, web_client, frozen_clock, method, path, goes_to):
    frozen_clock[0] = T0 + LATER
    data = {"csrf_token": signed_in, "name": "Laptop", "credential": "{}", "code": "123456"}
    answer = web_client.request(method, path, data=data if method == "POST" else None, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == goes_to


def test_other_settings_never_ask_for_the_password(signed_in, web_client, frozen_clock):
    frozen_clock[0] = T0 + LATER
    answer = web_client.post(
        "/settings/language", data={"csrf_token": signed_in, "language": "en"}, follow_redirects=False
    )
    assert answer.headers["location"].startswith("/settings?notice=language")


def test_a_forged_form_is_refused_before_the_password_is_asked(signed_in, web_client, frozen_clock):
    frozen_clock[0] = T0 + LATER
    answer = web_client.post("/settings/totp/new", data={"csrf_token": "forged"}, follow_redirects=False)
    assert answer.status_code == 403


def test_the_password_opens_the_window_and_returns(runtime, signed_in, web_client, frozen_clock, citizen):
    frozen_clock[0] = T0 + LATER
    asked = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    page = web_client.get(asked.headers["location"])
    assert page.status_code == 200 and "<h1>Bevestig uw wachtwoord</h1>" in page.text
    assert 'name="next" value="/settings#second-factors"' in page.text
    assert 'autocomplete="current-password"' in page.text and "10 minuten" in page.text

    answer = confirm_password(web_client, "correct horse battery staple 7")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/settings?notice=password-confirmed#second-factors"
    settings = web_client.get("/settings").text
    assert "Uw wachtwoord is bevestigd." not in settings  # the notice comes with the redirect only
    assert "Uw wachtwoord is bevestigd." in web_client.get(answer.headers["location"]).text
    assert "Wachtwoord bevestigd voor een wijziging" in settings  # the log-in history

    started = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    assert started.headers["location"] == "/settings/totp"
    assert events_of(runtime, citizen)[-1] == "reauth-ok"

    frozen_clock[0] += LATER  # the window closes again
    asked = web_client.get("/settings/totp", follow_redirects=False)
    assert asked.headers["location"] == TO_TOTP_PAGE


def test_after_the_password_a_passkey_is_added(signed_in, web_client, frozen_clock, citizen):
    frozen_clock[0] = T0 + LATER
    confirm_password(web_client, citizen.password)
    options = web_client.post("/settings/passkeys/options", data={"csrf_token": signed_in})
    assert options.status_code == 200
    credential = SoftAuthenticator("testserver", ORIGIN).create(options.text)
    form = {"csrf_token": signed_in, "name": "Laptop", "credential": credential}
    added = web_client.post("/settings/passkeys", data=form, follow_redirects=False)
    assert added.headers["location"].startswith("/settings?notice=passkey-added")


def test_a_wrong_password_is_refused_and_recorded(runtime, signed_in, web_client, frozen_clock, citizen):
    frozen_clock[0] = T0 + LATER
    answer = confirm_password(web_client, "not my password at all")
    assert answer.status_code == 401 and "Dat wachtwoord klopt niet." in answer.text
    assert 'aria-invalid="true"' in answer.text and 'role="alert"' in answer.text
    assert events_of(runtime, citizen)[-1] == "reauth-failed"
    assert "Verkeerd wachtwoord voor een wijziging" in web_client.get("/settings").text
    asked = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    assert asked.headers["location"] == TO_SECTION


def test_guessing_is_throttled_like_the_log_in(runtime, signed_in, web_client, frozen_clock, citizen):
    """The log-in's own keys: a stolen session guesses no faster here than at the log-in form."""
    frozen_clock[0] = T0 + LATER
    answers = [confirm_password(web_client, f"guess number {n}").status_code for n in range(6)]
    assert answers == [401] * (PER_USERNAME_FROM_IP.threshold - 1) + [401, 429]
    blocked = confirm_password(web_client, citizen.password)  # even the right one waits
    assert blocked.status_code == 429 and "Te veel pogingen." in blocked.text
    assert "reauth-ok" not in events_of(runtime, citizen)
    web_client.cookies.clear()
    assert log_in_with_password(web_client, citizen.username, citizen.password).status_code == 429

    frozen_clock[0] += PER_USERNAME_FROM_IP.first_block * 4
    assert login_with_totp(web_client, citizen).headers["location"] == "/inbox"


@pytest.mark.parametrize(
    ("asked", "returns_to"),
    [
        ("/settings#second-factors", "/settings?notice=password-confirmed#second-factors"),
        ("/settings/totp", "/settings/totp?notice=password-confirmed"),
        ("https://evil.example/settings", "/settings?notice=password-confirmed"),
        ("//evil.example/settings", "/settings?notice=password-confirmed"),
        ("/\\evil.example", "/settings?notice=password-confirmed"),
        ("/confirm-password?next=/inbox", "/settings?notice=password-confirmed"),
        ("/settings#\"><script>", "/settings?notice=password-confirmed"),
        ("/inbox?box=archive", "/inbox?box=archive&notice=password-confirmed"),
        ("", "/settings?notice=password-confirmed"),
        ("/settings\r\nSet-Cookie: x=1", "/settings?notice=password-confirmed"),
    ],
)
def test_the_way_back_stays_on_this_site(signed_in, web_client, citizen, asked, returns_to):
    answer = confirm_password(web_client, citizen.password, asked)
    assert answer.status_code == 303 and answer.headers["location"] == returns_to


def test_the_page_speaks_english_too(signed_in, web_client):
    web_client.cookies.set("lang", "en", domain="testserver.local", path="/")
    page = web_client.get(TO_SECTION)
    assert '<html lang="en">' in page.text and "<h1>Confirm your password</h1>" in page.text
    assert "for 10 minutes without being asked again" in page.text


def test_a_session_that_never_proved_itself_is_asked(runtime, signed_in, web_client, citizen):
    """Sessions from before this rule (no authenticated_at) are asked on their first sensitive change."""
    with runtime.database.unit_of_work() as session:
        token_hash = hash_token(session_cookie(web_client))
        forget = update(WebSession).where(WebSession.token_hash == token_hash).values(authenticated_at=None)
        session.execute(forget)
    asked = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    assert asked.headers["location"] == TO_SECTION
    assert confirm_password(web_client, citizen.password).status_code == 303
    started = web_client.post("/settings/totp/new", data={"csrf_token": signed_in}, follow_redirects=False)
    assert started.headers["location"] == "/settings/totp"


def test_confirming_in_one_session_opens_no_other(runtime, signed_in, web_client, frozen_clock, citizen):
    with TestClient(build_app(runtime), base_url=ORIGIN, headers={"Origin": ORIGIN}) as other:
        login_with_totp(other, citizen)
        other_csrf = csrf_token_in(other.get("/settings").text)
        frozen_clock[0] = T0 + LATER
        confirm_password(web_client, citizen.password)
        asked = other.post("/settings/totp/new", data={"csrf_token": other_csrf}, follow_redirects=False)
        assert asked.headers["location"] == TO_SECTION


def test_the_page_needs_a_full_session(web_client):
    answer = web_client.get(TO_SECTION, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    answer = web_client.post("/confirm-password", data={"password": "x"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_the_moment_is_stored_on_the_server_session(runtime, signed_in, web_client, frozen_clock):
    frozen_clock[0] = T0 + LATER
    confirm_password(web_client, "correct horse battery staple 7")
    with runtime.database.unit_of_work(write=False) as session:
        row = session.get(WebSession, hash_token(session_cookie(web_client)))
        assert clock.as_utc(row.authenticated_at) == T0 + LATER
    assert not re.search(r"authenticated|sudo", str(web_client.cookies.jar))
