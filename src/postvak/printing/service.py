"""Use cases of the paper fallback: print messages (once), and show the operator those that could not be.

How a message is printed exactly once, whatever crashes when:

1. `print_messages` (called in a transaction of its caller: a job, a flow) writes a print
   record per message. Its primary key is the message id, so a message is claimed once, also
   when two workers ask at the same time; a second request for a message already claimed or
   printed changes nothing. Claimed messages go into a batch (at most MAX_BATCH_MESSAGES) with
   an id of its own and a `print-batch` job — all in the caller's transaction: committed
   before anything is rendered, or not at all.
2. The `print-batch` job (jobs.PrintLane) renders the batch's messages into the provider's
   batch under that same batch id. A rerun after a crash finds the same id and writes the
   same batch again (the provider's half-written batch is thrown away); the rendering is
   deterministic, so the files are the same too.
3. Before handing the batch over, `close_batch` commits its content: messages that must stay
   out (read in the meantime, not renderable) leave the batch with their reason; the rest
   is the batch for good.
4. The provider hands the batch over atomically and remembers that it did (the filesystem
   provider: one rename of a complete folder, and a ledger entry written before it), so
   asking it again for that batch id never hands over a second copy.
5. `mark_batch_printed` then gives each message of the batch `fallback-printed`, in the same
   transaction that finishes the job; a record leaves `claimed` once, so a rerun of this step
   records nothing twice.

A crash before 3 renders again; between 3 and 4 renders the fixed content again; between 4
and 5 the provider answers that the batch is handed over, and only 5 is done. A message
without an address in the register gets `fallback-not-printed` (once, with the reason) and
waits: the operator sees it (`postvak print waiting`) and `print_waiting_messages` tries it
again once the register has its address.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.orm import Session

from postvak.addresses import service as addresses
from postvak.attachments.models import Blob
from postvak.errors import Problem
from postvak.jobs import service as jobs
from postvak.kit import clock
from postvak.kit.crypto import KeyRing
from postvak.kit.ids import new_id, parse_id
from postvak.messages import history
from postvak.messages import rules as message_rules
from postvak.messages.service import open_body
from postvak.printing import repository, rules
from postvak.printing.render import MessageForPrint

PRINT_MESSAGES_JOB = "print-letters"
PRINT_BATCH_JOB = "print-batch"
_DUTCH_TIME = ZoneInfo("Europe/Amsterdam")

log = structlog.get_logger("postvak.printing")


@dataclass
class PrintRequest:
    """What `print_messages` did with each message asked for."""

    batches: list[uuid.UUID] = field(default_factory=list)
    claimed: list[uuid.UUID] = field(default_factory=list)
    waiting_for_address: list[uuid.UUID] = field(default_factory=list)
    not_printed: dict[uuid.UUID, str] = field(default_factory=dict)  # why each other message is not printed


def print_messages(
    session: Session,
    *,
    message_ids: Sequence[uuid.UUID],
    paper_fallback: str | None = None,
    batch_size: int = rules.MAX_BATCH_MESSAGES,
) -> PrintRequest:
    """Claim these messages for print and queue their batches (of `batch_size` at most); in the caller's
    transaction.

    A message is claimed when its history allows `fallback-printed`, its sender did not choose
    `never` (nor, when `paper_fallback` is given, another fallback than that one), and the register
    has its recipient's address. Without an address it waits (and its sender sees why). Messages
    claimed, printed or left out before are not touched again.
    """
    outcome = PrintRequest()
    now = clock.now()
    facts = repository.message_facts(session, message_ids)
    states = repository.record_states(session, facts)
    histories = history.events_of(session, message_ids=sorted(facts))
    known = addresses.find_envelope_addresses(
        session, bsns=[f.recipient_value for f in facts.values() if f.recipient_type == "BSN"]
    )
    to_claim: list[uuid.UUID] = []
    waiting: list[uuid.UUID] = []
    dropped: dict[uuid.UUID, str] = {}  # waited or failed before, and no longer to be printed
    for message_id in sorted(set(message_ids)):
        fact = facts.get(message_id)
        state = states.get(message_id)
        status = message_rules.current_status(e.type for e in histories.get(message_id, []))
        if fact is None:
            outcome.not_printed[message_id] = "no such letter"
        elif state is not None and state not in rules.RETRIED_STATES:
            outcome.not_printed[message_id] = f"already {state}"
        elif reason := rules.why_not_asked(paper_fallback=fact.paper_fallback, asked_for=paper_fallback):
            outcome.not_printed[message_id] = reason  # and a record it has stays as it is
        elif reason := rules.why_not_printable(status=status, paper_fallback=fact.paper_fallback):
            outcome.not_printed[message_id] = reason
            if state is not None:
                dropped[message_id] = reason
        elif fact.recipient_type != "BSN" or fact.recipient_value not in known:
            waiting.append(message_id)
        else:
            to_claim.append(message_id)
    for reason in set(dropped.values()):
        ids = [m for m, r in dropped.items() if r == reason]
        repository.move_records(
            session, ids, from_states=rules.RETRIED_STATES, now=now, state="left-out", detail=reason
        )
    _wait_for_address(session, waiting, facts, states, now, outcome)
    for chunk in rules.batches(to_claim, batch_size):
        _claim(session, chunk, facts, states, now, outcome)
    return outcome


def _wait_for_address(session, waiting, facts, states, now, outcome: PrintRequest) -> None:
    """Records for messages without an address; the first time, the sender learns why (an event)."""
    rows = [
        _record(m, facts[m], "waiting-address", now, detail=rules.NO_ADDRESS)
        for m in waiting
        if m not in states
    ]
    told = repository.insert_records(session, rows)
    told |= repository.move_records(
        session,
        [m for m in waiting if states.get(m) == "failed"],
        from_states=("failed",),
        now=now,
        state="waiting-address",
        detail=rules.NO_ADDRESS,
    )
    outcome.waiting_for_address += [m for m in waiting if m in told or states.get(m) == "waiting-address"]
    _add_events(session, [(m, facts[m].sender_id) for m in waiting if m in told], now, rules.NO_ADDRESS)


def _claim(session, chunk, facts, states, now, outcome: PrintRequest) -> None:
    batch_id = new_id()
    repository.insert_batch(session, batch_id, now)
    fresh = [m for m in chunk if m not in states]
    claimed = repository.insert_records(
        session, [_record(m, facts[m], "claimed", now, batch_id=batch_id) for m in fresh]
    )
    claimed |= repository.move_records(
        session,
        [m for m in chunk if m in states],
        from_states=rules.RETRIED_STATES,
        now=now,
        state="claimed",
        batch_id=batch_id,
        detail=None,
    )
    for message_id in chunk:
        if message_id not in claimed:  # a concurrent request claimed it first
            outcome.not_printed[message_id] = "already claimed"
    if not claimed:
        repository.delete_batch(session, batch_id)
        return
    repository.set_batch(session, batch_id, letters=len(claimed))
    jobs.enqueue(
        session,
        kind=PRINT_BATCH_JOB,
        key=f"{PRINT_BATCH_JOB}:{batch_id}",
        payload={"batchId": str(batch_id)},
        due_at=now,
    )
    outcome.batches.append(batch_id)
    outcome.claimed += sorted(claimed)


def _record(message_id, fact, state: str, now: datetime, *, batch_id=None, detail=None) -> dict:
    return {
        "message_id": message_id,
        "mailbox_id": fact.mailbox_id,
        "state": state,
        "batch_id": batch_id,
        "detail": detail,
        "pages": None,
        "requested_at": now,
        "updated_at": now,
    }


def _add_events(
    session: Session,
    messages_and_senders: Sequence[tuple[uuid.UUID, uuid.UUID]],
    now: datetime,
    detail: str | None,
    event: str = rules.NOT_PRINTED_EVENT,
) -> list[uuid.UUID]:
    """`event` for each message whose history allows it now; returns those it was added to."""
    added = history.append_allowed(
        session,
        events=[
            history.Event(message_id, sender_id, event, now, detail)
            for message_id, sender_id in messages_and_senders
        ],
    )
    return [e.message_id for e in added]


# --- the batch, as the print-batch job works through it ------------------------------------------


@dataclass(frozen=True)
class BatchToPrint:
    id: uuid.UUID
    created_at: datetime
    message_ids: list[uuid.UUID]


@dataclass(frozen=True)
class Exclusion:
    """Why a claimed message stays out of its batch, and what its record becomes."""

    state: str  # left-out, waiting-address or failed
    detail: str
    tell_sender: bool  # with `fallback-not-printed` and this detail


@dataclass(frozen=True)
class MessageToPrint:
    message_id: uuid.UUID
    message: MessageForPrint | None  # None: it stays out (exclusion)
    blobs: list[Blob]
    exclusion: Exclusion | None = None


def find_batch_to_print(session: Session, *, batch_id: uuid.UUID) -> BatchToPrint | None:
    """The batch's messages still to print; None when the batch is done (or unknown)."""
    batch = repository.get_batch(session, batch_id)
    if batch is None or batch.state not in ("open", "closed"):
        return None
    ids = repository.claimed_in(session, batch_id)
    return BatchToPrint(batch.id, clock.as_utc(batch.created_at), ids)


