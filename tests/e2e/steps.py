"""What the browser tests do again and again: letters sent through the live API, the log-in forms, shots.

Forms are found by their action and input names (API.md), never by their text, so the same
steps work in Dutch and in English.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import CDPSession, Locator, Page, expect

from tests.support.citizens import CitizenHandle, totp_code
from tests.support.letters import SenderHandle, letter

SHOTS = Path("/tmp/postvak-shots")
SIZES = {"desktop": (1280, 800), "phone": (360, 740)}


# --- the sender's side, through the real API on the live server -------------------------------


def send_letter(base_url: str, sender: SenderHandle, bsn: str, reference: str, **fields: Any) -> str:
    """POST /api/v1/messages; returns the new message's id."""
    answer = httpx.post(
        f"{base_url}/api/v1/messages",
        json=letter(bsn, reference, **fields),
        headers=sender.headers,
        timeout=30,
    )
    assert answer.status_code == 201, answer.text  # a problem document, which never names the BSN
    return answer.json()["id"]


def pdf_attachment(file_name: str, pdf: bytes) -> dict[str, str]:
    return {"fileName": file_name, "mediaType": "application/pdf", "content": base64.b64encode(pdf).decode()}


def event_types(base_url: str, sender: SenderHandle, message_id: str) -> list[str]:
    """The status events the sender sees for one message (GET /api/v1/messages/{id})."""
    answer = httpx.get(f"{base_url}/api/v1/messages/{message_id}", headers=sender.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return [event["type"] for event in answer.json()["events"]]


# --- the citizen's side, in the browser --------------------------------------------------------


def enter_password(page: Page, handle: CitizenHandle) -> None:
    """The first step of logging in; ends on the second-factor page."""
    page.goto("/")
    page.locator("input[name=username]").fill(handle.username)
    page.locator("input[name=password]").fill(handle.password)
    page.locator('form[action="/"] [type=submit]').click()
    expect(page).to_have_url(re.compile(r"/login/second-factor$"))


def enter_totp(page: Page, handle: CitizenHandle) -> None:
    page.locator("input[name=code]").fill(totp_code(handle))
    page.locator('form[action="/login/second-factor"] [type=submit]').click()


def log_in(page: Page, handle: CitizenHandle, *, lands_on: str = "/inbox") -> None:
    """Password and TOTP code through the real forms."""
    enter_password(page, handle)
    enter_totp(page, handle)
    expect(page).to_have_url(re.compile(re.escape(lands_on) + "$"))


def log_out(page: Page) -> None:
    page.locator('form[action="/logout"] [type=submit]').first.click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("input[name=username]")).to_be_visible()


def follow(locator: Locator) -> None:
    """Click a link or a submit button and wait until the page it leads to has loaded."""
    with locator.page.expect_navigation():
        locator.click()


def letter_link(page: Page, subject: str):
    """The inbox lists each letter as a link whose text is its subject (API.md)."""
    return page.get_by_role("link", name=subject, exact=True)


def letter_action(page: Page, action: str):
    """A button of the letter page's own form (archive, bin, restore, ...), found by its value."""
    return page.locator(f'form[action="/letters/actions"] button[name=action][value="{action}"]')


def add_passkey(page: Page, name: str) -> None:
    """Settings, "add a passkey": passkey.js runs the ceremony with the browser's authenticator and
    posts its answer; ends back on the settings page."""
    answer = page.goto("/settings")
    assert answer is not None and answer.status == 200, f"/settings answers {answer and answer.status}"
    form = page.locator('form[data-passkey="register"]')
    form.locator("input[name=name]").fill(name)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/settings"))


def confirm_password(page: Page, handle: CitizenHandle) -> None:
    """The page that asks for the password again before a sensitive change; ends where it returns to."""
    expect(page).to_have_url(re.compile(r"/confirm-password(\?next=[^&]*)?$"))
    page.locator("input[name=password]").fill(handle.password)
    with page.expect_navigation():
        page.locator('form[action="/confirm-password"] [type=submit]').click()


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """Chromium's virtual authenticator (DevTools protocol): a platform passkey that verifies the user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    return cdp, cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def in_english(page: Page, base_url: str) -> None:
    """What the language switch leaves behind: the `lang` cookie (i18n.LANGUAGE_COOKIE)."""
    page.context.add_cookies([{"name": "lang", "value": "en", "url": base_url}])


# --- screenshots for the visual review (outside the repository) -------------------------------


def shoot(page: Page, name: str) -> None:
    """The whole page at a desktop and at a phone width, as PNGs under /tmp/postvak-shots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)
    if original:
        page.set_viewport_size(original)
