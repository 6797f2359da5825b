"""Builders of letters as senders send them, for tests and benchmarks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from postvak.runtime import Runtime
from postvak.senders import service as senders


@dataclass(frozen=True)
class SenderHandle:
    id: uuid.UUID
    key_id: uuid.UUID
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def letter(bsn: str, reference: str, **fields: Any) -> dict[str, Any]:
    """A valid letter; keyword arguments override or add fields (camelCase, as in the API)."""
    return {
        "recipient": {"type": "BSN", "value": bsn},
        "senderReference": reference,
        "messageType": "aanslag",
        "subject": f"Aanslag gemeentelijke belastingen {reference}",
        "body": "Geachte heer/mevrouw,\n\nHierbij ontvangt u uw **aanslag**.\n",
        **fields,
    }


def register(
    runtime: Runtime, name: str = "Gemeente Testdorp", oin: str = "00000001002220647000"
) -> SenderHandle:
    with runtime.database.unit_of_work() as session:
        sender = senders.register_sender(session, name=name, oin=oin, kind="municipality")
        key = senders.issue_api_key(session, sender_id=sender.id)
    return SenderHandle(sender.id, key.id, key.api_key)
