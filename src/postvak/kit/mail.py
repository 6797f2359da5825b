"""Sending e-mail: over SMTP on a reusable connection, or into a directory; no header injection."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from postvak.kit import clock

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(Exception):
    """The SMTP server could not be reached or refused the message; the caller may retry."""


@dataclass(frozen=True)
class OutgoingMail:
    to: str | tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None  # "<…@…>"; made up when None. A resend keeps its Message-ID.


@dataclass(frozen=True)
class SmtpServer:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """`smtp://host:port` (plain, e.g. a local relay), `smtp+starttls://…` or `smtps://…`,
        optionally with `user:password@` before the host."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://host:port, smtp+starttls://… or smtps://…")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


# The compat32 classes of the email package: building and writing a message with them costs a
# fraction of EmailMessage's header parsing, which a mass mailing would otherwise spend its CPU on.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # bodies stay readable as text
# Lines up to RFC 5322's 998 characters: a Message-ID or address is then never folded onto a line of
# its own, which some readers keep the leading space of.
_POLICY = compat32.clone(max_line_length=998)
_WIRE = _POLICY.clone(linesep="\r\n")  # smtplib sends bytes as they are: lines must end in CRLF


def build_message(mail: OutgoingMail, *, sender: str) -> Message:
    """The MIME message: plain text, with an HTML alternative when there is one.

    A header value with CR or LF is refused (ValueError), so an address or subject can never
    smuggle in a Bcc: header; non-ASCII values are RFC 2047 encoded words."""
    to = mail.to if isinstance(mail.to, str) else ", ".join(mail.to)
    for value in (sender, to, mail.subject, mail.message_id or ""):
        if "\r" in value or "\n" in value:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
    message: Message = MIMEText(mail.text, "plain", _UTF8, policy=_POLICY)
    if mail.html is not None:
        html = MIMEText(mail.html, "html", _UTF8, policy=_POLICY)
        message = MIMEMultipart("alternative", _subparts=[message, html], policy=_POLICY)
    message["From"] = sender
    message["To"] = _header(to)
    message["Subject"] = _header(mail.subject)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = mail.message_id or make_msgid(domain=mail_domain(sender))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    return message


def _header(value: str) -> str | Header:
    value = _no_encoded_words(value)
    return value if value.isascii() else Header(value, _UTF8, maxlinelen=998)


def _no_encoded_words(value: str) -> str:
    """Python before 3.11.10 decodes an RFC 2047 word such as `=?utf-8?q?=0D=0ABcc:…?=` in a header
    value and writes the line break it holds (CVE-2024-6923): no value we set may carry one."""
    return value.replace("=?", "= ?")


def mail_domain(sender: str) -> str:
    """The domain of the From address ("Postvak <noreply@postvak.nl>" → "postvak.nl")."""
    return sender.rpartition("@")[2].strip("> ") or "postvak.invalid"


def send_mail(mail_url: str, mail: OutgoingMail, *, sender: str, timeout: float = 10.0) -> None:
    """Send one e-mail on a connection of its own (account mails); notifications keep theirs open."""
    with open_transport(mail_url, sender=sender, timeout=timeout) as transport:
        transport.send(mail)


class MailRefused(MailError):
    """The server answered the message with an error code; `permanent` for 5xx (never retry)."""

    def __init__(self, code: int, enhanced: str, *, permanent: bool) -> None:
        self.code = code
        self.permanent = permanent
        # Only the codes: the server's text often repeats the address, which is personal data.
        super().__init__(f"SMTP {code} {enhanced}".strip())


class MailTransport(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Hand over one e-mail; raises MailRefused (an answer) or MailError (no answer)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> MailTransport: ...

    def __exit__(self, *exc: object) -> None: ...


def open_transport(mail_url: str, *, sender: str, timeout: float = 10.0) -> MailTransport:
    """`smtp…://` URLs send through a server; `file:///dir` drops .eml files there (development, demo)."""
    if mail_url.startswith("file:"):
        return MailDrop(Path(unquote(urlsplit(mail_url).path)), sender=sender)
    return SmtpConnection(SmtpServer.from_url(mail_url), sender=sender, timeout=timeout)


class _Closing:
    def close(self) -> None: ...

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SmtpConnection(_Closing):
    """One SMTP connection, opened on the first send and reused for the next ones (a mass mailing
    then costs one handshake per thousands of mails); reopened after the server drops it."""

    def __init__(self, server: SmtpServer, *, sender: str, timeout: float = 10.0) -> None:
        self.server = server
        self.sender = sender
        self.timeout = timeout
        self.envelope_from = parseaddr(sender)[1]
        self._client: smtplib.SMTP | None = None

    def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, sender=self.sender).as_bytes(policy=_WIRE)
        recipients = [mail.to] if isinstance(mail.to, str) else list(mail.to)
        for attempt in (1, 2):
            try:
                self._connected().sendmail(self.envelope_from, recipients, message)
                return
            except smtplib.SMTPServerDisconnected as exc:
                self.close()  # the server may drop an idle or long-used connection: one fresh try
                if attempt == 2:
                    raise MailError("the SMTP server closed the connection") from exc
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                worst = min(codes)  # a 4xx for any address means: try again later
                raise MailRefused(
                    worst, _enhanced(exc.recipients[next(iter(exc.recipients))][1]), permanent=worst >= 500
                ) from None
            except (smtplib.SMTPNotSupportedError, UnicodeEncodeError):
                # An address beyond ASCII for a server without SMTPUTF8: RFC 6531's 5.6.7, for good.
                self._reset()
                raise MailRefused(553, "5.6.7", permanent=True) from None
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise MailRefused(
                    exc.smtp_code, _enhanced(exc.smtp_error), permanent=exc.smtp_code >= 500
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise MailError(f"the e-mail could not be sent: {type(exc).__name__}") from exc

    def _connected(self) -> smtplib.SMTP:
        if self._client is None:
            server = self.server
            if server.scheme == "smtps":
                client = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
            try:
                if server.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if server.username:
                    client.login(server.username, server.password or "")
            except BaseException:
                client.close()
                raise
            self._client = client
        return self._client

    def _reset(self) -> None:
        """After a refused message the connection stays usable once the transaction is reset."""
        try:
            if self._client is not None:
                self._client.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


class MailDrop(_Closing):
    """Writes each e-mail as an .eml file into a directory instead of sending it."""

    def __init__(self, directory: Path, *, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, sender=self.sender)
        name = re.sub(r"[^A-Za-z0-9.@-]", "_", str(message["Message-ID"]).strip("<>"))[:150]
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes())
            temporary.replace(self.directory / f"{name}.eml")  # a resend replaces, never doubles
        except OSError as exc:
            raise MailError(f"the e-mail could not be written: {type(exc).__name__}") from exc


def _enhanced(text: bytes | str) -> str:
    """The enhanced status code ("5.1.1") at the start of an SMTP answer, if any."""
    raw = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    found = re.match(r"\s*([245]\.\d{1,3}\.\d{1,3})\b", raw)
    return found.group(1) if found else ""
