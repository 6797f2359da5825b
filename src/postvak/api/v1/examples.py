"""Request examples of the OpenAPI document: messages as Dutch government organisations send them.

The BSNs are test numbers from the 9999… range: they pass the elfproef and belong to no one.
"""

from __future__ import annotations

from typing import Any

from postvak.messages.schemas import (
    ACTION_EXAMPLE,
    ATTACHMENT_ID_EXAMPLE,
    BODY_EXAMPLE,
    MESSAGE_TYPE_EXAMPLE,
    NOTIFICATION_EXAMPLE,
    RECIPIENT_EXAMPLE,
    REFERENCE_EXAMPLE,
    SUBJECT_EXAMPLE,
)

Examples = dict[str, dict[str, Any]]

LETTER: dict[str, Any] = {
    "recipient": RECIPIENT_EXAMPLE,
    "senderReference": REFERENCE_EXAMPLE,
    "messageType": MESSAGE_TYPE_EXAMPLE,
    "subject": SUBJECT_EXAMPLE,
    "body": BODY_EXAMPLE,
    "dueDate": "2027-03-31",
    "action": ACTION_EXAMPLE,
    "confirmationRequired": False,
    "sensitive": False,
    "publishAt": "2027-01-05T07:00:00Z",
    "paperFallback": "if-unreachable",
    "notification": NOTIFICATION_EXAMPLE,
    "attachments": [{"attachmentId": ATTACHMENT_ID_EXAMPLE, "fileName": "aanslag-2027.pdf"}],
}

_MUNICIPAL_TAX = {
    "messageType": "aanslag-gemeentelijke-belastingen",
    "subject": "Aanslag gemeentelijke belastingen 2027",
    "body": (
        "Geachte bewoner,\n\nHierbij ontvangt u de aanslag onroerendezaakbelasting en afvalstoffenheffing "
        "2027. U betaalt in tien termijnen; de eerste vervalt op 28 februari 2027.\n\n"
        "Met vriendelijke groet,\n\nGemeente Utrecht"
    ),
    "dueDate": "2027-02-28",
    "action": {"kind": "pay", "label": "Betalen", "url": "https://www.utrecht.nl/belastingen/betalen"},
}

DELIVER_MESSAGE: Examples = {
    "assessment": {
        "summary": "A provisional assessment to pay, published at 08:00 Dutch time, printed if unreachable",
        "value": LETTER,
    },
    "minimal": {
        "summary": "Only what every letter needs",
        "value": {
            "recipient": RECIPIENT_EXAMPLE,
            "senderReference": "WMO-2027-004711",
            "subject": "Besluit op uw aanvraag huishoudelijke hulp",
            "body": "Geachte mevrouw De Vries,\n\nUw aanvraag is toegekend. Zie het besluit in de bijlage.",
        },
    },
}

DELIVER_MESSAGE_BATCH: Examples = {
    "mailing": {
        "summary": "Two letters of one municipal tax mailing",
        "value": {
            "messages": [
                {"recipient": RECIPIENT_EXAMPLE, "senderReference": "OZB-2027-0000001", **_MUNICIPAL_TAX},
                {
                    "recipient": {"type": "BSN", "value": "999990019"},
                    "senderReference": "OZB-2027-0000002",
                    **_MUNICIPAL_TAX,
                },
            ]
        },
    }
}

SET_MESSAGE_TYPE_SETTING: Examples = {
    "two-weeks": {
        "summary": "Remind an unread letter of this type after two weeks",
        "value": {"unreadReminderDays": 14},
    }
}

CREATE_WEBHOOK_ENDPOINT: Examples = {
    "chosen-types": {
        "summary": "Only the events that need follow-up",
        "value": {
            "url": "https://hooks.gemeente.example.nl/postvak",
            "eventTypes": ["read", "confirmed", "never-read", "unreachable"],
        },
    },
    "every-type": {
        "summary": "Every event type, also types added later",
        "value": {"url": "https://hooks.gemeente.example.nl/postvak"},
    },
}

UPLOAD_ATTACHMENT: Examples = {
    "pdf": {
        "summary": "A PDF file: its raw bytes (only the first are shown)",
        "value": "%PDF-1.7\n%âãÏÓ\n1 0 obj\n",
    }
}

CHECK_REACHABILITY: Examples = {
    "before-a-mailing": {
        "summary": "Before a mailing: which recipients need a letter on paper?",
        "value": {
            "recipients": [
                {"type": "BSN", "value": "999993653"},
                {"type": "BSN", "value": "999990019"},
                {"type": "BSN", "value": "999990020"},
            ]
        },
    }
}
