"""One message as one PDF for print: an address page for a window envelope, the message, its PDF attachments.

Page 1 is laid out for the left-hand window of the usual Dutch and European window envelopes
(C5, C5/6, DL): their window starts 20 mm from the left edge, and with an A4 sheet folded in
three it shows roughly 45 to 90 mm below the top (the address field of DIN 5008 form B, which
NEN 1026-style envelopes follow). So: Postvak's return-address line at 45 mm, the address
block from 50 mm, 85 mm wide; the sender, date and reference to the right of the window.
The message follows from page 2 — the sender, date, reference, subject, the Markdown body
(headings, paragraphs, lists, emphasis; each link with its URL, since paper cannot be
clicked), the action asked with its URL, and the due date — and then the pages of its PDF
attachments as they are. Set in the PDF standard fonts: see text.py.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import pikepdf
from fpdf import FPDF
from markdown_it import MarkdownIt
from markdown_it.token import Token

from postvak.printing.layout import BODY_SIZE, FONT, MONO, PLAIN, Flow, Style, paragraph
from postvak.printing.text import ENCODING, printable

# The same Markdown subset the citizen's web shows (messages/render.py): no raw HTML, no images.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")

LEFT, RIGHT, TOP, BOTTOM = 25.0, 20.0, 20.0, 22.0  # page margins of the message, mm
WINDOW_X, WINDOW_Y, WINDOW_WIDTH = 20.0, 50.0, 85.0  # the address block behind the window, mm
RETURN_Y = 45.0  # the return-address line just above it
ASIDE_X = 120.0  # sender, date and reference beside the window
LINE = 5.0  # mm between the lines of the body

ACTION_NAMES = {
    "pay": "Betalen",
    "respond": "Reageren",
    "confirm": "Bevestigen",
    "appointment": "Afspraak maken",
    "info": "Meer informatie",
}
_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


class RenderError(Exception):
    """The message cannot be laid out, or an attachment cannot be appended (a fault in the message, not in
    the machine: rendering it again fails again)."""


@dataclass(frozen=True)
class MessageForPrint:
    message_id: uuid.UUID
    sender_name: str
    sender_reference: str
    subject: str
    body: str  # Markdown
    sent_on: date
    due_date: date | None
    action_kind: str | None
    action_label: str | None
    action_url: str | None
    address_lines: Sequence[str]
    return_address: str  # Postvak's, printed above the window
    web_address: str  # where the citizen reads post digitally

    def __repr__(self) -> str:  # never the address or the content, not even in a failing assertion
        return f"MessageForPrint({self.message_id})"


@dataclass(frozen=True)
class RenderedMessage:
    pdf: bytes
    pages: int


def dutch_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def render_message(
    message: MessageForPrint, attachments: Sequence[bytes], *, created_at: datetime
) -> RenderedMessage:
    """The message's PDF for print. `created_at` is the document's date: the same message renders to the
    same bytes, so a batch written again after a crash holds the same files."""
    try:
        document = _Document(message)
        document.set_creation_date(created_at)
        _address_page(document, message)
        document.add_page()
        _message_pages(document, message)
        return _with_attachments(bytes(document.output()), attachments)
    except RenderError:
        raise
    except Exception as exc:  # fpdf2 and pikepdf raise many kinds; each means this message cannot be printed
        raise RenderError(f"{type(exc).__name__} while laying out the letter") from exc


class _Document(FPDF):
    def __init__(self, message: MessageForPrint) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.message = message
        self.set_margins(LEFT, TOP, RIGHT)
        self.set_auto_page_break(True, margin=BOTTOM)
        self.set_title(printable(message.subject))
        self.set_author(printable(message.sender_name))
        self.set_creator("Postvak")

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, size=7.5)
        self.set_text_color(90)
        reference = printable(self.message.sender_reference)
        self.text(
            LEFT,
            self.h - 12,
            f"Kenmerk {reference}  ·  bericht {self.message.message_id}  ·  pagina {self.page_no() - 1}",
        )
        self.set_text_color(0)


def _address_page(pdf: _Document, message: MessageForPrint) -> None:
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.text(WINDOW_X, TOP + 5, "Postvak")
    pdf.set_font(FONT, size=9)
    pdf.text(WINDOW_X, TOP + 10.5, "Een bericht uit uw digitale brievenbus, op papier")
    # Return address: one line, shrunk rather than wrapped so that it stays above the window's address.
    size = 7.0
    text = printable(message.return_address)
    pdf.set_font(FONT, "U", size)
    while pdf.get_string_width(text) > WINDOW_WIDTH and size > 5:
        size -= 0.5
        pdf.set_font(FONT, "U", size)
    pdf.text(WINDOW_X, RETURN_Y + 2.5, text)
    with _margins(pdf, WINDOW_X, pdf.w - WINDOW_X - WINDOW_WIDTH):
        pdf.set_y(WINDOW_Y)
        for line in message.address_lines:
            paragraph(pdf, line, Style(size=10), line_height=4.5, keep_spaces=True)  # "1234 AB  PLACE"
    with _margins(pdf, ASIDE_X, RIGHT):
        pdf.set_y(WINDOW_Y)
        for label, value, size in (
            ("Afzender", message.sender_name, 8.5),
            ("Datum", dutch_date(message.sent_on), 8.5),
            ("Kenmerk", message.sender_reference, 8.5),
            ("Berichtnummer", str(message.message_id), 7.5),
        ):
            paragraph(pdf, label, Style(emphasis="B", size=8), line_height=4)
            paragraph(pdf, value, Style(size=size), line_height=4)
            pdf.ln(2)
    with _margins(pdf, WINDOW_X, RIGHT):
        pdf.set_y(110)
        paragraph(
            pdf,
            f"Dit is de papieren versie van een bericht dat {message.sender_name} u via Postvak heeft "
            "gestuurd; de brief zelf volgt op de volgende bladzijden. Met een account op Postvak leest u uw "
            f"post voortaan digitaal, op {message.web_address}.",
            Style(size=9),
            line_height=4.5,
        )


@contextmanager
def _margins(pdf: FPDF, left: float, right: float) -> Iterator[None]:
    pdf.set_left_margin(left)
    pdf.set_right_margin(right)
    try:
        yield
    finally:
        pdf.set_left_margin(LEFT)
        pdf.set_right_margin(RIGHT)


def _message_pages(pdf: _Document, message: MessageForPrint) -> None:
    paragraph(pdf, message.sender_name, Style(emphasis="B", size=12), line_height=6)
    pdf.ln(2)
    facts = [("Datum", dutch_date(message.sent_on)), ("Kenmerk", message.sender_reference)]
    if message.due_date:
        facts.append(("Uiterlijk", dutch_date(message.due_date)))
    for label, value in facts:
        pdf.set_font(FONT, "B", 9)
        pdf.text(LEFT, pdf.get_y() + 3.2, label)
        with _margins(pdf, LEFT + 22, RIGHT):
            paragraph(pdf, value, Style(size=9), line_height=4.5)
    pdf.ln(5)
    paragraph(pdf, message.subject, Style(emphasis="B", size=13), line_height=6.5)
    pdf.ln(3)
    _Body(pdf).render(message.body)
    if message.action_kind or message.due_date:
        _action(pdf, message)


def _action(pdf: _Document, message: MessageForPrint) -> None:
    pdf.ln(4)
    paragraph(pdf, "Wat wordt er van u gevraagd?", Style(emphasis="B", size=BODY_SIZE + 0.5), line_height=6)
    top, page = pdf.get_y(), pdf.page_no()
    pdf.ln(1.5)
    with _margins(pdf, LEFT + 4, RIGHT):
        if message.action_kind:
            name = ACTION_NAMES.get(message.action_kind, message.action_kind)
            label = message.action_label or ""
            paragraph(
                pdf, f"{name}: {label}" if label and label != name else name, PLAIN.bold(), line_height=LINE
            )
            if message.action_url:
                paragraph(pdf, message.action_url, line_height=LINE)
        if message.due_date:
            paragraph(pdf, f"Uiterlijk op {dutch_date(message.due_date)}", line_height=LINE)
    pdf.ln(1.5)
    if pdf.page_no() == page:  # a bar beside the box, when it kept to one page
        pdf.set_draw_color(120)
        pdf.line(LEFT + 1, top, LEFT + 1, pdf.get_y())
        pdf.set_draw_color(0)


class _Body:
    """Walks markdown-it's tokens: inline text gathers in a Flow, each block end lays it out."""

    def __init__(self, pdf: _Document) -> None:
        self.pdf = pdf
        self.flow = Flow(pdf)
        self.bold = self.italic = False
        self.size = BODY_SIZE
        self.lists: list[list[int | None]] = []  # per open list: [next number], or [None] for bullets
        self.marker: str | None = None  # the bullet or number waiting for its item's first line
        self.quote_depth = 0
        self.href: str | None = None
        self.link_text = ""

    def render(self, markdown: str) -> None:
        for token in _markdown.parse(markdown):
            self._block(token)
        self._flush()
        self.pdf.set_left_margin(LEFT)

    def _style(self, *, mono: bool = False) -> Style:
        if mono:
            return Style(MONO, "", self.size - 1)
        return Style(FONT, ("B" if self.bold else "") + ("I" if self.italic else ""), self.size)

    def _flush(self, *, line_height: float | None = None) -> None:
        marker, self.marker = self.marker, None
        if self.flow or marker:
            self.flow.flush(
                line_height=line_height or LINE, marker=(Style(size=self.size), marker) if marker else None
            )

    def _margin(self) -> None:
        self.pdf.set_left_margin(LEFT + 7.0 * len(self.lists) + 6.0 * self.quote_depth)

    def _block(self, token: Token) -> None:
        pdf = self.pdf
        kind = token.type
        if kind == "heading_open":
            self.size, self.bold = {1: 15.0, 2: 13.0}.get(int(token.tag[1]), 11.5), True
            pdf.ln(2)
        elif kind == "heading_close":
            self._flush(line_height=self.size * 0.5)
            pdf.ln(2)
            self.size, self.bold = BODY_SIZE, False
        elif kind == "paragraph_close":
            self._flush()
            if not token.hidden:  # a tight list's items are paragraphs without space between them
                pdf.ln(2)
        elif kind == "inline":
            self._inline(token.children or [])
        elif kind in ("bullet_list_open", "ordered_list_open"):
            self._flush()
            start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None
            self.lists.append([start])
            self._margin()
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            self._margin()
            if not self.lists:
                pdf.ln(2)
        elif kind == "list_item_open":
            current = self.lists[-1]
            if current[0] is None:
                self.marker = "•" if len(self.lists) % 2 else "–"
            else:
                self.marker = f"{current[0]}."
                current[0] += 1
        elif kind == "list_item_close":
            self._flush()
        elif kind in ("blockquote_open", "blockquote_close"):
            self._flush()
            self.quote_depth += 1 if kind == "blockquote_open" else -1
            self.italic = self.quote_depth > 0
            self._margin()
        elif kind in ("code_block", "fence"):
            self._flush()
            self.flow.keep_spaces = True
            for line in token.content.rstrip("\n").split("\n"):
                self.flow.add(self._style(mono=True), line or " ")
                self.flow.flush(line_height=LINE - 0.6)
            self.flow.keep_spaces = False
            pdf.ln(2)
        elif kind == "hr":
            self._flush()
            pdf.ln(2)
            pdf.set_draw_color(150)
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - RIGHT, pdf.get_y())
            pdf.set_draw_color(0)
            pdf.ln(4)

    def _inline(self, children: list[Token]) -> None:
        for child in children:
            kind = child.type
            if kind == "text":
                self._add(child.content)
            elif kind == "softbreak":
                self._add(" ")
            elif kind == "hardbreak":
                self._flush()
            elif kind in ("strong_open", "strong_close"):
                self.bold = kind == "strong_open"
            elif kind in ("em_open", "em_close"):
                self.italic = kind == "em_open" or self.quote_depth > 0
            elif kind == "code_inline":
                self._add(child.content, mono=True)
            elif kind == "link_open":
                self.href, self.link_text = str(child.attrGet("href") or ""), ""
            elif kind == "link_close":
                href, self.href = self.href, None
                if href and href.removeprefix("mailto:") != self.link_text.strip():
                    self._add(f" ({href})")
            else:  # html_inline, image and the like: what the writer typed, as text
                self._add(child.content)

    def _add(self, text: str, *, mono: bool = False) -> None:
        if self.href is not None:
            self.link_text += text
        self.flow.add(self._style(mono=mono), text)


def _with_attachments(message_pdf: bytes, attachments: Sequence[bytes]) -> RenderedMessage:
    """Append each attachment's pages; saved with a deterministic /ID, so equal input gives equal bytes."""
    with pikepdf.open(io.BytesIO(message_pdf)) as document:
        opened = []
        try:
            for data in attachments:
                source = pikepdf.open(io.BytesIO(data))
                opened.append(source)
                document.pages.extend(source.pages)
            out = io.BytesIO()
            document.save(out, deterministic_id=True, compress_streams=True)
            return RenderedMessage(out.getvalue(), len(document.pages))
        finally:
            for source in opened:
                source.close()
