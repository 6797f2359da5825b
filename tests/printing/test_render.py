"""A letter as one PDF for print: the address page, the letter, the attachments; text and pages checked."""

import io
import uuid
from datetime import UTC, date, datetime

import pikepdf
import pytest

from postvak.printing.render import MessageForPrint, RenderError, dutch_date, render_message
from tests.support.printing import attachment_pdf, pdf_pages

BODY = """Geachte mevrouw De Vries,

Hierbij ontvangt u de **aanslag** gemeentelijke belastingen 2027. U betaalt *€ 312,50* in „termijnen“ –
of in één keer — zie [de website](https://www.utrecht.nl/belastingen).

## Bezwaar

Bent u het niet eens met de aanslag? Dan kunt u bezwaar maken:

- binnen zes weken na de datum van deze brief;
- schriftelijk of via `mijn.utrecht.nl`.

1. Vul het formulier in
2. Stuur het op

> Let op: de ĳzeren regel geldt ook voor naïeve coöperaties.

Met vriendelijke groet,
De heffingsambtenaar
"""


def _message(**fields) -> MessageForPrint:
    values = {
        "message_id": uuid.UUID("01890a5d-ac96-774b-bcce-b302099a8057"),
        "sender_name": "Gemeente Utrecht",
        "sender_reference": "IB-2026-000123",
        "subject": "Aanslag gemeentelijke belastingen 2027",
        "body": BODY,
        "sent_on": date(2027, 1, 5),
        "due_date": date(2027, 3, 31),
        "action_kind": "pay",
        "action_label": "Aanslag betalen",
        "action_url": "https://betalen.example.nl/IB-2026-000123",
        "address_lines": ["Mevrouw J. de Vries-Ĳzerman", "Oudegracht 12 bis", "3511 AB  UTRECHT"],
        "return_address": "Postvak, Postbus 12345, 2500 AA  Den Haag",
        "web_address": "https://postvak.example.nl",
    }
    return MessageForPrint(**(values | fields))


AT = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)


def test_address_page_then_letter_then_both_attachments():
    attachments = [attachment_pdf("Bijlage A", 2), attachment_pdf("Bijlage B", 3)]
    rendered = render_message(_message(), attachments, created_at=AT)
    pages = pdf_pages(rendered.pdf)
    assert rendered.pages == len(pages) == 1 + 1 + 2 + 3  # the body fits one page
    address, text = pages[0], pages[1]
    lines = address.splitlines()
    below_return_address = lines.index("Postvak, Postbus 12345, 2500 AA  Den Haag") + 1
    assert lines[below_return_address : below_return_address + 3] == [
        "Mevrouw J. de Vries-IJzerman",
        "Oudegracht 12 bis",
        "3511 AB  UTRECHT",
    ]
    for expected in ("Gemeente Utrecht", "IB-2026-000123", "5 januari 2027", str(_message().message_id)):
        assert expected in address
    flowing = " ".join(text.split())  # where lines break is the layout's business
    for expected in (
        "Aanslag gemeentelijke belastingen 2027 Geachte mevrouw De Vries,",
        "Hierbij ontvangt u de aanslag gemeentelijke belastingen 2027. U betaalt € 312,50 in „termijnen“ "
        "– of in één keer — zie de website (https://www.utrecht.nl/belastingen).",
        "Bezwaar Bent u het niet eens",
        "•binnen zes weken na de datum van deze brief; •schriftelijk of via mijn.utrecht.nl.",
        "1.Vul het formulier in 2.Stuur het op",
        "Let op: de ijzeren regel geldt ook voor naïeve coöperaties.",
        "Betalen: Aanslag betalen https://betalen.example.nl/IB-2026-000123 Uiterlijk op 31 maart 2027",
    ):
        assert expected in flowing, expected
    assert "Uiterlijk31 maart 2027" in text  # the due date among the letter's facts too
    assert pages[2:] == [
        "Bijlage A pagina 1",
        "Bijlage A pagina 2",
        "Bijlage B pagina 1",
        "Bijlage B pagina 2",
        "Bijlage B pagina 3",
    ]


def test_page_count_is_the_pdfs_own():
    rendered = render_message(_message(body="Een alinea.\n\n" * 200), [attachment_pdf("X", 1)], created_at=AT)
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        assert len(pdf.pages) == rendered.pages
    assert rendered.pages > 3  # a long letter runs over several pages, each with its footer
    assert "pagina 2" in pdf_pages(rendered.pdf)[2]


def test_the_same_letter_renders_to_the_same_bytes():
    """A batch written again after a crash holds the same files."""
    attachments = [attachment_pdf("A", 1)]
    first = render_message(_message(), attachments, created_at=AT).pdf
    assert render_message(_message(), attachments, created_at=AT).pdf == first
    assert render_message(_message(subject="Anders"), attachments, created_at=AT).pdf != first


def test_characters_beyond_the_fonts_get_stand_ins_not_errors():
    message = _message(
        sender_name="Gemeente Súdwest-Fryslân",
        subject="Łukasz Wiśniewski → 北京",
        body="Ĳsbaan ≥ 5 — `code\tmet tab`",
        address_lines=["Şahin Öztürk", "Straat 1", "1234 AB  ĲLST"],
        action_kind=None,
        due_date=None,
    )
    pages = pdf_pages(render_message(message, [], created_at=AT).pdf)
    assert "Şahin" not in pages[0] and "Sahin Öztürk" in pages[0] and "1234 AB  IJLST" in pages[0]
    assert "Gemeente Súdwest-Fryslân" in pages[1]
    assert "Lukasz Wisniewski -> ??" in pages[1]
    assert "IJsbaan >= 5 —" in pages[1]
    assert "Wat wordt er van u gevraagd?" not in pages[1]  # no action and no due date: no box


def test_raw_html_prints_as_text_and_links_with_their_url():
    body = (
        "Zie <b>dit</b> en ![logo](https://x.example/logo.png).\n\n"
        "Mail [ons](mailto:info@example.nl) of <https://a.example>."
    )
    text = pdf_pages(render_message(_message(body=body), [], created_at=AT).pdf)[1]
    assert "Zie <b>dit</b> en !logo (https://x.example/logo.png)." in text  # as the web shows it: a link
    assert "Mail ons (mailto:info@example.nl) of https://a.example." in text  # an autolink: its URL once


def test_a_long_url_is_cut_to_the_line_not_lost():
    url = "https://example.nl/" + "abcdefghij" * 30
    text = pdf_pages(render_message(_message(body=url), [], created_at=AT).pdf)[1]
    assert url in text.replace("\n", "")


def test_an_attachment_that_is_not_a_pdf_is_a_render_error():
    with pytest.raises(RenderError):
        render_message(_message(), [b"%PDF-1.7 but not really"], created_at=AT)


def test_dutch_dates():
    assert dutch_date(date(2027, 3, 31)) == "31 maart 2027"
    assert dutch_date(date(2027, 12, 1)) == "1 december 2027"
