"""The notification texts: who, what, by when and a link; never the letter; safe headers and HTML."""

import re
from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postvak.kit.mail import build_message
from postvak.notifications.content import (
    SMS_LIMIT,
    DigestEntry,
    Notice,
    digest_mail,
    notice_mail,
    notice_sms,
)
from postvak.notifications.rules import MessageSummary

SENDER = "Postvak <noreply@postvak.example>"
LINK = "https://postvak.example/letters/0b7e6a52-3c1d-4f4e-9a57-2f1d2c3b4a5e"
SETTINGS = "https://postvak.example/settings"
INBOX = "https://postvak.example/letters"
TO = ("anna@example.nl",)
MESSAGE_ID = "<notify.m-1.email@postvak.example>"
TAX = MessageSummary(
    "Gemeente Utrecht",
    "Aanslag gemeentelijke belastingen 2027",
    "pay",
    date(2027, 3, 31),
    False,
    "Betaal in één keer of in 10 termijnen.\nVragen? Bel 14 030.",
)
SECRET = MessageSummary(
    "Gemeente Utrecht", "Schuldhulpverlening", "respond", date(2027, 3, 31), True, "Persoonlijk"
)
HEADERS = {"From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"}


def notice(summary: MessageSummary = TAX, reason: str = "new", language: str = "nl") -> Notice:
    return Notice(reason, summary, LINK, SETTINGS, language)


def parsed(mail):
    return message_from_bytes(build_message(mail, sender=SENDER).as_bytes(), policy=policy.default)


def everything(mail) -> str:
    return "\n".join((mail.subject, mail.text, mail.html))


def test_the_dutch_mail_says_who_what_what_to_do_and_by_when():
    mail = notice_mail(notice(), TO, MESSAGE_ID)
    assert mail.subject == (
        "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027 — betalen vóór 31 maart 2027"
    )
    for part in (mail.text, mail.html):
        for words in (
            "Gemeente Utrecht",
            "Aanslag gemeentelijke belastingen 2027",
            "betalen",
            "31 maart 2027",
        ):
            assert words in part
        assert LINK in part and SETTINGS in part
        assert "bevat de brief zelf niet" in part
        assert "nooit per e-mail om een wachtwoord of code" in part
    assert 'lang="nl"' in mail.html
    assert mail.to == TO and mail.message_id == MESSAGE_ID


def test_the_english_mail_says_the_same_in_english():
    mail = notice_mail(notice(language="en"), TO, MESSAGE_ID)
    assert (
        mail.subject == "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027 — pay before 31 March 2027"
    )
    assert "What you need to do: pay" in mail.text and "Deadline: 31 March 2027" in mail.text
    for part in (mail.text, mail.html):
        assert "31 March 2027" in part and LINK in part
        assert "does not contain the letter itself" in part
        assert "never asks for a password or code by e-mail" in part
    assert 'lang="en"' in mail.html


def test_an_unknown_language_is_dutch():
    assert notice_mail(notice(language="de"), TO, MESSAGE_ID) == notice_mail(notice(), TO, MESSAGE_ID)
    assert notice_sms(notice(language="de")) == notice_sms(notice())


def test_a_letter_without_action_or_deadline_says_neither():
    plain = replace(TAX, action_kind=None, due_date=None, custom_text=None)
    mail = notice_mail(notice(plain), TO, MESSAGE_ID)
    assert mail.subject == "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027"
    assert "Wat moet u doen" not in mail.text and "Uiterste datum" not in mail.text


