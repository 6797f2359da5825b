"""Logging in at / with password and TOTP: the session cookie, its lifetime, log-out, reuse, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi import Depends
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from sqlalchemy import select

from postvak.app import build_app
from postvak.auth.models import LoginEvent, WebSession
from postvak.auth.rules import hash_token, totp_step
from postvak.kit import clock
from postvak.web.citizen.session import SESSION_COOKIE, CitizenSession, require_citizen
from tests.support.citizens import (
    ORIGIN,
    csrf_token_in,
    log_in_with_password,
    login_with_totp,
    session_cookie,
    set_session_cookie,
    sign_in,
    totp_code,
)

T0 = datetime(2027, 3, 1, 9, 0, 7, tzinfo=UTC)


@pytest.fixture
def probe(runtime):
    """The app with one extra page behind require_citizen, answering who is signed in."""
    app = build_app(runtime)

    @app.get("/_probe")
    def who(citizen: CitizenSession = Depends(require_citizen)):  # noqa: B008
        return PlainTextResponse(str(citizen.citizen_id))

    with TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}) as client:
        yield client


@pytest.fixture
def frozen_clock():
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


def test_password_then_totp_opens_the_inbox(probe, citizen):
    answer = login_with_totp(probe, citizen)
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert probe.get("/_probe").text == str(citizen.id)
    assert probe.get("/", follow_redirects=False).headers["location"] == "/inbox"


def test_the_session_cookie_is_host_only_secure_httponly_lax(web_client, citizen):
    answer = log_in_with_password(web_client, citizen.username, citizen.password)
    [cookie] = [c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert cookie.startswith("__Host-")
    assert {"secure", "httponly", "path", "samesite"} <= set(attributes)
    assert attributes["path"] == "Path=/" and attributes["samesite"].lower() == "samesite=lax"
    assert "domain" not in attributes  # __Host-: this host only
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 256 bits, base64url


def test_only_the_hash_of_the_token_is_stored(runtime, web_client, citizen):
    login_with_totp(web_client, citizen)
    token = session_cookie(web_client)
    with runtime.database.unit_of_work(write=False) as session:
        hashes = set(session.scalars(select(WebSession.token_hash)))
    assert hash_token(token) in hashes and token not in hashes


def test_the_session_id_changes_at_each_log_in_step(probe, citizen):
    sign_in(probe, probe.app.state.runtime, citizen, stage="password")  # a log-in begun earlier
    before = session_cookie(probe)
    answer = log_in_with_password(probe, citizen.username, citizen.password)
    after_password = session_cookie(probe)
    assert answer.status_code == 303 and after_password != before
    page = probe.get("/login/second-factor")
    probe.post(
        "/login/second-factor", data={"code": totp_code(citizen), "csrf_token": csrf_token_in(page.text)}
    )
    after_code = session_cookie(probe)
    assert after_code not in (before, after_password)
    assert probe.get("/_probe").status_code == 200
    for stale in (before, after_password):  # the old ids are dead on the server, not just replaced
        set_session_cookie(probe, stale)
        assert probe.get("/_probe", follow_redirects=False).headers["location"] == "/"


def test_idle_timeout_is_15_minutes(probe, citizen, frozen_clock):
    sign_in(probe, probe.app.state.runtime, citizen)
    for _ in range(3):  # active every 14 minutes: stays signed in
        frozen_clock[0] += timedelta(minutes=14)
        assert probe.get("/_probe").status_code == 200
    frozen_clock[0] += timedelta(minutes=15)
    answer = probe.get("/_probe", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_absolute_timeout_is_8_hours(probe, citizen, frozen_clock):
    sign_in(probe, probe.app.state.runtime, citizen)
    for _ in range(8 * 6 - 1):  # busy all day, every 10 minutes
        frozen_clock[0] += timedelta(minutes=10)
        assert probe.get("/_probe").status_code == 200
    frozen_clock[0] += timedelta(minutes=10)
    assert probe.get("/_probe", follow_redirects=False).headers["location"] == "/"


def test_logout_ends_the_session_on_the_server(runtime, probe, citizen):
    login_with_totp(probe, citizen)
    token = session_cookie(probe)
    with runtime.database.unit_of_work(write=False) as session:
        csrf = session.get(WebSession, hash_token(token)).csrf_token
    answer = probe.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert session_cookie(probe) is None
    replay = TestClient(probe.app, base_url=ORIGIN, cookies={SESSION_COOKIE: token})
    answer = replay.get("/_probe", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_unknown_and_known_usernames_get_the_same_answer(web_client, citizen):
    known = log_in_with_password(web_client, citizen.username, "wrong but long enough")
    unknown = log_in_with_password(web_client, "nobody@example.nl", "wrong but long enough")
    assert known.status_code == unknown.status_code == 401
    assert known.text == unknown.text
    assert citizen.username not in known.text


def test_a_totp_code_is_accepted_only_once(web_client, citizen, frozen_clock):
    """Also when someone who saw the code over the citizen's shoulder uses it in another browser."""
    code = pyotp.TOTP(citizen.totp_secret).generate_otp(totp_step(T0))
    other_browser = TestClient(web_client.app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    for browser, expected in ((web_client, 303), (other_browser, 401)):
        log_in_with_password(browser, citizen.username, citizen.password)
        page = browser.get("/login/second-factor")
        answer = browser.post(
            "/login/second-factor",
            data={"code": code, "csrf_token": csrf_token_in(page.text)},
            follow_redirects=False,
        )
        assert answer.status_code == expected
    assert "al gebruikt" in answer.text  # Dutch is the default language


def test_codes_one_step_either_side_are_accepted_but_not_older(web_client, citizen, frozen_clock):
    totp = pyotp.TOTP(citizen.totp_secret)
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    stale = totp.generate_otp(totp_step(T0) - 2)
    assert (
        web_client.post("/login/second-factor", data={"code": stale, "csrf_token": csrf}).status_code == 401
    )
    previous = totp.generate_otp(totp_step(T0) - 1)
    answer = web_client.post(
        "/login/second-factor", data={"code": previous, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303


def test_the_second_factor_must_follow_within_10_minutes(web_client, citizen, frozen_clock):
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    frozen_clock[0] += timedelta(minutes=10)
    code = pyotp.TOTP(citizen.totp_secret).generate_otp(totp_step(frozen_clock[0]))
    answer = web_client.post(
        "/login/second-factor", data={"code": code, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_every_step_is_in_the_log_in_history_without_secrets(runtime, web_client, citizen):
    log_in_with_password(web_client, citizen.username, "not the password at all")
    log_in_with_password(web_client, citizen.username, citizen.password)
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    web_client.post("/login/second-factor", data={"code": "000000", "csrf_token": csrf})
    login_with_totp(web_client, citizen)
    with runtime.database.unit_of_work(write=False) as session:
        csrf = session.get(WebSession, hash_token(session_cookie(web_client))).csrf_token
    web_client.post("/logout", data={"csrf_token": csrf})
    with runtime.database.unit_of_work(write=False) as session:
        events = list(session.scalars(select(LoginEvent).order_by(LoginEvent.id)))
    kinds = [e.kind for e in events]
    assert kinds == ["password-failed", "password-ok", "code-failed", "password-ok", "code-ok", "logout"]
    stored = " ".join(f"{e.kind} {e.ip} {e.user_agent}" for e in events)
    assert citizen.password not in stored and citizen.bsn not in stored
    assert all(e.citizen_id == citizen.id for e in events)


def test_a_password_only_session_sees_the_second_factor_page_not_the_inbox(probe, citizen):
    log_in_with_password(probe, citizen.username, citizen.password)
    assert 'name="code"' in probe.get("/login/second-factor").text
    assert probe.get("/_probe", follow_redirects=False).headers["location"] == "/login/second-factor"


def test_an_oversized_password_is_simply_wrong(web_client, citizen):
    answer = log_in_with_password(web_client, citizen.username, citizen.password + "x" * 5000)
    assert answer.status_code == 401
