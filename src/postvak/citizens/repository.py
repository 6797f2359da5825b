"""Every query about mailboxes."""

import uuid
from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from postvak.citizens.models import Mailbox
from postvak.kit import clock
from postvak.kit.ids import new_id
from postvak.kit.sql import insert_ignoring_conflicts

RecipientKey = tuple[str, str]


def ensure_mailboxes(session: Session, recipients: Iterable[RecipientKey]) -> dict[RecipientKey, Mailbox]:
    """The mailbox of every recipient, created where there was none (in this transaction)."""
    keys = sorted(set(recipients))
    if not keys:
        return {}
    now = clock.now()
    insert_ignoring_conflicts(
        session,
        Mailbox.__table__,
        [{"id": new_id(), "recipient_type": t, "recipient_value": v, "created_at": now} for t, v in keys],
        ["recipient_type", "recipient_value"],
    )
    found: dict[RecipientKey, Mailbox] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        query = select(Mailbox).where(tuple_(Mailbox.recipient_type, Mailbox.recipient_value).in_(chunk))
        found.update({(m.recipient_type, m.recipient_value): m for m in session.scalars(query)})
    return found


def get_mailbox(session: Session, mailbox_id: uuid.UUID) -> Mailbox | None:
    return session.get(Mailbox, mailbox_id)
