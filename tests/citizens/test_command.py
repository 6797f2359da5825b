"""`postvak citizens create` as operators use it: a real process, then a real log-in with its output."""

import json
import os
import subprocess
import sys

import pyotp
import pytest

from postvak.auth.rules import totp_step
from postvak.kit import clock
from tests.support.citizens import PASSWORD, csrf_token_in, log_in_with_password


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
        "POSTVAK_ARGON2_TIME_COST": "1",
        "POSTVAK_ARGON2_MEMORY_KIB": "64",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "postvak.cli", *args], env=env, capture_output=True, text=True, timeout=60
        )

    return run


def test_create_prints_json_and_the_account_logs_in(postvak, web_client, bsns):
    done = postvak(
        "citizens", "create", "--bsn", bsns[0], "--email", "Jan@Example.nl", "--password", PASSWORD, "--json"
    )
    assert done.returncode == 0, done.stderr
    assert bsns[0] not in done.stdout + done.stderr
    created = json.loads(done.stdout)
    assert set(created) == {"id", "username", "totpSecret"} and created["username"] == "jan@example.nl"

    answer = log_in_with_password(web_client, "jan@example.nl", PASSWORD)
    assert answer.headers["location"] == "/login/second-factor"
    code = pyotp.TOTP(created["totpSecret"]).generate_otp(totp_step(clock.now()))
    csrf = csrf_token_in(web_client.get("/login/second-factor").text)
    answer = web_client.post(
        "/login/second-factor", data={"code": code, "csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"


def test_a_given_totp_secret_is_used(postvak, bsns):
    secret = pyotp.random_base32()
    done = postvak(
        "citizens",
        "create",
        "--bsn",
        bsns[0],
        "--email",
        "a@example.nl",
        "--password",
        PASSWORD,
        "--totp-secret",
        secret,
        "--json",
    )
    assert json.loads(done.stdout)["totpSecret"] == secret


def test_bad_input_is_refused_without_echoing_the_bsn(postvak, bsns):
    bad = bsns[0][:-1] + str((int(bsns[0][-1]) + 1) % 10)
    done = postvak(
        "citizens", "create", "--bsn", bad, "--email", "a@example.nl", "--password", PASSWORD, "--json"
    )
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "invalid-recipient"
    assert bad not in done.stdout + done.stderr
    done = postvak(
        "citizens", "create", "--bsn", bsns[0], "--email", "a@example.nl", "--password", "short", "--json"
    )
    assert done.returncode == 2 and "at least 12" in json.loads(done.stdout)["detail"]


def test_without_json_it_prints_the_secret_for_a_person(postvak, bsns):
    done = postvak("citizens", "create", "--bsn", bsns[0], "--email", "b@example.nl", "--password", PASSWORD)
    assert done.returncode == 0 and "TOTP secret" in done.stdout and bsns[0] not in done.stdout
