"""The settings page: language, where the citizen is logged in, log-in history, CSRF, Dutch texts."""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_file
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from postvak.auth import rules as auth_rules
from postvak.auth import service as auth
from postvak.auth.models import LoginEvent
from postvak.citizens import rules as citizen_rules
from postvak.citizens.models import Citizen
from postvak.web import i18n
from postvak.web.citizen import settings_rendering
from postvak.web.citizen.session import SESSION_COOKIE
from tests.support.citizens import (
    ORIGIN,
    csrf_token_in,
    log_in_with_password,
    login_with_totp,
    session_cookie,
    sign_in,
)

TEMPLATES = (
    *("settings.html", "_settings.html", "settings_code.html", "settings_totp.html", "confirm_password.html"),
    "passkey_login.html",
)
SAME_IN_DUTCH = ("Passkeys", "Account")
# Every sentence of the rules and pages that the settings page may show beside a form.
PROBLEMS = (
    citizen_rules.NOT_AN_EMAIL,
    citizen_rules.email_removal_problem(verified=True, verified_count=1),
    citizen_rules.email_limit_problem(citizen_rules.MAX_EMAIL_ADDRESSES),
    citizen_rules.phone_problem("12"),
    citizen_rules.phone_problem("+31301234567"),
    auth_rules.passkey_name_problem("", []),
    auth_rules.passkey_name_problem("x" * 61, []),
    auth_rules.passkey_name_problem("a\x07", []),
    auth_rules.passkey_name_problem("a", ["A"]),
    auth_rules.passkey_limit_problem(auth_rules.MAX_PASSKEYS),
    auth_rules.factor_removal_problem(has_totp=True, passkeys=0, removing="totp"),
    "This e-mail address is already on your account.",
    "This number is verified already.",
    "Add and verify a mobile number first.",
    *settings_rendering.PAGE_PROBLEMS,
)


def test_the_settings_page_shows_the_account(runtime, web_client, citizen):
    login_with_totp(web_client, citizen)
    page = web_client.get("/settings")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert '<html lang="nl">' in page.text and "<h1>Instellingen</h1>" in page.text
    for section in ("email", "phone", "second-factors", "language", "sessions", "history"):
        assert f'id="{section}"' in page.text, section
    assert citizen.username in page.text and "Bevestigd" in page.text
    assert 'aria-current="page"' in page.text.split('href="/settings"')[1].split(">")[0]


def test_settings_need_both_factors(runtime, web_client, citizen):
    assert web_client.get("/settings", follow_redirects=False).headers["location"] == "/"
    sign_in(web_client, runtime, citizen, stage="password")
    assert web_client.get("/settings", follow_redirects=False).headers["location"] == "/login/second-factor"


