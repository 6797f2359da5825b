"""The citizen's journey from the notification e-mail: its link, the log-in, the letter itself."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.steps import enter_password, enter_totp, event_types, send_letter
from tests.support.dates import due_in, spelled
from tests.support.notifying import notifying
from tests.support.smtp import text_of


def test_the_link_in_the_email_leads_to_the_letter_after_logging_in(runtime, page, base_url, citizen, sender):
    runtime.settings = runtime.settings.model_copy(update={"base_url": base_url})
    message_id = send_letter(
        base_url,
        sender,
        citizen.bsn,
        "MAIL-1",
        subject="Aanslag afvalstoffenheffing 2027",
        dueDate=due_in().isoformat(),
    )
    with notifying(runtime) as (sink, worker):
        worker.drain()
        [mail] = sink.wait_for(1)
    subject = f"Gemeente Testdorp: Aanslag afvalstoffenheffing 2027 — vóór {spelled(due_in())}"
    assert mail["Subject"] == subject
    [link] = re.findall(r"http://\S+/letters/\S+", text_of(mail))
    assert link == f"{base_url}/letters/{message_id}"
    assert "notified" in event_types(base_url, sender, message_id)

    page.goto(link)
    expect(page.locator("input[name=username]")).to_be_visible()  # logged out: the log-in comes first
    enter_password(page, citizen)
    enter_totp(page, citizen)
    expect(page).to_have_url(re.compile(re.escape(f"/letters/{message_id}") + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Aanslag afvalstoffenheffing 2027")
    assert "read" in event_types(base_url, sender, message_id)
