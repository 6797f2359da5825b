"""Demo data: organisations with API keys, citizens who can log in, and letters (test BSNs only)."""

from __future__ import annotations

import base64
import io
import secrets
from datetime import timedelta

import pikepdf

from postvak.auth.passwords import hasher_for
from postvak.citizens import service as citizens
from postvak.flows import activation
from postvak.flows.delivery import deliver_messages
from postvak.kit import clock
from postvak.kit.bsn import is_valid_bsn
from postvak.runtime import Runtime
from postvak.senders import service as senders

ORGANISATIONS = [
    ("Belastingdienst", "00000001003214345000", "national"),
    ("Gemeente Utrecht", "00000001002220647000", "municipality"),
    ("Waterschap De Dommel", "00000001823288444000", "water-board"),
]


# The demo's citizens, one for each of the first mailboxes; the others stay unreachable.
CITIZENS = ["jan.jansen@example.nl", "fatima.el-amrani@example.nl", "kees.de-vries@example.nl"]


# She also gets a text message about new post (a number from the range kept for fiction).
SMS_CITIZEN, SMS_NUMBER = CITIZENS[1], "+31612345678"


def _add_sms(runtime: Runtime, citizen_id) -> None:
    """A verified number with SMS notifications on, as the settings page would leave it."""
    with runtime.database.unit_of_work() as session:
        code = citizens.request_phone_code(
            session, keyring=runtime.keyring, citizen_id=citizen_id, number=SMS_NUMBER
        )
    with runtime.database.unit_of_work() as session:
        citizens.verify_phone_code(session, keyring=runtime.keyring, citizen_id=citizen_id, code=code.code)
        citizens.set_sms_notifications(session, citizen_id=citizen_id, on=True)


def demo_bsns(count: int) -> list[str]:
    """BSNs from the 9999… range reserved for testing; never a real person's number."""
    return [b for b in (f"9999{n:05d}" for n in range(2000)) if is_valid_bsn(b)][:count]


def letter_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A4 letter with plain text, made with pikepdf (no active content)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    text = [f"BT /F1 18 Tf 72 770 Td ({_pdf_text(title)}) Tj ET"]
    for n, line in enumerate(lines):
        text.append(f"BT /F1 11 Tf 72 {730 - 16 * n} Td ({_pdf_text(line)}) Tj ET")
    page = pikepdf.Page(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, 595, 842],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pdf.make_stream("\n".join(text).encode("latin-1")),
        )
    )
    pdf.pages.append(page)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _pdf_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("(", "\\(")
        .replace(")", "\\)")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def _letters(org: str, bsns: list[str]) -> list[dict]:
    today = clock.now().date()
    due = (today + timedelta(days=45)).isoformat()
    if org == "Belastingdienst":
        pdf = letter_pdf(
            "Voorlopige aanslag inkomstenbelasting 2027",
            [
                "Geachte heer/mevrouw,",
                "",
                "Hierbij ontvangt u uw voorlopige aanslag.",
                "Te betalen: EUR 1.234,00 in 11 termijnen.",
                "",
                "Belastingdienst",
            ],
        )
        return [
            {
                "recipient": {"type": "BSN", "value": bsn},
                "senderReference": f"IB-2027-{n:06d}",
                "messageType": "voorlopige-aanslag",
                "subject": "Voorlopige aanslag inkomstenbelasting 2027",
                "body": "Geachte heer/mevrouw,\n\nIn de bijlage vindt u uw **voorlopige aanslag** "
                "inkomstenbelasting 2027.\n\nMet vriendelijke groet,\n\nBelastingdienst",
                "dueDate": due,
                "action": {
                    "kind": "pay",
                    "label": "Betalen",
                    "url": f"https://betalen.example.nl/IB-2027-{n:06d}",
                },
                "attachments": [
                    {
                        "fileName": "voorlopige-aanslag-2027.pdf",
                        "mediaType": "application/pdf",
                        "content": base64.b64encode(pdf).decode(),
                    }
                ],
            }
            for n, bsn in enumerate(bsns)
        ]
    if org == "Gemeente Utrecht":
        return [
            {
                "recipient": {"type": "BSN", "value": bsn},
                "senderReference": f"WOZ-2027-{n:06d}",
                "messageType": "aanslag-gemeentelijke-belastingen",
                "subject": "Aanslag gemeentelijke belastingen 2027",
                "body": "Geachte heer/mevrouw,\n\nDe WOZ-waarde van uw woning is vastgesteld. "
                "Bent u het er niet mee eens? Maak dan binnen zes weken bezwaar.\n",
                "dueDate": due,
                "confirmationRequired": True,
                "action": {
                    "kind": "respond",
                    "label": "Bezwaar maken",
                    "url": "https://bezwaar.utrecht.example.nl",
                },
            }
            for n, bsn in enumerate(bsns)
        ]
    return [
        {
            "recipient": {"type": "BSN", "value": bsn},
            "senderReference": f"WS-2027-{n:06d}",
            "messageType": "informatie",
            "subject": "Werkzaamheden aan de dijk in uw buurt",
            "body": "Beste bewoner,\n\nVan maart tot juni werken wij aan de dijk. *U hoeft niets te doen.*\n",
            "action": {"kind": "info", "label": "Meer informatie", "url": "https://dommel.example.nl/dijk"},
        }
        for n, bsn in enumerate(bsns)
    ]


def seed_demo(runtime: Runtime) -> list[str]:
    """Create the demo citizens, register the organisations, deliver their letters; return lines to print.

    The citizens come first, so that letters to them are delivered rather than unreachable.
    """
    bsns = demo_bsns(5)
    lines = [f"Demo citizens (log in at {runtime.settings.base_url} with username and password, then a code"]
    lines.append("from an authenticator app with this TOTP secret; passwords are new on every demo start):")
    for email, bsn in zip(CITIZENS, bsns, strict=False):
        password = _demo_password()
        with runtime.database.unit_of_work() as session:
            citizen, secret = activation.register_citizen(
                session,
                keyring=runtime.keyring,
                bsn=bsn,
                email=email,
                password=password,
                hasher=hasher_for(runtime.settings),
            )
        lines.append(f"  {citizen.username:28} password {password}  TOTP secret {secret}")
        if email == SMS_CITIZEN:
            _add_sms(runtime, citizen.id)
    lines.append("Demo organisations (API keys are shown only now):")
    for name, oin, kind in ORGANISATIONS:
        with runtime.database.unit_of_work() as session:
            sender = senders.register_sender(session, name=name, oin=oin, kind=kind)
            key = senders.issue_api_key(session, sender_id=sender.id)
        outcomes = deliver_messages(runtime, sender=sender, items=_letters(name, bsns))
        created = sum(o.outcome == "created" for o in outcomes)
        lines.append(f"  {name:22} OIN {oin}  API key {key.api_key}  ({created} letters delivered)")
    lines.append(
        f"Demo mailboxes: {len(bsns)} test citizens (BSNs 9999…); {len(CITIZENS)} have the log-ins above;"
        f" {SMS_CITIZEN} also gets text messages (they appear in this log)."
    )
    lines.append("Try it (with the last key above):")
    lines.append(
        f"  curl -s {runtime.settings.base_url}/api/v1/events -H 'Authorization: Bearer {key.api_key}'"
    )
    return lines


def _demo_password() -> str:
    """Three groups of six characters: 72 random bits, easy to type from the console."""
    return "-".join(secrets.token_hex(3) for _ in range(3))
