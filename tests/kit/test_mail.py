"""Sending e-mail: a real SMTP server on loopback; headers cannot be injected."""

import pytest

from postvak.kit.mail import MailError, OutgoingMail, SmtpServer, build_message, send_mail
from tests.support.process import free_port
from tests.support.smtp import smtp_sink, text_of

SENDER = "Postvak <noreply@postvak.example.nl>"


def test_a_mail_arrives_with_plain_text_and_html():
    with smtp_sink() as sink:
        mail = OutgoingMail("jan@example.nl", "Uw code", "Uw code is 123456.\n", "<p>Uw code is 123456.</p>")
        send_mail(sink.url, mail, sender=SENDER)
        [message] = sink.wait_for(1)
    assert message["Subject"] == "Uw code" and message["From"] == SENDER
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].endswith(
        "@postvak.example.nl>"
    )
    assert "123456" in text_of(message)
    assert "<p>" in message.get_body(preferencelist=("html",)).get_content()
    assert sink.envelopes == [("noreply@postvak.example.nl", ["jan@example.nl"])]


@pytest.mark.parametrize("field", ["to", "subject"])
def test_line_breaks_in_headers_are_refused(field):
    values = {"to": "jan@example.nl", "subject": "Uw code", field: "x@example.nl\r\nBcc: victim@example.nl"}
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        build_message(OutgoingMail(values["to"], values["subject"], "text"), sender=SENDER)


def test_non_ascii_text_is_encoded_properly():
    message = build_message(
        OutgoingMail("jan@example.nl", "Bevestig uw e-mailadres – één code", "Dag Zoë"), sender=SENDER
    )
    assert message["Subject"] == "Bevestig uw e-mailadres – één code"
    assert b"=?utf-8?" in message.as_bytes()


def test_an_unreachable_server_is_a_mail_error():
    with pytest.raises(MailError):
        send_mail(f"smtp://127.0.0.1:{free_port()}", OutgoingMail("a@example.nl", "s", "t"), sender=SENDER)


def test_smtp_urls():
    assert SmtpServer.from_url("smtp://127.0.0.1:1025") == SmtpServer("smtp", "127.0.0.1", 1025)
    assert SmtpServer.from_url("smtps://mail.example.nl").port == 465
    relay = SmtpServer.from_url("smtp+starttls://post%40vak:s%3Acret@mail.example.nl")
    assert (relay.port, relay.username, relay.password) == (587, "post@vak", "s:cret")
    with pytest.raises(ValueError):
        SmtpServer.from_url("http://mail.example.nl")
