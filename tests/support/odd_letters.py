"""Odd but realistic letter fields, each with the exact problem the API answers; and a log check.

Shared by the bad-input tests of POST /messages (each alone) and POST /message-batches (each
between good neighbours). Dates are relative to today where the rule is, so the table never ages.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from postvak.kit.text import BIDI_CONTROLS
from postvak.messages.rules import dutch_date, years_after
from tests.attachments import pdfs

DROP = object()  # as a value in `change`: leave the field out

_NOW = datetime.now(UTC)
_TODAY = dutch_date(_NOW)
_PDF = base64.b64encode(pdfs.one_page()).decode()
_LABELLED = {"kind": "pay", "url": "https://betalen.example.nl/1"}


def _inline(**fields: Any) -> list[dict]:
    return [{"fileName": "aanslag.pdf", "mediaType": "application/pdf", "content": _PDF, **fields}]


def _moment(delta: timedelta) -> str:
    return (_NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Odd:
    """A change to a good letter, and the problem it must get: status, slug, and the field the
    detail starts with (and, when given, words the detail contains)."""

    name: str
    change: dict[str, Any]
    field: str
    slug: str = "validation-failed"
    status: int = 422
    says: str = ""

    def apply(self, good: dict[str, Any]) -> dict[str, Any]:
        doc = {**good, **self.change}
        return {k: v for k, v in doc.items() if v is not DROP}

    def encoded(self, good: dict[str, Any]) -> bytes:
        """The letter as JSON text; ensure_ascii writes a lone surrogate as the escape "\\ud800"."""
        return json.dumps(self.apply(good), ensure_ascii=True).encode()


ODD_LETTERS = [
    # calendar edges
    Odd("due date of a platform default", {"dueDate": "0001-01-02"}, "dueDate", says="2000-01-01"),
    Odd("due date in year zero", {"dueDate": "0000-01-01"}, "dueDate", says="calendar"),
    Odd("29 February of a common year", {"dueDate": "2027-02-29"}, "dueDate", says="calendar"),
    Odd("30 February", {"dueDate": "2028-02-30"}, "dueDate", says="calendar"),
    Odd("month 13", {"dueDate": "2027-13-01"}, "dueDate", says="calendar"),
    Odd("31 April", {"dueDate": "2027-04-31"}, "dueDate", says="calendar"),
    Odd("due date at the end of time", {"dueDate": "9999-12-31"}, "dueDate", says="2000-01-01 to"),
    Odd("due date last century", {"dueDate": "1999-12-31"}, "dueDate", says="2000-01-01 to"),
    Odd(
        "due date the day before yesterday",
        {"dueDate": (_TODAY - timedelta(days=2)).isoformat()},
        "dueDate",
        says="in the past",
    ),
    Odd(
        "due date ten years and a day ahead",
        {"dueDate": (years_after(_TODAY, 10) + timedelta(days=1)).isoformat()},
        "dueDate",
        says="2000-01-01 to",
    ),
    Odd("due date without leading zeros", {"dueDate": "2027-3-31"}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date day first", {"dueDate": "31-03-2027"}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date with a time", {"dueDate": "2027-03-31T00:00:00Z"}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date as a number", {"dueDate": 20270331}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date empty", {"dueDate": ""}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date true", {"dueDate": True}, "dueDate", says="YYYY-MM-DD"),
    Odd("due date in Arabic-Indic digits", {"dueDate": "٢٠٢٧-٠٣-٣١"}, "dueDate", says="YYYY-MM-DD"),
    # moments and their offsets
    Odd("publishAt without an offset", {"publishAt": "2027-01-05T07:00:00"}, "publishAt", says="offset"),
    Odd("publishAt with a space", {"publishAt": "2027-01-05 07:00:00Z"}, "publishAt", says="RFC 3339"),
    Odd("publishAt offset without colon", {"publishAt": "2027-01-05T07:00:00+0100"}, "publishAt"),
    Odd("publishAt offset of 24 hours", {"publishAt": "2027-01-05T07:00:00+24:00"}, "publishAt"),
    Odd("publishAt at 25 o'clock", {"publishAt": "2027-01-05T25:00:00Z"}, "publishAt", says="calendar"),
    Odd("publishAt in a leap second", {"publishAt": "2026-12-31T23:59:60Z"}, "publishAt", says="calendar"),
    Odd("publishAt of a platform default", {"publishAt": "0001-01-01T00:00:00Z"}, "publishAt"),
    Odd("publishAt at the end of time", {"publishAt": "9999-12-31T23:59:59Z"}, "publishAt", says="a year"),
    Odd(
        "publishAt three days ago",
        {"publishAt": _moment(-timedelta(days=3))},
        "publishAt",
        says="in the past",
    ),
    Odd("publishAt 400 days ahead", {"publishAt": _moment(timedelta(days=400))}, "publishAt", says="a year"),
    Odd("publishAt as Unix seconds", {"publishAt": 1799996400}, "publishAt", says="RFC 3339"),
    Odd(
        "publishAt in full-width digits",
        {"publishAt": "２０２７-01-05T07:00:00Z"},
        "publishAt",
        says="RFC 3339",
    ),
    Odd("publishAt as an ISO week", {"publishAt": "2027-W01-1T07:00:00Z"}, "publishAt", says="RFC 3339"),
    # control and bidirectional-control characters
    Odd("right-to-left override", {"subject": "factuur\u202efdp.exe"}, "subject", says="U+202E"),
    Odd("terminal escape", {"subject": "Aanslag \x1b]0;pwned\x07"}, "subject", says="U+001B"),
    Odd("line break in a subject", {"subject": "Aanslag\n2027"}, "subject", says="line break"),
    Odd("isolate", {"subject": "\u2066Aanslag\u2069"}, "subject", says="U+2066"),
    Odd("C1 control in a reference", {"senderReference": "REF\x85-1"}, "senderReference", says="U+0085"),
    Odd("NUL in a reference", {"senderReference": "REF\x00"}, "senderReference", says="U+0000"),
    Odd("bidi in a message type", {"messageType": "aanslag\u202a"}, "messageType", says="U+202A"),
    Odd("bell in a label", {"action": {**_LABELLED, "label": "Betalen\x07"}}, "action.label", says="U+0007"),
    Odd("blank label", {"action": {**_LABELLED, "label": "   "}}, "action.label", says="white space"),
    Odd(
        "override in a link",
        {"action": {**_LABELLED, "label": "Betalen", "url": "https://a.example.nl/\u202egpj.exe"}},
        "action.url",
    ),
    Odd("escape in a notification", {"notification": {"text": "\x1b[31mrood"}}, "notification.text"),
    Odd("NUL in a body", {"body": "Geachte\x00heer"}, "body", says="U+0000"),
    Odd("override in a body", {"body": "Bedrag: \u202e00,001 EUR"}, "body", says="U+202E"),
    Odd("backspace in a body", {"body": "Geachte\bheer"}, "body", says="U+0008"),
    Odd("bidi in a recipient", {"recipient": {"type": "BSN", "value": "99999\u202e3653"}}, "recipient.value"),
    Odd(
        "override in a file name",
        {"attachments": _inline(fileName="factuur\u202efdp.exe")},
        "attachments[0].fileName",
    ),
    Odd(
        "folder in a file name",
        {"attachments": _inline(fileName="../../etc/passwd")},
        "attachments[0].fileName",
    ),
    Odd(
        "backslash in a file name", {"attachments": _inline(fileName="c:\\x.pdf")}, "attachments[0].fileName"
    ),
    Odd("tab in a file name", {"attachments": _inline(fileName="a\tb.pdf")}, "attachments[0].fileName"),
    # lone surrogates, as "\ud800" escapes in the JSON text
    Odd("lone high surrogate in a subject", {"subject": "Aanslag \ud800"}, "subject", says="U+D800"),
    Odd("lone low surrogate in a body", {"body": "Geachte \udfff heer"}, "body", says="U+DFFF"),
    Odd("half an emoji in a reference", {"senderReference": "REF-\ud83d"}, "senderReference", says="U+D83D"),
    Odd("lone surrogate in a label", {"action": {**_LABELLED, "label": "\udc00"}}, "action.label"),
    Odd("lone surrogate as a key", {"\ud800": 1}, "\\ud800", says="U+D800"),
    # huge fields
    Odd("subject of 256 characters", {"subject": "x" * 256}, "subject", says="255"),
    Odd("reference of 65 characters", {"senderReference": "R" * 65}, "senderReference", says="64"),
    Odd("message type of 101 characters", {"messageType": "t" * 101}, "messageType"),
    Odd("notification of 501 characters", {"notification": {"text": "n" * 501}}, "notification.text"),
    Odd(
        "link of 2049 characters",
        {"action": {**_LABELLED, "label": "L", "url": "https://a.nl/" + "p" * 2036}},
        "action.url",
    ),
    Odd(
        "file name of 256 characters",
        {"attachments": _inline(fileName="f" * 252 + ".pdf")},
        "attachments[0].fileName",
    ),
    Odd("body over 1 MiB", {"body": "x" * (1024 * 1024 + 1)}, "body", "payload-too-large", 413),
    Odd(
        "body over 1 MiB of UTF-8 in fewer characters",
        {"body": "é" * 600_000},
        "body",
        "payload-too-large",
        413,
    ),
    Odd("eleven attachments", {"attachments": _inline() * 11}, "attachments", says="10"),
    # wrong types and shapes
    Odd("subject as a number", {"subject": 42}, "subject", says="string"),
    Odd("flag as a string", {"confirmationRequired": "true"}, "confirmationRequired", says="boolean"),
    Odd("flag as a number", {"sensitive": 1}, "sensitive", says="boolean"),
    Odd("recipient as a string", {"recipient": "999993653"}, "recipient"),
    Odd("attachments as an object", {"attachments": {}}, "attachments", says="list"),
    Odd("action as a list", {"action": []}, "action"),
    Odd("body null", {"body": None}, "body", says="string"),
    Odd("body missing", {"body": DROP}, "body", says="required"),
    Odd("unknown field", {"priority": "high"}, "priority", says="not permitted"),
    Odd("paper fallback in capitals", {"paperFallback": "NEVER"}, "paperFallback"),
    Odd(
        "recipient type in lower case", {"recipient": {"type": "bsn", "value": "999993653"}}, "recipient.type"
    ),
    Odd(
        "action kind in capitals", {"action": {**_LABELLED, "label": "Betalen", "kind": "PAY"}}, "action.kind"
    ),
    Odd(
        "a BSN one digit off",
        {"recipient": {"type": "BSN", "value": "999993654"}},
        "recipient.value",
        "invalid-recipient",
    ),
    Odd(
        "a BSN of zeros",
        {"recipient": {"type": "BSN", "value": "000000000"}},
        "recipient.value",
        "invalid-recipient",
    ),
]


def raw_controls_in(text: str) -> list[str]:
    """Control and bidirectional-control characters in log output (line breaks between lines aside)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs") or c in BIDI_CONTROLS)
    ]