def open_messages_to_print(
    session: Session,
    *,
    keyring: KeyRing,
    message_ids: Sequence[uuid.UUID],
    return_address: str,
    web_address: str,
) -> list[MessageToPrint]:
    """Each message as it will be printed (body opened), or why it must now stay out of its batch."""
    rows = repository.messages_for_print(session, message_ids)
    ids = [message.id for message, *_ in rows]
    histories = history.events_of(session, message_ids=ids)
    known = addresses.find_envelope_addresses(
        session, bsns=[value for *_, kind, value in rows if kind == "BSN"]
    )
    blobs = repository.attachment_blobs(session, ids)
    found = []
    for message, sender_name, kind, value in rows:
        status = message_rules.current_status(e.type for e in histories[message.id])
        if reason := rules.why_not_printable(status=status, paper_fallback=message.paper_fallback):
            found.append(MessageToPrint(message.id, None, [], Exclusion("left-out", reason, False)))
        elif kind != "BSN" or value not in known:
            found.append(
                MessageToPrint(message.id, None, [], Exclusion("waiting-address", rules.NO_ADDRESS, True))
            )
        else:
            found.append(
                _to_print(
                    keyring,
                    message,
                    sender_name,
                    known[value],
                    blobs[message.id],
                    return_address,
                    web_address,
                )
            )
    return found


