"""Background work of letters: publishing a scheduled letter at its publishAt (and telling its reader)."""

from sqlalchemy.orm import Session

from postvak.inbox import repository as inbox
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import repository, rules
from postvak.notifications import service as notifications


def publish_message(session: Session, payload: dict) -> None:
    """Deliver a scheduled letter into its mailbox; running it twice changes nothing."""
    found = repository.get_message_with_mailbox(session, parse_id(payload["messageId"]))
    if found is None:
        return
    message, mailbox = found
    events = [e.type for e in repository.events_of(session, [message.id])[message.id]]
    if rules.current_status(events) != "scheduled":
        return
    event = rules.delivery_events(scheduled=False, mailbox_activated=mailbox.activated_at is not None)[-1]
    now = clock.now()
    repository.insert_events(
        session, [{"message_id": message.id, "sender_id": message.sender_id, "type": event, "at": now}]
    )
    inbox.file_stored_letters(session, [message.id], now)
    if event == "delivered":
        notifications.notify_delivered(session, [message.id], now)
