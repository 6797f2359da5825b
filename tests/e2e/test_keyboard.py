"""A whole journey with the keyboard only (WCAG 2.1.1): Tab, Enter, Space and typing; never a click.

Log in, second factor, open a letter from the inbox, go back, archive it with the list's form,
log out. On the way: a skip link is the first thing Tab reaches, and focus is always visible.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.steps import send_letter
from tests.support.citizens import totp_code

TAX = "Voorlopige aanslag inkomstenbelasting 2027"
RENT = "Beschikking huurtoeslag 2027"

_FOCUS_SHOWN = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow !== "" && style.boxShadow !== "none";
  return outline || shadow;
}"""


def focused(page: Page, selector: str) -> bool:
    return page.evaluate("selector => document.activeElement.matches(selector)", selector)


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching `selector` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    where = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    raise AssertionError(
        f"{selector} not reached with {limit} presses of Tab on {page.url}; focus on {where}"
    )


def assert_focus_shown(page: Page, what: str) -> None:
    element = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert page.evaluate(_FOCUS_SHOWN), f"no visible focus indicator on {what}: {element}"


def test_a_whole_journey_with_the_keyboard_only(page: Page, base_url, sender, citizen):
    tax_id = send_letter(base_url, sender, citizen.bsn, "IB-1", subject=TAX)
    send_letter(base_url, sender, citizen.bsn, "HT-1", subject=RENT)
    page.goto("/")

    # The first stop of Tab is a skip link to the main content, and it shows itself.
    page.keyboard.press("Tab")
    assert focused(page, "a.skip-link[href='#main']"), "the first focusable element is not the skip link"
    expect(page.locator("a.skip-link")).to_be_in_viewport()
    assert_focus_shown(page, "the skip link")
    page.keyboard.press("Enter")
    assert focused(page, "main#main"), "the skip link does not move focus to the main content"

    # Log in: username, password, Enter; then the code and Enter.
    tab_to(page, "input[name=username]", limit=1)
    assert_focus_shown(page, "the username field")
    page.keyboard.type(citizen.username)
    tab_to(page, "input[name=password]")
    page.keyboard.type(citizen.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/login/second-factor$"))
    tab_to(page, "input[name=code]")
    page.keyboard.type(totp_code(citizen))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox$"))

    # Open the letter from the list, and go back with the page's own back link.
    tab_to(page, f'a[href="/letters/{tax_id}"]')
    assert_focus_shown(page, "a letter link in the inbox")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/letters/{tax_id}$"))
    expect(page.locator("h1")).to_have_text(TAX)
    tab_to(page, '.back-link a[href="/inbox"]')
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/inbox$"))

    # Archive it with the list's form: tick its box with Space, keep "archive", submit with Enter.
    tab_to(page, f'input[name=ids][value="{tax_id}"]')
    assert_focus_shown(page, "a letter's check box")
    page.keyboard.press("Space")
    expect(page.locator(f'input[name=ids][value="{tax_id}"]')).to_be_checked()
    tab_to(page, "#bulk-action")
    expect(page.locator("#bulk-action")).to_have_value("archive")
    tab_to(page, "#bulk [type=submit]")
    assert_focus_shown(page, "the bulk action button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("link", name=TAX, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name=RENT, exact=True)).to_be_visible()

    # Log out from the header.
    tab_to(page, 'form[action="/logout"] [type=submit]')
    assert_focus_shown(page, "the log-out button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("input[name=username]")).to_be_visible()
