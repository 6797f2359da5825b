"""Sending e-mail: a real SMTP server on loopback; headers cannot be injected."""

import email
from email.policy import default

import pytest

from postvak.kit.mail import (
    MailError,
    MailRefused,
    OutgoingMail,
    SmtpConnection,
    SmtpServer,
    build_message,
    open_transport,
    send_mail,
)
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


def test_an_encoded_word_cannot_smuggle_in_a_header():
    """CVE-2024-6923: older Pythons write out the line break an RFC 2047 word decodes to."""
    evil = "=?utf-8?q?=0D=0ABcc:_victim@example.nl?="
    raw = build_message(OutgoingMail("jan@example.nl", f"Uw code {evil}", "text"), sender=SENDER).as_bytes()
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and "victim" not in str(parsed["To"])


def test_non_ascii_text_is_encoded_properly():
    raw = build_message(
        OutgoingMail("jan@example.nl", "Bevestig uw e-mailadres – één code", "Dag Zoë"), sender=SENDER
    ).as_bytes()
    assert b"=?utf-8?" in raw and raw.isascii()
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["Subject"] == "Bevestig uw e-mailadres – één code"
    assert parsed.get_content().strip() == "Dag Zoë"


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


def test_one_connection_carries_many_mails_and_survives_a_refusal():
    with smtp_sink(refuse={"weg@example.nl": "550 5.1.1 <weg@example.nl>: no such user"}) as sink:
        with SmtpConnection(SmtpServer.from_url(sink.url), sender=SENDER) as connection:
            connection.send(OutgoingMail("a@example.nl", "één", "t", message_id="<1@postvak.example.nl>"))
            with pytest.raises(MailRefused) as refused:
                connection.send(OutgoingMail("weg@example.nl", "twee", "t"))
            connection.send(OutgoingMail("b@example.nl", "drie", "t"))
        messages = sink.wait_for(2)
    assert refused.value.permanent and str(refused.value) == "SMTP 550 5.1.1"  # no address in the reason
    assert [m["Subject"] for m in messages] == ["één", "drie"]
    assert messages[0]["Message-ID"] == "<1@postvak.example.nl>"
    assert sink.connections == 1


def test_a_temporary_refusal_is_not_permanent():
    with (
        smtp_sink(refuse={"vol@example.nl": "452 4.2.2 mailbox full"}) as sink,
        pytest.raises(MailRefused) as refused,
    ):
        send_mail(sink.url, OutgoingMail("vol@example.nl", "s", "t"), sender=SENDER)
    assert not refused.value.permanent and refused.value.code == 452


def test_a_mail_drop_keeps_each_message_once(tmp_path):
    mail = OutgoingMail("a@example.nl", "Nieuwe brief", "t", message_id="<new.x.email@postvak.example.nl>")
    with open_transport(f"file://{tmp_path}/mail", sender=SENDER) as drop:
        drop.send(mail)
        drop.send(mail)  # a resend after a crash
    [file] = (tmp_path / "mail").glob("*.eml")
    assert email.message_from_bytes(file.read_bytes(), policy=default)["Subject"] == "Nieuwe brief"


def test_an_address_the_server_cannot_take_is_refused_for_good():
    with smtp_sink() as sink, pytest.raises(MailRefused) as refused:
        send_mail(sink.url, OutgoingMail("zoë@example.nl", "s", "t"), sender=SENDER)
    assert refused.value.permanent and str(refused.value) == "SMTP 553 5.6.7"
