"""Logging in in a real browser: password + TOTP, first-log-in activation by e-mail, and a passkey."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from postvak.auth.rules import REAUTHENTICATION_WINDOW
from postvak.kit import clock
from tests.e2e.steps import (
    add_passkey,
    confirm_password,
    enter_password,
    enter_totp,
    log_in,
    log_out,
    virtual_authenticator,
)
from tests.support.citizens import make_citizen
from tests.support.smtp import text_of

ADDRESS = "jan.jansen@example.nl"


def test_a_citizen_logs_in_with_password_and_totp(page: Page, citizen):
    enter_password(page, citizen)
    expect(page.locator("input[name=code]")).to_be_visible()
    enter_totp(page, citizen)

    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    [cookie] = [c for c in page.context.cookies() if c["name"].startswith("__Host-postvak-session")]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"


def test_a_wrong_code_keeps_the_door_shut(page: Page, citizen):
    enter_password(page, citizen)
    page.locator("input[name=code]").fill("000000")
    page.locator('form[action="/login/second-factor"] [type=submit]').click()

    expect(page).to_have_url(re.compile(r"/login/second-factor$"))
    expect(page.get_by_role("alert")).to_be_visible()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/login/second-factor$"))


def test_logging_out_ends_the_session(page: Page, citizen):
    log_in(page, citizen)
    log_out(page)
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"/$"))


def test_first_log_in_activates_the_account_with_a_code_sent_by_email(page: Page, runtime, bsns, mail):
    newcomer = make_citizen(runtime, bsns[1], activated=False)
    log_in(page, newcomer, lands_on="/activate")

    page.locator("input[name=email]").fill(ADDRESS)
    page.locator('form[action="/activate"] [type=submit]').first.click()
    expect(page).to_have_url(re.compile(r"/activate/verify$"))
    [message] = mail.wait_for(1)
    assert message["To"] == ADDRESS
    [code] = re.findall(r"\b\d{6}\b", text_of(message))

    page.locator("input[name=code]").fill(code)
    page.locator('form[action="/activate/verify"] [type=submit]').click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.locator("h1")).to_be_visible()


# --- passkeys ------------------------------------------------------------------------------------


def test_a_citizen_registers_a_passkey_and_logs_in_with_it(localhost_page: Page, citizen):
    page = localhost_page
    cdp, authenticator_id = virtual_authenticator(page)
    log_in(page, citizen)
    add_passkey(page, "Laptop")
    expect(page.get_by_text("Laptop", exact=True)).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1, "the authenticator holds no new passkey"

    log_out(page)
    enter_password(page, citizen)
    passkey = page.locator('form[data-passkey="login"]')
    expect(passkey).to_be_visible()
    passkey.locator("[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/inbox$"))
    [used] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert used["signCount"] >= 2, "the passkey was not used to log in"


def test_a_passkey_added_long_after_the_log_in_asks_for_the_password_first(localhost_page: Page, citizen):
    """passkey.js follows the server to the password page, which brings the citizen back."""
    page = localhost_page
    cdp, authenticator_id = virtual_authenticator(page)
    log_in(page, citizen)
    later = clock.now() + REAUTHENTICATION_WINDOW + timedelta(minutes=1)
    clock.set_clock(lambda: later)  # the live server runs in this process

    page.goto("/settings")
    form = page.locator('form[data-passkey="register"]')
    form.locator("input[name=name]").fill("Laptop")
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"] == []
    confirm_password(page, citizen)
    expect(page).to_have_url(re.compile(r"/settings\?notice=password-confirmed#second-factors$"))
    expect(page.get_by_role("status").first).to_be_visible()

    add_passkey(page, "Laptop")
    expect(page.get_by_text("Laptop", exact=True)).to_be_visible()
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]) == 1