def _to_print(
    keyring, message, sender_name, address_lines, blobs, return_address, web_address
) -> MessageToPrint:
    try:
        body = open_body(keyring, message=message)
    except Problem:
        return MessageToPrint(message.id, None, [], Exclusion("failed", rules.BODY_FAILED, True))
    for_print = MessageForPrint(
        message_id=message.id,
        sender_name=sender_name,
        sender_reference=message.sender_reference,
        subject=message.subject,
        body=body,
        sent_on=_dutch_date(message.publish_at or message.created_at),
        due_date=message.due_date,
        action_kind=message.action_kind,
        action_label=message.action_label,
        action_url=message.action_url,
        address_lines=address_lines,
        return_address=return_address,
        web_address=web_address,
    )
    return MessageToPrint(message.id, for_print, list(blobs))


def _dutch_date(moment: datetime) -> date:
    return clock.as_utc(moment).astimezone(_DUTCH_TIME).date()


def close_batch(session: Session, *, batch_id: uuid.UUID, exclusions: Mapping[uuid.UUID, Exclusion]) -> int:
    """Just before the hand-over: the excluded messages leave the batch (their senders told where that is
    news); the messages still claimed are its content. Returns how many that are (0: nothing to hand over)."""
    now = clock.now()
    for exclusion in set(exclusions.values()):
        ids = [m for m, e in exclusions.items() if e == exclusion]
        moved = repository.set_records(
            session, batch_id, ids, now, state=exclusion.state, detail=exclusion.detail
        )
        if exclusion.tell_sender:
            _tell(session, sorted(moved), now, exclusion.detail)
    remaining = len(repository.claimed_in(session, batch_id))
    repository.set_batch(
        session, batch_id, state="closed" if remaining else "empty", closed_at=now, letters=remaining
    )
    return remaining


