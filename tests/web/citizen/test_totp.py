"""Settings: replacing the authenticator app takes effect only after a code from the new secret."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from postvak.auth.rules import totp_step
from postvak.citizens.rules import MAX_CODE_ATTEMPTS
from postvak.kit import clock
from tests.support.citizens import ORIGIN, csrf_token_in, log_in_with_password, sign_in

T0 = datetime(2027, 3, 1, 9, 0, 7, tzinfo=UTC)
S = totp_step(T0)


@pytest.fixture
def frozen_clock():
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


def new_secret(web_client, csrf: str) -> str:
    answer = web_client.post("/settings/totp/new", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/settings/totp"
    page = web_client.get("/settings/totp").text
    uri = re.search(r"otpauth://totp/[^<\"]+", page).group(0)
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in page and "issuer=Postvak" in uri
    return secret


def confirm(web_client, csrf: str, secret: str, step: int):
    code = pyotp.TOTP(secret).generate_otp(step)
    return web_client.post("/settings/totp", data={"csrf_token": csrf, "code": code}, follow_redirects=False)


def log_in_at_step(app, handle, step: int):
    """A log-in in a browser of its own, with the code of time step `step` (a code is accepted once)."""
    browser = TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    log_in_with_password(browser, handle.username, handle.password)
    form = {
        "code": pyotp.TOTP(handle.totp_secret).generate_otp(step),
        "csrf_token": csrf_token_in(browser.get("/login/second-factor").text),
    }
    return browser.post("/login/second-factor", data=form, follow_redirects=False)


def test_the_new_app_replaces_the_old_one_only_after_its_first_code(
    runtime, web_client, citizen, frozen_clock
):
    csrf = sign_in(web_client, runtime, citizen)
    secret = new_secret(web_client, csrf)
    assert secret != citizen.totp_secret and len(secret) >= 26

    # Until the new app has given a code, the old one keeps working.
    assert log_in_at_step(web_client.app, citizen, S - 1).headers["location"] == "/inbox"
    wrong = confirm(web_client, csrf, citizen.totp_secret, S)  # the OLD app's code does not confirm
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    assert log_in_at_step(web_client.app, citizen, S).headers["location"] == "/inbox"

    answer = confirm(web_client, csrf, secret, S + 1)
    assert answer.status_code == 303 and answer.headers["location"].startswith(
        "/settings?notice=totp-replaced"
    )
    frozen_clock[0] += timedelta(seconds=30)  # S + 2 is now within the window
    assert log_in_at_step(web_client.app, citizen, S + 2).status_code == 401  # the old secret is dead
    new_app = replace(citizen, totp_secret=secret)
    assert log_in_at_step(web_client.app, new_app, S + 1).status_code == 401  # the confirming code is used
    assert log_in_at_step(web_client.app, new_app, S + 2).headers["location"] == "/inbox"
    assert web_client.get("/settings/totp", follow_redirects=False).status_code == 303  # nothing pending


def test_a_new_key_each_time_and_only_the_last_counts(runtime, web_client, citizen, frozen_clock):
    csrf = sign_in(web_client, runtime, citizen)
    first = new_secret(web_client, csrf)
    second = new_secret(web_client, csrf)
    assert first != second
    assert confirm(web_client, csrf, first, S).status_code == 401
    assert confirm(web_client, csrf, second, S).status_code == 303


def test_five_wrong_codes_and_the_key_must_be_made_again(runtime, web_client, citizen, frozen_clock):
    csrf = sign_in(web_client, runtime, citizen)
    secret = new_secret(web_client, csrf)
    valid = {pyotp.TOTP(secret).generate_otp(step) for step in (S - 1, S, S + 1)}
    wrong = next(code for code in ("000000", "111111", "222222") if code not in valid)
    for _ in range(MAX_CODE_ATTEMPTS):
        assert web_client.post("/settings/totp", data={"csrf_token": csrf, "code": wrong}).status_code == 401
    exhausted = confirm(web_client, csrf, secret, S)
    assert exhausted.status_code == 410 and "Begin opnieuw" in exhausted.text
    assert log_in_at_step(web_client.app, citizen, S).headers["location"] == "/inbox"  # old app unchanged


def test_a_new_key_expires(runtime, web_client, citizen, frozen_clock):
    csrf = sign_in(web_client, runtime, citizen)
    secret = new_secret(web_client, csrf)
    for _ in range(3):  # stay signed in while the new key ages
        frozen_clock[0] += timedelta(minutes=11)
        web_client.get("/settings")
    answer = confirm(web_client, csrf, secret, totp_step(frozen_clock[0]))
    assert answer.status_code == 303 and "notice" not in answer.headers["location"]
