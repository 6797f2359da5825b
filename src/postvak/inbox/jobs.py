"""Background work of the inbox: purging messages that have been in the bin for 30 days."""

from sqlalchemy.orm import Session

from postvak.inbox import service
from postvak.inbox.service import PURGE_JOB
from postvak.kit.ids import parse_id

__all__ = ["PURGE_JOB", "purge_bin"]


def purge_bin(session: Session, payload: dict) -> None:
    """Purge what is due in one mailbox's bin; a message restored meanwhile is left alone. Idempotent."""
    mailbox_id = parse_id(payload.get("mailboxId", ""))
    if mailbox_id is not None:
        service.purge_expired_messages(session, mailbox_id=mailbox_id)
