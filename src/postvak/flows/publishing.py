"""Publishing a scheduled letter at its publishAt: into its mailbox, and its reader told."""

from sqlalchemy.orm import Session

from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import service as messages
from postvak.notifications import service as notifications


def publish_scheduled_letter(session: Session, payload: dict) -> None:
    """The `publish-message` job: deliver the scheduled letter into its mailbox and queue its notification
    (when its mailbox is activated); running it twice changes nothing."""
    message_id, now = parse_id(payload["messageId"]), clock.now()
    event = messages.publish_scheduled(session, message_id=message_id, now=now)
    if event is None:
        return
    inbox.file_stored_letters(session, message_ids=[message_id], now=now)
    if event == "delivered":
        notifications.notify_delivered(session, [message_id], now)
