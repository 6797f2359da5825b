"""Every page type passes axe-core's WCAG 2.1 A/AA rules in Dutch and in English, and says its language.

One tour per language visits every page a citizen can meet, in the state that shows the most
of it (letters with actions and attachments, open filters, notices, errors); it collects every
violation before failing, so one report lists all pages. The Dutch tour also leaves screenshots
of each page at desktop and phone widths in /tmp/postvak-shots/ for a visual review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from postvak.auth.rules import REAUTHENTICATION_WINDOW
from postvak.kit import clock
from tests.attachments import pdfs
from tests.e2e.conftest import axe_violations
from tests.e2e.steps import (
    add_passkey,
    confirm_password,
    enter_password,
    enter_totp,
    follow,
    in_english,
    letter_action,
    letter_link,
    log_in,
    log_out,
    pdf_attachment,
    send_letter,
    shoot,
    virtual_authenticator,
)
from tests.support.citizens import make_citizen
from tests.support.dates import due_in
from tests.support.smtp import text_of

TAX = "Voorlopige aanslag inkomstenbelasting 2027"
RENT = "Beschikking huurtoeslag 2027"
WATER = "Aanslag waterschapsbelasting 2027"
NOWHERE = "00000000-0000-0000-0000-000000000000"
LANGUAGES = ["nl", "en"]


@dataclass
class Tour:
    """Checks the page the browser shows now; remembers what failed instead of stopping."""

    page: Page
    lang: str
    failures: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        self.seen.append(name)
        where = f"{name} ({urlsplit(self.page.url).path})"
        html_lang = self.page.locator("html").get_attribute("lang")
        if html_lang != self.lang:
            self.failures.append(f"{where}: <html lang={html_lang!r}>, expected {self.lang!r}")
        for violation in axe_violations(self.page):
            self.failures.append(
                f"{where}: axe {violation['id']} ({violation['impact']}) on {violation['nodes']}"
            )
        overflow = reflow_overflow(self.page)
        if overflow:
            self.failures.append(
                f"{where}: scrolls sideways at 320 px (WCAG 1.4.10 reflow); sticking out: {overflow}"
            )
        if self.lang == "nl":
            shoot(self.page, name)

    def assert_clean(self) -> None:
        assert self.seen, "the tour checked no page"
        assert not self.failures, f"{len(self.failures)} problems on {len(self.seen)} pages:\n" + "\n".join(
            self.failures
        )


_WIDER_THAN_THE_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const sticksOut = (e) => e.getBoundingClientRect().right > width + 1;
  const wide = [...document.querySelectorAll("body *")].filter(sticksOut);
  const innermost = wide.filter((e) => !wide.some((other) => other !== e && e.contains(other)));
  return innermost.slice(0, 5).map((e) => e.outerHTML.slice(0, 100));
}"""


def reflow_overflow(page: Page) -> list[str] | None:
    """At 320 CSS pixels wide the page must not scroll sideways; the elements that stick out, if it does."""
    original = page.viewport_size
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        return page.evaluate(_WIDER_THAN_THE_SCREEN)
    finally:
        if original:
            page.set_viewport_size(original)


def start(page: Page, base_url: str, lang: str) -> Tour:
    if lang == "en":
        in_english(page, base_url)
    return Tour(page, lang)


