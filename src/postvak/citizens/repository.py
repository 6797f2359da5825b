"""Every query about mailboxes."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from postvak.citizens.models import Mailbox
from postvak.kit import clock
from postvak.kit.ids import new_id
from postvak.kit.sql import insert_ignoring_conflicts

RecipientKey = tuple[str, str]  # (recipient type, value)
_CHUNK = 1000


@dataclass(frozen=True)
class MailboxRef:
    id: uuid.UUID
    activated: bool


def ensure_mailboxes(session: Session, recipients: Iterable[RecipientKey]) -> dict[RecipientKey, MailboxRef]:
    """The mailbox of every recipient, created where there was none (in this transaction)."""
    wanted = set(recipients)
    found = _find(session, wanted)
    missing = sorted(wanted - found.keys())
    if missing:
        now = clock.now()
        rows = [
            {"id": new_id(), "recipient_type": t, "recipient_value": v, "created_at": now} for t, v in missing
        ]
        insert_ignoring_conflicts(session, Mailbox.__table__, rows, ["recipient_type", "recipient_value"])
        found.update(_find(session, set(missing)))  # ours, or a concurrent request's
    return found


def _find(session: Session, keys: set[RecipientKey]) -> dict[RecipientKey, MailboxRef]:
    """Looked up per type with `value IN (…)`: a row-value IN list plans badly on PostgreSQL."""
    found: dict[RecipientKey, MailboxRef] = {}
    for kind in {t for t, _ in keys}:
        values = sorted(v for t, v in keys if t == kind)
        for start in range(0, len(values), _CHUNK):
            query = select(Mailbox.id, Mailbox.recipient_value, Mailbox.activated_at).where(
                Mailbox.recipient_type == kind, Mailbox.recipient_value.in_(values[start : start + _CHUNK])
            )
            for mailbox_id, value, activated_at in session.execute(query):
                found[(kind, value)] = MailboxRef(mailbox_id, activated_at is not None)
    return found
