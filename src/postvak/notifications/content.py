"""The words of the notifications that tell a citizen a message arrived: e-mail (text and HTML) and SMS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from babel.dates import format_date

from postvak.kit.mail import OutgoingMail
from postvak.notifications.rules import (
    DUE_DATE,
    NEW,
    REMINDERS,
    MessageSummary,
    action_expected,
    headline,
    single_line,
)

SMS_LIMIT = 320
CUSTOM_TEXT_LIMIT = 500

_TEXT = {
    "nl": {
        "new": "U hebt een nieuwe brief in Postvak.",
        "unread": "U hebt deze brief nog niet gelezen.",
        "due-date": "Over een paar dagen is de uiterste datum van deze brief: {date}. "
        "Dit is de laatste herinnering.",
        "new-generic": "U hebt een nieuw bericht van {sender}.",
        "unread-generic": "U hebt een bericht van {sender} nog niet gelezen.",
        "facts": ("Van", "Onderwerp", "Wat moet u doen", "Uiterste datum"),
        "writes": "{sender} schrijft:",
        "read": "Lees de brief in Postvak",
        "read-generic": "Lees het bericht in Postvak",
        "not-included": (
            "Deze e-mail bevat de brief zelf niet. U leest de brief als u inlogt op Postvak.",
            "Deze e-mail bevat de brieven zelf niet. U leest ze als u inlogt op Postvak.",
        ),
        "no-code": "Postvak vraagt u nooit per e-mail om een wachtwoord of code. "
        "Krijgt u zo'n vraag? Reageer dan niet.",
        "settings": "Wilt u deze meldingen anders ontvangen? Dat kunt u wijzigen bij uw instellingen",
        "regards": "Met vriendelijke groet,\nPostvak",
        "digest-subject": ("Postvak: 1 nieuwe brief", "Postvak: {count} nieuwe brieven"),
        "digest-intro": (
            "Er is 1 nieuwe brief in uw Postvak.",
            "Er zijn {count} nieuwe brieven in uw Postvak.",
        ),
        "digest-nothing": "U hoeft voor deze brieven niets te doen.",
        "inbox": "Naar uw Postvak",
    },
    "en": {
        "new": "You have a new letter in Postvak.",
        "unread": "You have not read this letter yet.",
        "due-date": "The deadline of this letter is in a few days: {date}. This is the last reminder.",
        "new-generic": "You have a new message from {sender}.",
        "unread-generic": "You have not read a message from {sender} yet.",
        "facts": ("From", "Subject", "What you need to do", "Deadline"),
        "writes": "{sender} writes:",
        "read": "Read the letter in Postvak",
        "read-generic": "Read the message in Postvak",
        "not-included": (
            "This e-mail does not contain the letter itself. To read it, log in to Postvak.",
            "This e-mail does not contain the letters themselves. To read them, log in to Postvak.",
        ),
        "no-code": "Postvak never asks for a password or code by e-mail. "
        "If you get such a request, do not reply.",
        "settings": "Would you like to receive these notifications differently? "
        "You can change this in your settings",
        "regards": "Kind regards,\nPostvak",
        "digest-subject": ("Postvak: 1 new letter", "Postvak: {count} new letters"),
        "digest-intro": (
            "There is 1 new letter in your Postvak.",
            "There are {count} new letters in your Postvak.",
        ),
        "digest-nothing": "You do not need to do anything for these letters.",
        "inbox": "Go to your Postvak",
    },
}

_BODY = "margin:0;padding:24px;background:#ffffff;color:#1a1a1a;font-family:Verdana,Arial,sans-serif;"
_BODY += "font-size:16px;line-height:1.5"
_P = "margin:0 0 16px"
_SMALL = "margin:0 0 8px;font-size:14px;color:#4d4d4d"
_QUOTE = "margin:0 0 16px;padding:8px 16px;border-left:4px solid #154273;background:#f3f3f3"
_BUTTON = "display:inline-block;padding:12px 20px;background:#154273;color:#ffffff;"
_BUTTON += "text-decoration:none;border-radius:4px;font-weight:bold"


@dataclass(frozen=True)
class Notice:
    """One notification about one message."""

    reason: str  # "new", "unread" (still unread after N days) or "due-date" (the last reminder)
    summary: MessageSummary
    link: str
    settings_link: str
    language: str  # "nl" or "en"; anything else is "nl"

    def __post_init__(self) -> None:
        if self.reason not in (NEW, *REMINDERS):  # a typo must not send the wrong words
            raise ValueError(f"unknown notice reason {self.reason!r}")


@dataclass(frozen=True)
class DigestEntry:
    summary: MessageSummary
    link: str


def notice_mail(notice: Notice, to: tuple[str, ...], message_id: str) -> OutgoingMail:
    """Who wrote, about what, what to do and by when, with a link; only the sender's name if sensitive."""
    language = _language(notice.language)
    words = _TEXT[language]
    summary = notice.summary
    sender = single_line(summary.sender_name, 120)
    mail = _Builder(language)
    if summary.sensitive:
        intro = "new-generic" if notice.reason == NEW else "unread-generic"
        mail.paragraph(words[intro].format(sender=sender))
        mail.button(words["read-generic"], notice.link)
    else:
        mail.paragraph(_intro(notice.reason, summary, language))
        action = action_expected(summary, language)
        deadline = _date(summary, language) if summary.due_date else None
        values = (sender, single_line(summary.subject, 200), action, deadline)
        mail.facts([(label, value) for label, value in zip(words["facts"], values, strict=True) if value])
        custom = _custom_lines(summary.custom_text or "")
        if custom:
            mail.quote(words["writes"].format(sender=sender), custom)
        mail.button(words["read"], notice.link)
    subject = headline(summary, language, reminder=notice.reason != NEW)
    return mail.finish(subject, to, message_id, notice.settings_link)


