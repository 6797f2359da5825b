"""The demo seeds citizens who can log in, organisations with working keys, and letters in their inboxes."""

import re

import pyotp

from postvak.auth.rules import totp_step
from postvak.cli.demo import CITIZENS, SMS_NUMBER, demo_bsns, seed_demo
from postvak.kit import clock
from postvak.notifications.sms import ConsoleSms
from tests.support.citizens import csrf_token_in, log_in_with_password
from tests.support.notifying import notifying

LOG_IN = re.compile(r"^\s+(\S+@\S+)\s+password (\S+)\s+TOTP secret ([A-Z2-7]+)$")


def test_demo_seeds_organisations_and_letters(runtime, client):
    lines = seed_demo(runtime)
    keys = [line.split("API key ")[1].split()[0] for line in lines if "API key " in line]
    assert len(keys) == 3
    for key in keys:
        feed = client.get("/api/v1/events?limit=1000", headers={"Authorization": f"Bearer {key}"}).json()
        assert len({e["messageId"] for e in feed["events"]}) == 5
        kinds = [e["type"] for e in feed["events"]]
        # The citizens exist before the letters: theirs are delivered, the other mailboxes' unreachable.
        assert kinds.count("delivered") == len(CITIZENS) and kinds.count("unreachable") == 5 - len(CITIZENS)
    assert all(b.startswith("9999") for b in demo_bsns(5))
    assert not any(b in "\n".join(lines) for b in demo_bsns(5))


def test_the_printed_citizen_log_ins_work(runtime, web_client):
    """A real form log-in with each printed username, password and TOTP secret, into a full inbox."""
    log_ins = [found.groups() for line in seed_demo(runtime) if (found := LOG_IN.match(line))]
    assert [username for username, _, _ in log_ins] == CITIZENS
    for username, password, secret in log_ins:
        web_client.cookies.clear()
        answer = log_in_with_password(web_client, username, password)
        assert answer.status_code == 303 and answer.headers["location"] == "/login/second-factor"
        page = web_client.get("/login/second-factor")
        code = pyotp.TOTP(secret).generate_otp(totp_step(clock.now()))
        answer = web_client.post(
            "/login/second-factor",
            data={"code": code, "csrf_token": csrf_token_in(page.text)},
            follow_redirects=False,
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/inbox", username
        inbox = web_client.get("/inbox")
        assert inbox.status_code == 200
        for subject in ("Voorlopige aanslag inkomstenbelasting 2027", "Werkzaamheden aan de dijk"):
            assert subject in inbox.text, (username, subject)


def test_the_demo_citizens_are_told_by_email_and_one_also_by_sms(runtime):
    seed_demo(runtime)
    runtime.sms = ConsoleSms()
    with notifying(runtime) as (sink, worker):
        worker.drain()
        mails = sink.wait_for(3 * len(CITIZENS))
    assert {to for _, rcpts in sink.envelopes for to in rcpts} == set(CITIZENS)
    assert len(mails) == 3 * len(CITIZENS)
    assert [number for number, _, _ in runtime.sms.sent] == [SMS_NUMBER] * 3
