"""What a citizen receives about their account itself (not about messages): the address and phone checks."""

from __future__ import annotations

from html import escape

from postvak.citizens.rules import CODE_LIFETIME
from postvak.citizens.service import EmailCode, PhoneCode
from postvak.kit.mail import OutgoingMail

_MINUTES = int(CODE_LIFETIME.total_seconds() // 60)

_TEXT = {
    "nl": {
        "subject": "Uw code voor Postvak",
        "lines": [
            "U voegt dit e-mailadres toe aan uw Postvak.",
            "Uw code is:",
            "{code}",
            "De code is {minutes} minuten geldig. Vul hem in op de pagina waar u hem aanvroeg.",
            "Heeft u dit niet zelf gedaan? Dan hoeft u niets te doen; zonder de code gebeurt er niets.",
        ],
    },
    "en": {
        "subject": "Your Postvak code",
        "lines": [
            "You are adding this e-mail address to your Postvak.",
            "Your code is:",
            "{code}",
            "The code is valid for {minutes} minutes. Enter it on the page where you asked for it.",
            "Did you not ask for this? Then you need not do anything; without the code nothing happens.",
        ],
    },
}


def email_code_mail(code: EmailCode) -> OutgoingMail:
    """Plain text and HTML; no links, so that the mail cannot be mistaken for phishing or used for it."""
    words = _TEXT.get(code.language, _TEXT["nl"])
    lines = [line.format(code=code.code, minutes=_MINUTES) for line in words["lines"]]
    html = "".join(
        f'<p style="font-size:1.6em;letter-spacing:0.2em"><strong>{escape(code.code)}</strong></p>'
        if line == code.code
        else f"<p>{escape(line)}</p>"
        for line in lines
    )
    return OutgoingMail(
        to=code.address,
        subject=words["subject"],
        text="\n\n".join(lines) + "\n",
        html=f"<!doctype html><html><body>{html}</body></html>",
    )


_SMS = {
    "nl": "Uw Postvak-code is {code}. Hij is {minutes} minuten geldig. "
    "Niet zelf aangevraagd? Negeer dit bericht.",
    "en": "Your Postvak code is {code}. It is valid for {minutes} minutes. "
    "Did not ask for it? Ignore this message.",
}


def phone_code_sms(code: PhoneCode) -> str:
    """One short SMS, without links (a link in an SMS is what phishing looks like)."""
    return _SMS.get(code.language, _SMS["nl"]).format(code=code.code, minutes=_MINUTES)