def test_the_language_is_saved_on_the_account(runtime, web_client, citizen):
    csrf = sign_in(web_client, runtime, citizen)
    answer = web_client.post(
        "/settings/language", data={"csrf_token": csrf, "language": "en"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/settings?notice=language")
    page = web_client.get(answer.headers["location"])
    assert '<html lang="en">' in page.text and "<h1>Settings</h1>" in page.text
    assert "Your language is saved." in page.text and "E-mail addresses" in page.text
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Citizen, citizen.id).language == "en"
    other_device = TestClient(web_client.app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    sign_in(other_device, runtime, citizen)
    assert '<html lang="en">' in other_device.get("/settings").text  # the account's choice, everywhere

    web_client.post("/settings/language", data={"csrf_token": csrf, "language": "nl"})
    assert '<html lang="nl">' in web_client.get("/settings").text  # this device's earlier choice is replaced
    refused = web_client.post("/settings/language", data={"csrf_token": csrf, "language": "fr"})
    assert refused.status_code == 422 and "Kies Nederlands of English." in refused.text


def test_the_page_lists_where_the_citizen_is_logged_in(runtime, web_client, citizen):
    phone = TestClient(web_client.app, base_url=ORIGIN, headers={"Origin": ORIGIN, "User-Agent": ANDROID})
    login_with_totp(phone, citizen)
    laptop = TestClient(web_client.app, base_url=ORIGIN, headers={"Origin": ORIGIN, "User-Agent": FIREFOX})
    login_with_totp(laptop, citizen)
    page = laptop.get("/settings").text
    sessions = page.split('id="sessions"')[1].split("</section>")[0]
    assert "Firefox op Windows" in sessions and "Chrome op Android" in sessions
    assert sessions.count("Dit apparaat") == 1
    assert sessions.index("Firefox op Windows") < sessions.index("Dit apparaat") < sessions.index("Chrome")


def test_log_out_everywhere_ends_every_session(runtime, web_client, citizen):
    other_device = TestClient(web_client.app, base_url=ORIGIN, headers={"Origin": ORIGIN})
    login_with_totp(other_device, citizen)
    login_with_totp(web_client, citizen)
    mine = session_cookie(web_client)
    csrf = csrf_token_in(web_client.get("/settings").text)
    answer = web_client.post("/settings/sessions/end-all", data={"csrf_token": csrf}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert session_cookie(web_client) is None
    for device in (other_device, TestClient(web_client.app, base_url=ORIGIN, cookies={SESSION_COOKIE: mine})):
        answer = device.get("/settings", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
    with runtime.database.unit_of_work(write=False) as session:
        last = session.scalars(select(LoginEvent.kind).order_by(LoginEvent.id.desc())).first()
    assert last == "logout-everywhere"


def test_the_history_shows_log_in_events_newest_first(runtime, web_client, citizen):
    log_in_with_password(web_client, citizen.username, "not the password at all")
    login_with_totp(web_client, citizen)
    history = web_client.get("/settings").text.split('id="history"')[1].split("</section>")[0]
    rows = re.findall(r"<tr[^>]*>\s*<td[^>]*><time[^>]*>[^<]*</time></td>\s*<td[^>]*>([^<]+)</td>", history)
    assert rows == ["Ingelogd met een code uit de app", "Wachtwoord ingevuld", "Verkeerd wachtwoord"]
    assert "history__row--failed" in history and "testclient" in history


def test_the_history_shows_the_last_50(runtime, web_client, citizen):
    with runtime.database.unit_of_work() as session:
        for n in range(60):
            auth.log_login_event(
                session,
                citizen_id=citizen.id,
                kind="code-failed" if n else "logout",
                ip=None,
                user_agent=None,
            )
    sign_in(web_client, runtime, citizen)
    history = web_client.get("/settings").text.split('id="history"')[1].split("</section>")[0]
    assert history.count("<time ") == 50 and "Uitgelogd" not in history  # the oldest is left out


def test_every_settings_form_needs_its_csrf_token(runtime, web_client, citizen):
    """From the route table, so that a form added later is checked too."""
    csrf = sign_in(web_client, runtime, citizen)
    posts = [
        route.path.replace("{address_id}", "x").replace("{passkey_id}", "x")
        for route in iter_route_contexts(web_client.app.routes)
        if route.methods and "POST" in route.methods and route.path.startswith("/settings")
    ]
    assert len(posts) >= 12 and "/settings/passkeys" in posts and "/settings/language" in posts
    for path in posts:
        assert web_client.post(path, data={"language": "en"}).status_code == 403, path
        cross_site = web_client.post(
            path, data={"csrf_token": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 403, path
    with runtime.database.unit_of_work(write=False) as session:
        assert session.get(Citizen, citizen.id).language == "nl"


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_text_of_the_settings_pages_has_a_dutch_translation(template):
    dutch = i18n.CATALOGUES["nl"]
    found = extract_from_file("jinja2", i18n.TEMPLATES / template, options={"extensions": "jinja2.ext.i18n"})
    for _line, message, _comments, _context in found:
        assert dutch.gettext(message) != message or message in SAME_IN_DUTCH, message


def test_the_problems_beside_the_forms_are_translated():
    for problem in PROBLEMS:
        assert problem and i18n.translate("nl", problem) != problem, problem
        assert i18n.translate("en", problem) == problem


ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