def digest_mail(
    entries: Sequence[DigestEntry],
    *,
    to: tuple[str, ...],
    message_id: str,
    language: str,
    inbox_link: str,
    settings_link: str,
) -> OutgoingMail:
    """One e-mail a day for the messages that ask nothing; an empty digest is a mistake of the caller."""
    if not entries:
        raise ValueError("a digest needs at least one letter")
    language = _language(language)
    words = _TEXT[language]
    one = len(entries) == 1
    mail = _Builder(language)
    mail.paragraph(words["digest-intro"][0 if one else 1].format(count=len(entries)))
    mail.entries([(headline(entry.summary, language), entry.link) for entry in entries])
    mail.paragraph(words["digest-nothing"])
    mail.button(words["inbox"], inbox_link)
    subject = words["digest-subject"][0 if one else 1].format(count=len(entries))
    return mail.finish(subject, to, message_id, settings_link, messages=len(entries))


def notice_sms(notice: Notice) -> str:
    """The headline and the link on one line; the headline is shortened, never the link."""
    link = single_line(notice.link, SMS_LIMIT)
    text = single_line(headline(notice.summary, _language(notice.language), reminder=notice.reason != NEW))
    room = SMS_LIMIT - len(link) - 1
    if len(text) > room:
        text = text[: max(room - 1, 0)].rstrip() + "…"
    return f"{text} {link}"[:SMS_LIMIT]


def _language(language: str) -> str:
    return language if language in _TEXT else "nl"


def _date(summary: MessageSummary, language: str) -> str:
    return format_date(summary.due_date, "d MMMM y", locale=language)


def _intro(reason: str, summary: MessageSummary, language: str) -> str:
    if reason == DUE_DATE and summary.due_date:
        return _TEXT[language]["due-date"].format(date=_date(summary, language))
    return _TEXT[language]["new" if reason == NEW else "unread"]


def _custom_lines(text: str) -> list[str]:
    """The sender's own words without control characters; one blank line at most between paragraphs."""
    kept: list[str] = []
    for line in text[:CUSTOM_TEXT_LIMIT].splitlines():
        line = single_line(line, CUSTOM_TEXT_LIMIT)
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def _header(value: str) -> str:
    """One line, and no RFC 2047 encoded word: Python's email package before 3.11.10/3.12.5 writes a
    decoded "=?utf-8?q?=0D=0ABcc:…?=" back as a real line break, a header injection (CVE-2024-6923)."""
    return single_line(value).replace("=?", "= ?")


class _Builder:
    """Writes the plain text and the HTML side by side, so that the two always say the same."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._text: list[str] = []
        self._html: list[str] = []

    def finish(
        self, subject: str, to: tuple[str, ...], message_id: str, settings_link: str, *, messages: int = 1
    ) -> OutgoingMail:
        words = _TEXT[self.language]
        self.paragraph(words["regards"])
        self.small(words["not-included"][0 if messages == 1 else 1])
        self.small(words["no-code"])
        self.small(words["settings"], settings_link)
        subject = _header(subject)
        return OutgoingMail(
            to=tuple(_header(address) for address in to),
            subject=subject,
            text="\n\n".join(self._text) + "\n",
            html=(
                f'<!doctype html><html lang="{self.language}"><head><meta charset="utf-8">'
                f"<title>{escape(subject)}</title></head>"
                f'<body style="{_BODY}"><div style="max-width:600px;margin:0 auto">'
                f"{''.join(self._html)}</div></body></html>"
            ),
            message_id=_header(message_id),
        )

    def paragraph(self, text: str) -> None:
        self._text.append(text)
        self._html.append(f'<p style="{_P}">{escape(text).replace(chr(10), "<br>")}</p>')

    def facts(self, pairs: list[tuple[str, str]]) -> None:
        self._text.append("\n".join(f"{label}: {value}" for label, value in pairs))
        rows = "".join(
            f'<tr><th scope="row" style="text-align:left;vertical-align:top;padding:2px 16px 2px 0">'
            f"{escape(label)}</th><td>{escape(value)}</td></tr>"
            for label, value in pairs
        )
        self._html.append(f'<table role="presentation" style="border-collapse:collapse;{_P}">{rows}</table>')

    def quote(self, attribution: str, lines: list[str]) -> None:
        self._text.append(attribution + "\n" + "\n".join(f"> {line}".rstrip() for line in lines))
        quoted = "<br>".join(escape(line) for line in lines)
        self._html.append(
            f'<p style="{_P}">{escape(attribution)}</p><blockquote style="{_QUOTE}">{quoted}</blockquote>'
        )

    def entries(self, items: list[tuple[str, str]]) -> None:
        self._text.append("\n".join(f"- {text}\n  {link}" for text, link in items))
        listed = "".join(
            f'<li style="margin:0 0 8px"><a href="{escape(link)}">{escape(text)}</a></li>'
            for text, link in items
        )
        self._html.append(f'<ul style="{_P};padding-left:24px">{listed}</ul>')

    def button(self, label: str, link: str) -> None:
        self._text.append(f"{label}:\n{link}")
        self._html.append(
            f'<p style="{_P}"><a href="{escape(link)}" style="{_BUTTON}">{escape(label)}</a></p>'
        )

    def small(self, text: str, link: str | None = None) -> None:
        self._text.append(f"{text}:\n{link}" if link else text)
        anchor = f': <a href="{escape(link)}">{escape(link)}</a>' if link else ""
        self._html.append(f'<p style="{_SMALL}">{escape(text)}{anchor}</p>')
