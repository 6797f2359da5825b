"""Publishing a scheduled message at its publishAt: into its mailbox, and its reader told (or, unreachable,
printed when its sender asked for that)."""

from sqlalchemy.orm import Session

from postvak.inbox import service as inbox
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import service as messages
from postvak.notifications import service as notifications
from postvak.printing import service as printing


def publish_scheduled_message(session: Session, payload: dict) -> None:
    """The `publish-message` job: deliver the scheduled message into its mailbox and queue its notification
    (when its mailbox is activated) or its printing (when not, and its sender chose `if-unreachable`);
    running it twice changes nothing."""
    message_id, now = parse_id(payload["messageId"]), clock.now()
    event = messages.publish_scheduled_message(session, message_id=message_id, now=now)
    if event is None:
        return
    inbox.file_stored_messages(session, message_ids=[message_id], now=now)
    if event == "delivered":
        notifications.notify_new_messages(session, message_ids=[message_id], now=now)
    else:
        printing.plan_fallback_print(
            session, message_ids=[message_id], paper_fallback="if-unreachable", now=now
        )
