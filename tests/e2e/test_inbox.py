"""The inbox in a real browser, with letters delivered through the sender API of the live server."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.attachments import pdfs
from tests.e2e.steps import (
    event_types,
    follow,
    letter_action,
    letter_link,
    log_in,
    pdf_attachment,
    send_letter,
)
from tests.support.dates import due_in

TAX = "Voorlopige aanslag inkomstenbelasting 2027"
RENT = "Beschikking huurtoeslag 2027"
WATER = "Aanslag waterschapsbelasting 2027"


def test_reading_a_letter_tells_the_sender_and_its_pdf_downloads(page: Page, base_url, sender, citizen):
    pdf = pdfs.one_page()
    letter_id = send_letter(
        base_url,
        sender,
        citizen.bsn,
        "IB-2027-0001",
        subject=TAX,
        dueDate=due_in().isoformat(),
        action={"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/IB-2027-0001"},
        attachments=[pdf_attachment("aanslag 2027.pdf", pdf)],
    )
    assert "read" not in event_types(base_url, sender, letter_id)

    log_in(page, citizen)
    letter_link(page, TAX).click()
    expect(page).to_have_url(re.compile(rf"/letters/{letter_id}$"))
    expect(page.locator("h1")).to_have_text(TAX)
    assert "read" in event_types(base_url, sender, letter_id)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="aanslag 2027.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "aanslag 2027.pdf"
    assert Path(download.path()).read_bytes() == pdf


def test_archive_search_delete_and_restore(page: Page, base_url, sender, citizen):
    for reference, subject in [("IB-1", TAX), ("HT-1", RENT), ("WS-1", WATER)]:
        send_letter(base_url, sender, citizen.bsn, reference, subject=subject)
    log_in(page, citizen)
    for subject in (TAX, RENT, WATER):
        expect(letter_link(page, subject)).to_be_visible()

    # Archive, from the letter's own form; it leaves the inbox and waits in the archive.
    letter_link(page, WATER).click()
    letter_action(page, "archive").click()
    expect(page.get_by_role("status")).to_be_visible()
    page.goto("/inbox")
    expect(letter_link(page, WATER)).to_have_count(0)
    page.locator('nav a[href="/inbox?box=archive"]').click()
    expect(letter_link(page, WATER)).to_be_visible()
    expect(letter_link(page, TAX)).to_have_count(0)

    # Search by words of the subject.
    page.goto("/inbox")
    page.locator("input[name=q]").fill("huurtoeslag")
    page.locator("input[name=q]").press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=huurtoeslag"))
    expect(letter_link(page, RENT)).to_be_visible()
    expect(letter_link(page, TAX)).to_have_count(0)
    page.locator("input[name=q]").fill("voorlopige aanslag")
    page.locator("input[name=q]").press("Enter")
    expect(letter_link(page, TAX)).to_be_visible()
    expect(letter_link(page, RENT)).to_have_count(0)

    # Delete to the bin, then restore from it.
    page.goto("/inbox")
    letter_link(page, RENT).click()
    letter_action(page, "bin").click()
    expect(page).to_have_url(re.compile(r"/inbox\?"))
    expect(letter_link(page, RENT)).to_have_count(0)
    page.locator('nav a[href="/inbox?box=bin"]').click()
    letter_link(page, RENT).click()
    follow(letter_action(page, "restore"))
    page.goto("/inbox")
    expect(letter_link(page, RENT)).to_be_visible()
    page.goto("/inbox?box=bin")
    expect(letter_link(page, RENT)).to_have_count(0)


def test_many_letters_at_once_from_the_list(page: Page, base_url, sender, citizen):
    for reference, subject in [("IB-1", TAX), ("HT-1", RENT), ("WS-1", WATER)]:
        send_letter(base_url, sender, citizen.bsn, reference, subject=subject)
    log_in(page, citizen)

    rows = page.locator("li.letter-row")
    for subject in (TAX, RENT):
        rows.filter(has=letter_link(page, subject)).locator("input[name=ids]").check()
    page.locator("#bulk-action").select_option("bin")
    page.locator("#bulk [type=submit]").click()

    expect(letter_link(page, WATER)).to_be_visible()
    expect(letter_link(page, TAX)).to_have_count(0)
    page.goto("/inbox?box=bin")
    expect(letter_link(page, TAX)).to_be_visible()
    expect(letter_link(page, RENT)).to_be_visible()
