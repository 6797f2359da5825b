"""Brute force: wrong passwords and codes are throttled per account and per address, not the real user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from postvak.app import build_app
from postvak.auth import rules
from postvak.kit import clock
from tests.support.citizens import ORIGIN, csrf_token_in, log_in_with_password, login_with_totp

WRONG = "a wrong password, long enough"


@pytest.fixture
def app(runtime):
    return build_app(runtime)


@pytest.fixture
def frozen_clock():
    moment = [datetime(2027, 3, 1, 9, 0, 7, tzinfo=UTC)]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


def browser(app, ip: str) -> TestClient:
    return TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN}, client=(ip, 50000))


def test_one_address_guessing_one_account_is_blocked_but_the_real_user_gets_in(app, citizen, frozen_clock):
    attacker = browser(app, "203.0.113.66")
    for _ in range(rules.PER_USERNAME_FROM_IP.threshold):
        assert log_in_with_password(attacker, citizen.username, WRONG).status_code == 401
    refused = log_in_with_password(attacker, citizen.username, citizen.password)
    assert refused.status_code == 429 and "Probeer het later opnieuw" in refused.text

    real_user = browser(app, "198.51.100.7")
    assert login_with_totp(real_user, citizen).headers["location"] == "/inbox"
    frozen_clock[0] += timedelta(seconds=59)  # the attacker is still blocked after the real user's success
    assert log_in_with_password(attacker, citizen.username, citizen.password).status_code == 429


def test_one_address_guessing_many_accounts_is_blocked(app, runtime, citizen, frozen_clock):
    attacker = browser(app, "203.0.113.67")
    for n in range(rules.PER_IP.threshold):
        assert log_in_with_password(attacker, f"guess{n}@example.nl", WRONG).status_code == 401
    assert log_in_with_password(attacker, citizen.username, citizen.password).status_code == 429
    frozen_clock[0] += rules.PER_IP.first_block
    assert log_in_with_password(attacker, citizen.username, citizen.password).status_code == 303


def test_a_guess_from_many_addresses_only_pauses_the_account_briefly(app, citizen, frozen_clock):
    for n in range(rules.PER_USERNAME.threshold):
        assert (
            log_in_with_password(browser(app, f"203.0.113.{n}"), citizen.username, WRONG).status_code == 401
        )
    real_user = browser(app, "198.51.100.8")
    paused = log_in_with_password(real_user, citizen.username, citizen.password)
    assert paused.status_code == 429
    frozen_clock[0] += rules.PER_USERNAME.first_block
    assert login_with_totp(real_user, citizen).headers["location"] == "/inbox"


def test_the_throttled_answer_is_the_same_for_unknown_usernames(app, citizen):
    known, unknown = browser(app, "203.0.113.80"), browser(app, "203.0.113.81")
    for _ in range(rules.PER_USERNAME_FROM_IP.threshold):
        log_in_with_password(known, citizen.username, WRONG)
        log_in_with_password(unknown, "nobody@example.nl", WRONG)
    a = log_in_with_password(known, citizen.username, WRONG)
    b = log_in_with_password(unknown, "nobody@example.nl", WRONG)
    assert a.status_code == b.status_code == 429
    assert a.text.replace(known.cookies["__Host-postvak-login"], "") == b.text.replace(
        unknown.cookies["__Host-postvak-login"], ""
    )


def test_wrong_codes_are_throttled_too(app, citizen, frozen_clock):
    attacker = browser(app, "203.0.113.90")
    log_in_with_password(attacker, citizen.username, citizen.password)
    csrf = csrf_token_in(attacker.get("/login/second-factor").text)
    answers = [
        attacker.post("/login/second-factor", data={"code": f"{n:06d}", "csrf_token": csrf}).status_code
        for n in range(rules.PER_USERNAME_FROM_IP.threshold + 1)
    ]
    assert answers[:-1] == [401] * (len(answers) - 1) and answers[-1] == 429

    real_user = browser(app, "198.51.100.9")
    frozen_clock[0] += timedelta(seconds=31)  # a fresh TOTP step
    assert login_with_totp(real_user, citizen).headers["location"] == "/inbox"


def test_success_clears_the_accounts_count(app, citizen, frozen_clock):
    user = browser(app, "198.51.100.10")
    for _ in range(rules.PER_USERNAME_FROM_IP.threshold - 2):
        log_in_with_password(user, citizen.username, WRONG)
    assert login_with_totp(user, citizen).headers["location"] == "/inbox"
    user.cookies.clear()
    for _ in range(rules.PER_USERNAME_FROM_IP.threshold - 1):
        assert log_in_with_password(user, citizen.username, WRONG).status_code == 401