@pytest.mark.parametrize("reason", ["new", "unread", "due-date"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_sensitive_letter_is_generic_everywhere(reason, language):
    mail = notice_mail(notice(SECRET, reason, language), TO, MESSAGE_ID)
    sms = notice_sms(notice(SECRET, reason, language))
    for part in (everything(mail), sms):
        assert "Gemeente Utrecht" in part and LINK in part
        for secret in ("Schuldhulpverlening", "Persoonlijk", "31", "2027", "reageren", "respond"):
            assert secret not in part
    generic = {"nl": "bericht van Gemeente Utrecht", "en": "message from Gemeente Utrecht"}[language]
    assert generic in mail.text and generic in mail.html and generic in sms


def test_the_senders_own_text_is_quoted_and_attributed():
    mail = notice_mail(notice(), TO, MESSAGE_ID)
    assert (
        "Gemeente Utrecht schrijft:\n> Betaal in één keer of in 10 termijnen.\n> Vragen? Bel 14 030."
        in mail.text
    )
    assert "<blockquote" in mail.html and "Betaal in één keer of in 10 termijnen.<br>Vragen?" in mail.html


def test_the_senders_own_text_is_escaped_and_loses_its_control_characters():
    summary = replace(TAX, custom_text='<script>alert("x")</script>\x1b[31m\x00red\r\nok\u202e')
    mail = notice_mail(notice(summary), TO, MESSAGE_ID)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in mail.html
    for part in (mail.text, mail.html):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e]", part)
        assert "[31m red" in part
    assert "\n> ok\n" in mail.text


def test_the_senders_own_text_is_cut_at_500_characters():
    summary = replace(TAX, custom_text="a" * 499 + "bc")
    mail = notice_mail(notice(summary), TO, MESSAGE_ID)
    assert "a" * 499 + "b" in mail.text and "a" * 499 + "bc" not in mail.text


def test_reminders_say_unread_or_that_the_deadline_is_near():
    unread = notice_mail(notice(reason="unread"), TO, MESSAGE_ID)
    assert unread.subject.startswith("Herinnering: Gemeente Utrecht: Aanslag")
    assert "nog niet gelezen" in unread.text and "laatste herinnering" not in unread.text
    due = notice_mail(notice(reason="due-date"), TO, MESSAGE_ID)
    assert due.subject.startswith("Herinnering: ")
    assert "Over een paar dagen is de uiterste datum van deze brief: 31 maart 2027" in due.text
    assert "laatste herinnering" in due.text and "laatste herinnering" in due.html
    english = notice_mail(notice(reason="due-date", language="en"), TO, MESSAGE_ID)
    assert english.subject.startswith("Reminder: ")
    assert "deadline of this letter is in a few days: 31 March 2027" in english.text
    assert (
        "not read this letter yet" in notice_mail(notice(reason="unread", language="en"), TO, MESSAGE_ID).text
    )


def test_the_mail_is_text_with_an_html_alternative_without_images_or_other_links():
    mail = notice_mail(notice(), TO, MESSAGE_ID)
    message = parsed(mail)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == MESSAGE_ID and message["To"] == "anna@example.nl"
    html = message.get_body(("html",)).get_content()
    assert html.startswith("<!doctype html>") and "<head>" in html
    for forbidden in ("<img", "<link", "<script", "url(", "src=", "@import", "<style", "background-image"):
        assert forbidden not in html.lower()
    assert set(re.findall(r'href="([^"]*)"', html)) == {LINK, SETTINGS}
    assert set(re.findall(r"https?://[^\s<\"]+", mail.text + html)) == {LINK, SETTINGS}


def test_the_digest_lists_the_letters_with_their_links():
    letters = [
        DigestEntry(
            replace(TAX, subject="Nieuwsbrief voorjaar", action_kind=None, due_date=None), LINK + "1"
        ),
        DigestEntry(replace(SECRET, sender_name="Waterschap Vallei"), LINK + "2"),
        DigestEntry(replace(TAX, sender_name="Belastingdienst", subject="Jaaroverzicht <2026>"), LINK + "3"),
    ]
    mail = digest_mail(
        letters, to=TO, message_id=MESSAGE_ID, language="nl", inbox_link=INBOX, settings_link=SETTINGS
    )
    assert mail.subject == "Postvak: 3 nieuwe brieven"
    assert "- Gemeente Utrecht: Nieuwsbrief voorjaar\n  " + LINK + "1" in mail.text
    assert "U hebt een nieuw bericht van Waterschap Vallei" in mail.text
    assert "Schuldhulpverlening" not in everything(mail)
    assert "Jaaroverzicht &lt;2026&gt;" in mail.html
    assert set(re.findall(r'href="([^"]*)"', mail.html)) == {
        LINK + "1",
        LINK + "2",
        LINK + "3",
        INBOX,
        SETTINGS,
    }
    assert "bevat de brieven zelf niet" in mail.text and "wachtwoord of code" in mail.html
    assert [part.get_content_type() for part in parsed(mail).iter_parts()] == ["text/plain", "text/html"]


def test_a_digest_of_one_letter_is_singular():
    one = [DigestEntry(TAX, LINK)]
    dutch = digest_mail(
        one, to=TO, message_id=MESSAGE_ID, language="nl", inbox_link=INBOX, settings_link=SETTINGS
    )
    english = digest_mail(
        one, to=TO, message_id=MESSAGE_ID, language="en", inbox_link=INBOX, settings_link=SETTINGS
    )
    assert dutch.subject == "Postvak: 1 nieuwe brief" and "Er is 1 nieuwe brief" in dutch.text
    assert english.subject == "Postvak: 1 new letter" and "There is 1 new letter" in english.text
    two = digest_mail(
        one * 2, to=TO, message_id=MESSAGE_ID, language="en", inbox_link=INBOX, settings_link=SETTINGS
    )
    assert two.subject == "Postvak: 2 new letters"


def test_an_empty_digest_is_refused():
    with pytest.raises(ValueError):
        digest_mail([], to=TO, message_id=MESSAGE_ID, language="nl", inbox_link=INBOX, settings_link=SETTINGS)


def test_a_crafted_sender_name_cannot_add_a_header():
    evil = replace(TAX, sender_name="Gemeente\r\nBcc: evil@example.com", subject="Aanslag\nX-Evil: 1")
    message = parsed(notice_mail(notice(evil), TO, MESSAGE_ID))
    assert "Bcc" not in message and "X-Evil" not in message
    assert set(message.keys()) == HEADERS
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


def test_an_encoded_word_cannot_add_a_header():
    """Python before 3.11.10 decodes "=?…?=" in a header value and writes the line break back out."""
    evil = replace(
        TAX, sender_name="=?utf-8?q?=0D=0ABcc:_evil@example.com?=", subject="x=?utf-8?b?DQpYLUV2aWw6IDE=?="
    )
    message = parsed(notice_mail(notice(evil), TO, MESSAGE_ID))
    assert set(message.keys()) == HEADERS
    assert "\n" not in message["Subject"]


_NASTY = st.sampled_from(
    ["\r\n", "\n", "\r", "Bcc: evil@example.com", "=?utf-8?q?=0D=0ABcc:_x@y?=", "\x00", "é"]
)
_TEXT = st.lists(st.one_of(st.text(max_size=40), _NASTY), max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(
    sender_name=_TEXT,
    subject=_TEXT,
    custom_text=_TEXT,
    sensitive=st.booleans(),
    reason=st.sampled_from(["new", "unread", "due-date"]),
)
def test_no_text_from_a_sender_breaks_the_headers(sender_name, subject, custom_text, sensitive, reason):
    summary = MessageSummary(sender_name, subject, "pay", date(2027, 3, 31), sensitive, custom_text)
    mail = notice_mail(notice(summary, reason), TO, MESSAGE_ID)
    message = parsed(mail)
    assert set(message.keys()) == HEADERS and len(message.keys()) == len(HEADERS)
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    sms = notice_sms(notice(summary, reason))
    assert len(sms) <= SMS_LIMIT and sms.endswith(" " + LINK)
    assert sms.isprintable()


def test_the_sms_is_one_line_with_the_headline_and_the_link():
    assert notice_sms(notice()) == (
        "Gemeente Utrecht: Aanslag gemeentelijke belastingen 2027 — betalen vóór 31 maart 2027 " + LINK
    )
    assert notice_sms(notice(reason="unread", language="en")).startswith("Reminder: Gemeente Utrecht")
    assert "Betaal" not in notice_sms(notice())


def test_a_long_sms_shortens_the_headline_not_the_link():
    long = replace(TAX, sender_name="Gemeente " + "Zuid" * 40, subject="Onderwerp " * 30)
    sms = notice_sms(notice(long))
    assert len(sms) == SMS_LIMIT and sms.endswith("… " + LINK)
    assert "\n" not in sms


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError):
        notice(reason="reminder")
