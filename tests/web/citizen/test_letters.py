"""Reading a letter: the read and confirmed events the sender sees, downloads, printing, safety."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from sqlalchemy import update

from postvak.messages.models import Message
from postvak.web.citizen.letters import content_disposition
from tests.attachments import pdfs
from tests.inbox.mailboxes import send
from tests.support.citizens import make_citizen, sign_in
from tests.support.dates import due_in, spelled
from tests.support.letters import letter


@pytest.fixture
def pdf() -> bytes:
    return pdfs.one_page()


def one(runtime, sender, citizen, reference="R-1", **fields) -> str:
    [letter_id] = send(runtime, sender, letter(citizen.bsn, reference, **fields))
    return str(letter_id)


def events(client, sender, letter_id) -> list[str]:
    answer = client.get(f"/api/v1/messages/{letter_id}", headers=sender.headers)
    assert answer.status_code == 200, answer.text
    return [e["type"] for e in answer.json()["events"]]


def test_reading_adds_exactly_one_read_event_for_the_sender(
    runtime, web_client, csrf, citizen, sender, client
):
    letter_id = one(runtime, sender, citizen, body="Geachte heer,\n\nUw **aanslag** staat klaar.")
    assert events(client, sender, letter_id) == ["accepted", "delivered"]
    page = web_client.get(f"/letters/{letter_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<strong>aanslag</strong>" in page.text and "Gemeente Testdorp" in page.text
    web_client.get(f"/letters/{letter_id}")
    web_client.get(f"/letters/{letter_id}/print")
    assert events(client, sender, letter_id) == ["accepted", "delivered", "read"]
    assert client.get(f"/api/v1/messages/{letter_id}", headers=sender.headers).json()["status"] == "read"


def test_confirming_receipt_adds_confirmed(runtime, web_client, csrf, citizen, sender, client):
    letter_id = one(runtime, sender, citizen, confirmationRequired=True)
    page = web_client.get(f"/letters/{letter_id}")
    assert f'action="/letters/{letter_id}/confirm"' in page.text
    answer = web_client.post(
        f"/letters/{letter_id}/confirm", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/letters/{letter_id}?notice=confirmed&count=1"
    page = web_client.get(answer.headers["location"])
    assert "U hebt de ontvangst van deze brief bevestigd." in page.text
    assert f'action="/letters/{letter_id}/confirm"' not in page.text
    web_client.post(f"/letters/{letter_id}/confirm", data={"csrf_token": csrf})
    assert events(client, sender, letter_id) == ["accepted", "delivered", "read", "confirmed"]


def test_no_confirm_button_when_the_sender_did_not_ask(runtime, web_client, csrf, citizen, sender, client):
    letter_id = one(runtime, sender, citizen)
    assert "/confirm" not in web_client.get(f"/letters/{letter_id}").text
    web_client.post(f"/letters/{letter_id}/confirm", data={"csrf_token": csrf})
    assert events(client, sender, letter_id) == ["accepted", "delivered", "read"]


def test_an_attachment_downloads_as_a_verified_pdf(runtime, web_client, csrf, citizen, sender, pdf):
    inline = {
        "fileName": "aanslag 2027.pdf",
        "mediaType": "application/pdf",
        "content": base64.b64encode(pdf).decode(),
    }
    letter_id = one(runtime, sender, citizen, attachments=[inline])
    page = web_client.get(f"/letters/{letter_id}")
    assert f'href="/letters/{letter_id}/attachments/0" download>aanslag 2027.pdf</a>' in page.text
    answer = web_client.get(f"/letters/{letter_id}/attachments/0")
    assert answer.status_code == 200 and answer.content == pdf
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"aanslag_2027.pdf\"; filename*=UTF-8''aanslag%202027.pdf"
    )
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    for missing in ("1", "x", "-1", "00000"):
        assert web_client.get(f"/letters/{letter_id}/attachments/{missing}").status_code == 404


def test_download_names_are_safe():
    assert content_disposition('a"b;c\u00e9.pdf') == (
        "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%3Bc%C3%A9.pdf"
    )
    assert content_disposition("brief") == "attachment; filename=\"brief.pdf\"; filename*=UTF-8''brief.pdf"
    assert 'filename="bijlage.pdf"' in content_disposition("...pdf")
    assert 'filename="bijlage.pdf"' in content_disposition("\u00e9\u00e9.pdf")


def test_another_citizens_letter_and_attachment_are_not_found(
    runtime, web_client, csrf, bsns, sender, client, pdf
):
    theirs = make_citizen(runtime, bsns[1])
    inline = {"fileName": "a.pdf", "mediaType": "application/pdf", "content": base64.b64encode(pdf).decode()}
    letter_id = one(runtime, sender, theirs, confirmationRequired=True, attachments=[inline])
    for path in (
        f"/letters/{letter_id}",
        f"/letters/{letter_id}/print",
        f"/letters/{letter_id}/attachments/0",
    ):
        answer = web_client.get(path)
        assert answer.status_code == 404 and answer.headers["cache-control"] == "no-store", path
        assert "Dit kunnen we niet vinden" in answer.text and "%PDF" not in answer.text
    assert web_client.post(f"/letters/{letter_id}/confirm", data={"csrf_token": csrf}).status_code == 404
    assert events(client, sender, letter_id) == ["accepted", "delivered"]
    assert web_client.get("/letters/not-an-id").status_code == 404


def test_a_hostile_body_is_inert(runtime, web_client, csrf, citizen, sender):
    body = (
        "Hallo <script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
        "[klik](javascript:alert(3)) [data](data:text/html,x)\n\n![pixel](https://tracker.example/p.png)\n\n"
        '<a href="javascript:alert(4)">raw</a> <iframe src="https://evil.example"></iframe>\n\n[ok](https://ok.example)'
    )
    page = web_client.get(f"/letters/{one(runtime, sender, citizen, body=body)}").text
    body_html = page.split('class="letter__body prose">', 1)[1].split("</div>", 1)[0]
    tags = re.findall(r"<[^>]*>", body_html)
    assert not [t for t in tags if re.match(r"<(script|img|iframe|object|embed|svg|style)\b", t)]
    assert not [t for t in tags if re.search(r"\son\w+\s*=", t)]
    assert not [t for t in tags if re.search(r"javascript:|data:|evil\.example|\ssrc=", t)]
    # A remote image is at most a plain link to click, never something the page loads.
    assert '<a href="https://tracker.example/p.png" rel="noopener noreferrer nofollow">pixel</a>' in body_html
    assert '<a href="https://ok.example" rel="noopener noreferrer nofollow">ok</a>' in body_html
    assert "&lt;script&gt;" in body_html  # shown as text, never run


def test_the_action_is_a_clear_button_to_the_senders_https_url(runtime, web_client, csrf, citizen, sender):
    action = {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/IB-1"}
    page = web_client.get(
        f"/letters/{one(runtime, sender, citizen, action=action, dueDate=due_in().isoformat())}"
    ).text
    button = re.search(r'<a class="button[^"]*" href="([^"]+)" rel="([^"]+)">\s*Betalen', page)
    assert button and button.groups() == ("https://betalen.example.nl/IB-1", "noopener noreferrer")
    assert f"Betalen vóór {spelled(due_in())}" in page and "betalen.example.nl" in page


def test_the_print_view(runtime, web_client, csrf, citizen, sender):
    letter_id = one(runtime, sender, citizen, body="Tekst van de brief.")
    page = web_client.get(f"/letters/{letter_id}/print")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Tekst van de brief." in page.text and 'class="print-page"' in page.text
    assert "<script>" not in page.text and 'src="/static/postvak.js"' in page.text


def test_a_damaged_letter_shows_an_error_never_its_data(runtime, web_client, csrf, citizen, sender, client):
    letter_id = one(runtime, sender, citizen, body="Geheime inhoud")
    with runtime.database.unit_of_work() as session:
        damaged = update(Message).where(Message.id == uuid.UUID(letter_id)).values(body_sealed=b"\x00" * 48)
        session.execute(damaged)
    page = web_client.get(f"/letters/{letter_id}")
    assert page.status_code == 500 and "Deze brief kan niet veilig worden getoond" in page.text
    assert "Geheime inhoud" not in page.text
    assert events(client, sender, letter_id) == ["accepted", "delivered"]


def test_a_letter_that_waited_for_activation_is_delivered_then_read(
    runtime, web_client, bsns, sender, client
):
    [letter_id] = send(runtime, sender, letter(bsns[2], "WAITED-1"))
    newcomer = make_citizen(runtime, bsns[2])
    sign_in(web_client, runtime, newcomer)
    assert web_client.get(f"/letters/{letter_id}").status_code == 200
    assert events(client, sender, letter_id)[-1] == "read"
    assert events(client, sender, letter_id).count("read") == 1