def _tell(session: Session, message_ids: Sequence[uuid.UUID], now: datetime, detail: str) -> None:
    facts = repository.message_facts(session, message_ids)
    _add_events(session, [(m, facts[m].sender_id) for m in message_ids], now, detail)


def mark_batch_printed(
    session: Session, *, batch_id: uuid.UUID, pages: Mapping[uuid.UUID, int]
) -> list[uuid.UUID]:
    """The batch was handed over with these messages (id → page count): each gets `fallback-printed`, once.

    Returns the messages recorded now (none when this step already ran).
    """
    now = clock.now()
    batch = repository.get_batch(session, batch_id)
    if batch is None or batch.state not in ("open", "closed"):
        return []
    moved = repository.set_records(session, batch_id, list(pages), now, state="printed")
    repository.set_pages(session, {m: pages[m] for m in moved})
    facts = repository.message_facts(session, moved)
    added = _add_events(
        session, [(m, facts[m].sender_id) for m in sorted(moved)], now, None, rules.PRINTED_EVENT
    )
    if late := len(moved) - len(added):
        # Read (or ended) between closing the batch and now: on paper all the same, but the history
        # cannot take `fallback-printed` after `read`. The record says printed.
        log.warning("letters printed after their status changed", batch_id=str(batch_id), letters=late)
    lost = repository.set_records(
        session,
        batch_id,
        repository.claimed_in(session, batch_id),
        now,
        state="failed",
        detail=rules.NOT_HANDED_OVER,
    )
    repository.set_batch(session, batch_id, state="handed-over", handed_over_at=now, letters=len(moved))
    if lost:
        log.warning("letters missing from their handed-over batch", batch_id=str(batch_id), letters=len(lost))
    return sorted(moved)


# --- for the operator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnprintedMessage:
    message_id: uuid.UUID
    sender_name: str
    sender_reference: str
    state: str
    detail: str | None
    since: datetime


def list_messages_not_printed(session: Session, *, limit: int = 1000) -> list[UnprintedMessage]:
    """Messages asked to be printed that are not: waiting for an address, or failed; oldest first."""
    return [
        UnprintedMessage(r.message_id, name, reference, r.state, r.detail, clock.as_utc(r.requested_at))
        for r, name, reference in repository.not_printed(session, rules.RETRIED_STATES, limit)
    ]


def print_waiting_messages(session: Session, *, limit: int = rules.MAX_BATCH_MESSAGES * 10) -> PrintRequest:
    """Ask again for the messages that waited for an address or failed (after an import, a repair)."""
    return print_messages(session, message_ids=repository.ids_in_states(session, rules.RETRIED_STATES, limit))


def plan_fallback_print(
    session: Session, *, message_ids: Sequence[uuid.UUID], paper_fallback: str, now: datetime
) -> None:
    """Queue the printing of those of these messages whose sender chose `paper_fallback`, in the caller's
    transaction (flows do, when a message turns out unreachable or unread at the end of its dueDate).

    A job rather than print_messages at once: the transaction that finds a message unreachable
    (storing a thousand of them) never waits on, nor fails with, the paper fallback. The job is
    known by its first message: a message is planned once, in one transaction.
    """
    facts = repository.message_facts(session, message_ids) if message_ids else {}
    ids = sorted(m for m, fact in facts.items() if fact.paper_fallback == paper_fallback)
    if not ids:
        return
    jobs.enqueue(
        session,
        kind=PRINT_MESSAGES_JOB,
        key=f"{PRINT_MESSAGES_JOB}:{paper_fallback}:{ids[0]}",
        payload={"messageIds": [str(i) for i in ids], "paperFallback": paper_fallback},
        due_at=now,
    )


def print_requested_messages(session: Session, payload: dict) -> None:
    """The `print-letters` job: `{"messageIds": [...], "paperFallback": ...}`, as plan_fallback_print queues
    it (without paperFallback: whatever fallback their senders chose)."""
    ids = [parse_id(str(value)) for value in payload.get("messageIds", [])]
    wanted = payload.get("paperFallback")
    print_messages(
        session, message_ids=[i for i in ids if i is not None], paper_fallback=str(wanted) if wanted else None
    )
