"""The end of a message's dueDate: `never-confirmed` and `never-read` for what its reader did not do by then,
and its printing when its sender chose paper for a message still unread."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy.orm import Session

from postvak.jobs import service as jobs
from postvak.jobs.models import NewJob
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import history
from postvak.messages import rules as message_rules
from postvak.printing import service as printing

DUE_DATE_JOB = "due-date-end"
UNREAD_FALLBACK = "if-unread-by-due-date"


class DueMessage(NamedTuple):
    """What the end of a message's dueDate needs to know of it; fixed when it is sent, as a message never
    changes."""

    message_id: uuid.UUID
    due_date: date
    confirmation_required: bool
    paper_fallback: str


def plan_due_date_ends(session: Session, *, messages: Sequence[DueMessage]) -> None:
    """Queue, in the transaction that stores these messages, the job that ends each one's dueDate (one per
    message: its key is the message's)."""
    jobs.enqueue_many(
        session,
        jobs=[
            NewJob(
                DUE_DATE_JOB,
                f"{DUE_DATE_JOB}:{m.message_id}",
                {
                    "messageId": str(m.message_id),
                    "confirmationRequired": m.confirmation_required,
                    "paperFallback": m.paper_fallback,
                },
                message_rules.due_date_end(m.due_date),
            )
            for m in messages
        ],
    )


def end_due_date(session: Session, payload: dict) -> None:
    """The `due-date-end` job, at the end of the message's dueDate (Dutch time): what its history says then
    decides (messages.rules.due_date_events); a message that gets `never-read` and asked for paper when
    unread is queued for print. Running it again, or late, adds nothing twice."""
    message_id = parse_id(str(payload.get("messageId")))
    found = history.events_of(session, message_ids=[message_id]).get(message_id) if message_id else None
    if not found:
        return
    decided = message_rules.due_date_events(
        [e.type for e in found], confirmation_required=bool(payload.get("confirmationRequired"))
    )
    now, first = clock.now(), found[0]
    added = history.append_allowed(
        session, events=[history.Event(first.message_id, first.sender_id, kind, now) for kind in decided]
    )
    if payload.get("paperFallback") == UNREAD_FALLBACK and any(e.type == "never-read" for e in added):
        # Queued, not printed here: a message read before the print job claims it is not printed after all.
        printing.plan_fallback_print(
            session, message_ids=[first.message_id], paper_fallback=UNREAD_FALLBACK, now=now
        )