def deliver_three(base_url, sender, citizen) -> None:
    send_letter(
        base_url,
        sender,
        citizen.bsn,
        "IB-2027-0001",
        subject=TAX,
        body="Geachte heer/mevrouw,\n\nU moet **€ 1.234** betalen.\n\n- termijn 1\n- termijn 2\n",
        dueDate=due_in().isoformat(),
        action={"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/IB-2027-0001"},
        confirmationRequired=True,
        attachments=[pdf_attachment("aanslag 2027.pdf", pdfs.one_page())],
    )
    send_letter(
        base_url,
        sender,
        citizen.bsn,
        "HT-2027-0001",
        subject=RENT,
        dueDate=due_in(60).isoformat(),
        action={"kind": "respond", "label": "Reageren", "url": "https://toeslagen.example.nl/r"},
    )
    send_letter(base_url, sender, citizen.bsn, "WS-2027-0001", subject=WATER)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_of_a_citizen_is_accessible(page: Page, base_url, sender, citizen, lang):
    deliver_three(base_url, sender, citizen)
    tour = start(page, base_url, lang)

    page.goto("/")
    tour.check("login")
    page.locator("input[name=username]").fill(citizen.username)
    page.locator("input[name=password]").fill("not the password at all")
    page.locator('form[action="/"] [type=submit]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    tour.check("login-error")

    enter_password(page, citizen)
    tour.check("second-factor")
    page.locator("input[name=code]").fill("000000")
    page.locator('form[action="/login/second-factor"] [type=submit]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    tour.check("second-factor-error")
    enter_totp(page, citizen)
    expect(page).to_have_url(re.compile(r"/inbox$"))
    tour.check("inbox")

    page.goto("/inbox?unread=1&sort=due")
    tour.check("inbox-filters-open")
    page.goto("/inbox?q=huurtoeslag")
    expect(letter_link(page, RENT)).to_be_visible()
    tour.check("search-results")
    page.goto("/inbox?q=zzzqqq")
    tour.check("search-nothing-found")

    page.goto("/inbox")
    follow(letter_link(page, TAX))
    tour.check("letter")
    page.goto(page.url + "/print")
    tour.check("letter-print")

    page.goto("/folders")
    page.locator("#new-folder").fill("Belastingen")
    page.locator('form[action="/folders"] [type=submit]').click()
    expect(page.get_by_role("status")).to_be_visible()
    page.locator("details.folder-list__edit summary").first.click()
    tour.check("folders")
    page.locator("#new-folder").fill("")
    page.locator("#new-folder").evaluate("input => { input.required = false; input.value = ' '; }")
    follow(page.locator('form[action="/folders"] [type=submit]'))
    tour.check("folders-error")

    page.goto("/inbox")
    letter_link(page, WATER).click()
    page.locator("#move-to").select_option(label="Belastingen")
    page.locator(".letter-tools__move [type=submit]").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto("/folders")
    page.get_by_role("link", name="Belastingen", exact=True).click()
    expect(letter_link(page, WATER)).to_be_visible()
    tour.check("folder")

    page.goto("/inbox")
    letter_link(page, RENT).click()
    follow(letter_action(page, "archive"))
    page.goto("/inbox?box=archive")
    tour.check("archive")

    page.goto("/inbox")
    letter_link(page, TAX).click()
    follow(letter_action(page, "bin"))
    page.goto("/inbox?box=bin")
    tour.check("bin")
    follow(letter_link(page, TAX))
    tour.check("letter-in-bin")
    page.goto("/bin/empty")
    tour.check("bin-empty-confirm")
    page.locator('form[action="/bin/empty"] [type=submit]').click()
    expect(page).to_have_url(re.compile(r"box=bin"))
    tour.check("bin-emptied")

    page.goto("/inbox")
    expect(page.locator("li.letter-row")).to_have_count(0)
    tour.check("inbox-empty")

    page.goto(f"/letters/{NOWHERE}")
    tour.check("letter-not-found")
    page.goto("/no-such-page")
    tour.check("page-not-found")
    page.goto("/problems/not-found")
    tour.check("problem-type")

    page.goto("/folders")
    page.locator('form[action="/folders"] input[name=csrf_token]').evaluate("input => { input.value = 'x'; }")
    page.locator("#new-folder").fill("Nooit")
    follow(page.locator('form[action="/folders"] [type=submit]'))
    tour.check("form-rejected")

    tour.assert_clean()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_activation_pages_are_accessible(page: Page, base_url, runtime, bsns, mail, lang):
    newcomer = make_citizen(runtime, bsns[1], activated=False)
    tour = start(page, base_url, lang)
    log_in(page, newcomer, lands_on="/activate")
    tour.check("activate")

    page.locator("input[name=email]").fill("jan.jansen@example.nl")
    page.locator('form[action="/activate"] [type=submit]').first.click()
    expect(page).to_have_url(re.compile(r"/activate/verify$"))
    [message] = mail.wait_for(1)
    tour.check("activate-verify")
    [code] = re.findall(r"\b\d{6}\b", text_of(message))
    page.locator("input[name=code]").fill("000000" if code != "000000" else "111111")
    page.locator('form[action="/activate/verify"] [type=submit]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    tour.check("activate-verify-error")
    tour.assert_clean()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_settings_pages_are_accessible(page: Page, base_url, citizen, mail, lang):
    tour = start(page, base_url, lang)
    log_in(page, citizen)
    answer = page.goto("/settings")
    assert answer is not None and answer.status == 200, f"/settings answers {answer and answer.status}"
    tour.check("settings")

    add_email = page.locator('form.settings-add[action="/settings/emails"]')
    add_email.evaluate("form => { form.noValidate = true; }")  # let the server judge the address
    add_email.locator("input[name=email]").fill("geen adres")
    follow(add_email.locator("[type=submit]"))
    tour.check("settings-error")

    add_email = page.locator('form.settings-add[action="/settings/emails"]')
    add_email.locator("input[name=email]").fill("tweede@example.nl")
    add_email.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/settings/emails/verify$"))
    mail.wait_for(1)
    tour.check("settings-email-code")
    page.locator("input[name=code]").fill("12345")
    page.locator('form[action="/settings/emails/verify"] [type=submit]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    tour.check("settings-email-code-error")

    page.goto("/settings")
    page.locator('form[action="/settings/totp/new"] [type=submit]').first.click()
    expect(page).to_have_url(re.compile(r"/settings/totp$"))
    for summary in page.locator("details summary").all():
        summary.click()
    tour.check("settings-totp")

    later = clock.now() + REAUTHENTICATION_WINDOW + timedelta(minutes=1)
    clock.set_clock(lambda: later)  # the log-in is old now: a new app asks for the password first
    page.goto("/settings")
    page.locator('form[action="/settings/totp/new"] [type=submit]').first.click()
    expect(page).to_have_url(re.compile(r"/confirm-password\?next="))
    tour.check("confirm-password")
    page.locator("input[name=password]").fill("not the password")
    page.locator('form[action="/confirm-password"] [type=submit]').click()
    expect(page.get_by_role("alert")).to_be_visible()
    tour.check("confirm-password-error")
    confirm_password(page, citizen)
    expect(page).to_have_url(re.compile(r"/settings\?notice=password-confirmed#second-factors$"))
    tour.check("settings-password-confirmed")
    tour.assert_clean()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_passkey_pages_are_accessible(localhost_page: Page, runtime, citizen, lang):
    """Settings with a passkey listed, and the second-factor page that offers it (shown by passkey.js)."""
    page = localhost_page
    virtual_authenticator(page)
    tour = start(page, runtime.settings.base_url, lang)
    log_in(page, citizen)
    add_passkey(page, "Laptop")
    tour.check("settings-with-passkey")
    log_out(page)
    enter_password(page, citizen)
    expect(page.locator('form[data-passkey="login"]')).to_be_visible()
    tour.check("second-factor-with-passkey")
    tour.assert_clean()


@pytest.mark.parametrize("path", ["/problems/not-found", "/problems/no-such-type", "/no-such-page"])
def test_a_page_not_translated_does_not_claim_to_be_dutch(page: Page, base_url, path):
    """WCAG 3.1.1: a page that reads the same in both languages is in English, so it says lang="en"."""
    page.goto(path)
    dutch, dutch_lang = page.locator("main").inner_text(), page.locator("html").get_attribute("lang")
    in_english(page, base_url)
    page.goto(path)
    english = page.locator("main").inner_text()
    assert dutch != english or dutch_lang == "en", (
        f"{path} shows English text with <html lang={dutch_lang!r}>: {dutch[:100]!r}"
    )
