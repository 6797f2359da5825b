"""Every query of statements: counts over the event history and the notification records of one sender.

Billing owns no table; it names those of messages and notifications here, in its own queries (a domain
may name another's tables, never import its repository), and writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postvak.billing.rules import Usage
from postvak.messages.models import Message, MessageEvent
from postvak.notifications.models import Notification

ACCEPTED, PRINTED = "accepted", "fallback-printed"
EMAIL, SMS = "email", "sms"


def usage_of(session: Session, sender_id: uuid.UUID, starts_at: datetime, ends_at: datetime) -> Usage:
    """What `sender_id` used in [starts_at, ends_at): three small aggregate queries.

    - letters: `accepted` events (a letter is counted in the month it was accepted, whatever happened
      to it afterwards: scheduled, delivered, unreachable or printed);
    - prints: `fallback-printed` events;
    - e-mails: sends recorded for the sender's letters. One e-mail is one send: a digest that tells a
      citizen of three of this sender's letters is recorded once per letter, with the e-mail's shared
      Message-ID and moment, and counts once; it counts once for every other sender it names too;
    - SMS: text messages handed to the provider for the sender's letters, reminders included, whether
      or not the phone company reported them delivered (each is paid for).
    """
    in_month = (MessageEvent.at >= starts_at) & (MessageEvent.at < ends_at)
    events = dict(
        session.execute(
            select(MessageEvent.type, func.count())
            .where(MessageEvent.sender_id == sender_id, MessageEvent.type.in_([ACCEPTED, PRINTED]), in_month)
            .group_by(MessageEvent.type)
        ).all()
    )
    email_sends = _sent(sender_id, EMAIL, starts_at, ends_at).distinct().subquery()
    sms_sends = _sent(sender_id, SMS, starts_at, ends_at).subquery()  # every record is one text message
    email_count = session.scalar(select(func.count()).select_from(email_sends)) or 0
    sms_count = session.scalar(select(func.count()).select_from(sms_sends)) or 0
    return Usage(
        letters=events.get(ACCEPTED, 0), emails=email_count, sms=sms_count, prints=events.get(PRINTED, 0)
    )


def _sent(sender_id: uuid.UUID, channel: str, starts_at: datetime, ends_at: datetime):
    """(reference, moment) of each record of a send on `channel` about the sender's letters in the period.
    The records of one digest share both; two sends never do."""
    return (
        select(Notification.reference, Notification.sent_at)
        .join(Message, Message.id == Notification.message_id)
        .where(
            Message.sender_id == sender_id,
            Notification.channel == channel,
            Notification.sent_at >= starts_at,
            Notification.sent_at < ends_at,
        )
    )
