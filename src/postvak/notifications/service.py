"""Use cases of notifications: plan them at delivery, decide and record each send, take SMS reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from postvak.errors import NotFound
from postvak.jobs import repository as jobs
from postvak.jobs.repository import ClaimedJob
from postvak.kit import clock
from postvak.kit.ids import new_id, parse_id
from postvak.messages import repository as letters
from postvak.messages import rules as letter_rules
from postvak.notifications import repository, rules
from postvak.notifications.repository import LetterState, Reader
from postvak.notifications.rules import DIGEST, EMAIL, NEW, SMS, UNREAD
from postvak.senders import repository as senders

JOB_KINDS = {EMAIL: "notify-email", SMS: "notify-sms"}


def job(channel: str, reason: str, subject_id: uuid.UUID, due_at: datetime, **extra) -> dict:
    """An outbox row: one notification of `reason` on `channel`; its dedupe key makes it happen once."""
    key = f"{JOB_KINDS[channel]}:{reason}:{subject_id}"
    if reason == DIGEST:
        key += f":{due_at.date().isoformat()}"
        payload = {"mailboxId": str(subject_id)}
    else:
        payload = {"messageId": str(subject_id)}
    payload |= {"reason": reason, "since": due_at.isoformat(), **extra}
    return {"kind": JOB_KINDS[channel], "dedupe_key": key, "payload": payload, "due_at": due_at}


def notify_delivered(session: Session, message_ids: Iterable[uuid.UUID], now: datetime) -> None:
    """Letters just delivered into activated mailboxes: their e-mail notification is queued in the
    delivering transaction (the outbox), and the job decides about SMS, digest and reminders."""
    jobs.enqueue(session, [job(EMAIL, NEW, message_id, now) for message_id in message_ids])


def plan_reminders(session: Session, states: Sequence[LetterState], since: datetime | None = None) -> None:
    """Queue the reminders of letters told about, counted from their delivery (or from `since`)."""
    days = senders.unread_reminder_days(session, {(s.sender_id, s.message_type) for s in states})
    rows = []
    for s in states:
        unread_days = days.get((s.sender_id, s.message_type or ""), rules.DEFAULT_UNREAD_DAYS)
        start = since or s.delivered_at
        for reason, at in rules.reminder_times(start, s.letter.due_date, unread_days).items():
            rows.append(job(EMAIL, reason, s.message_id, at, days=unread_days))
    jobs.enqueue(session, rows)


def plan_reminders_for(session: Session, message_ids: Sequence[uuid.UUID], since: datetime) -> None:
    """Reminders for letters that reached their reader without a notification (at activation)."""
    plan_reminders(session, list(repository.letter_states(session, message_ids).values()), since)


# Sending ----------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """One claimed notification job and what it found: send it, or skip it, or leave it to the digest."""

    job: ClaimedJob
    channel: str
    reason: str
    decision: str  # send | skip | digest
    state: LetterState | None = None
    reader: Reader | None = None
    digest: list[LetterState] | None = None  # the letters of a daily digest

    @property
    def since(self) -> datetime:
        return datetime.fromisoformat(self.job.payload["since"])


@dataclass
class Result:
    prepared: Prepared
    outcome: str  # sent | skipped | digest | retry | failed
    reference: str | None = None  # the Message-ID or the SMS provider's id
    error: str | None = None  # why it failed (codes, never addresses or numbers)
    retry_at: datetime | None = None


def prepare(
    session: Session, channel: str, claimed: Sequence[ClaimedJob], now: datetime, digest_size: int = 200
):
    """What each claimed job should do now, decided by rules.decide over what the database holds."""
    ids = [i for i in (parse_id(j.payload.get("messageId", "")) for j in claimed) if i]
    states = repository.letter_states(session, ids)
    sent = repository.sent_notifications(session, list(states))
    prepared = []
    for claimed_job in claimed:
        reason = claimed_job.payload.get("reason", NEW)
        if reason == DIGEST:
            mailbox_id = parse_id(claimed_job.payload.get("mailboxId", ""))
            found = repository.digest_letters(session, mailbox_id, now, digest_size) if mailbox_id else []
            reader = found[0].reader if found else None
            decision = "send" if found and reader.addresses else "skip"
            prepared.append(Prepared(claimed_job, channel, reason, decision, reader=reader, digest=found))
            continue
        state = states.get(parse_id(claimed_job.payload.get("messageId", "")))
        if state is None:  # purged, or never delivered: nothing to tell
            prepared.append(Prepared(claimed_job, channel, reason, "skip"))
            continue
        situation = rules.Situation(
            reason=reason,
            read=state.read,
            binned=state.binned,
            already_sent=(state.message_id, reason, channel) in sent,
            reminders_sent=frozenset(r for m, r, _ in sent if m == state.message_id and r in rules.REMINDERS),
            delivered_at=state.delivered_at,
            due_date=state.letter.due_date,
            unread_days=int(claimed_job.payload.get("days", rules.DEFAULT_UNREAD_DAYS)),
            digest_chosen=state.reader.digest_chosen,
            asks_nothing=state.letter.asks_nothing,
        )
        decision = rules.decide(situation, channel, now)
        if decision == "send" and not (state.reader.addresses if channel == EMAIL else state.reader.phone):
            decision = "skip"  # the address or number was removed meanwhile
        prepared.append(Prepared(claimed_job, channel, reason, decision, state, state.reader))
    return prepared


def record(session: Session, results: Sequence[Result], now: datetime, *, sms_reports: bool = True) -> None:
    """Write what happened to a batch of notification jobs, in one transaction: the record of each
    send, the sender's events, the follow-up jobs, and the job's end or its next try."""
    notifications, events, follow_ups, finished = [], [], [], []
    told: list[LetterState] = []
    for result in results:
        p = result.prepared
        letters_of = p.digest if p.reason == DIGEST else ([p.state] if p.state else [])
        if result.outcome == "retry":
            jobs.reschedule(session, p.job.id, result.retry_at, result.error or "")
        else:
            finished.append(p.job.id)
        if result.outcome == "sent":
            for s in letters_of:
                reason = NEW if p.reason == DIGEST else p.reason
                reported = p.channel == EMAIL or not sms_reports
                notifications.append(
                    _notification(s.message_id, reason, p.channel, result.reference, reported, now)
                )
                if reported:
                    events += _told_events(s.message_id, s.sender_id, reason, p.channel, now)
        elif result.outcome == "failed":
            detail = f"{_label(p.channel, p.reason)}: {result.error}"[:500]
            events += [
                _event(s.message_id, s.sender_id, "notification-failed", now, detail) for s in letters_of
            ]
        elif result.outcome == "digest":
            follow_ups.append(job(EMAIL, DIGEST, p.state.reader.mailbox_id, rules.next_digest_at(now)))
        if p.channel == EMAIL and p.reason != DIGEST and result.outcome != "skipped":
            follow_ups += _sms_follow_up(p, failed=result.outcome == "failed", now=now)
        if p.reason in (NEW, DIGEST) and result.outcome in ("sent", "failed", "digest"):
            told += letters_of
    repository.insert_notifications(session, sorted(notifications, key=lambda r: str(r["message_id"])))
    add_events(session, events)
    jobs.finish(session, finished, now)
    jobs.enqueue(session, follow_ups)
    if told:
        plan_reminders(session, [s for s in told if not s.read])


def _sms_follow_up(p: Prepared, *, failed: bool, now: datetime) -> list[dict]:
    """SMS goes out beside the e-mail when chosen, and instead of it when the e-mail is refused for good."""
    if p.decision != "send" or p.reader is None or p.reader.phone is None:
        return []
    if p.reader.sms_chosen or failed:
        return [job(SMS, p.reason, p.state.message_id, now)]
    return []


def _told_events(message_id, sender_id, reason: str, channel: str, now: datetime) -> list[dict]:
    """`notified` per channel for a new letter; one `reminded` per reminder (with its e-mail)."""
    if reason == NEW:
        return [_event(message_id, sender_id, "notified", now, channel)]
    return [_event(message_id, sender_id, "reminded", now, reason)] if channel == EMAIL else []


def _event(message_id, sender_id, kind: str, now: datetime, detail: str | None) -> dict:
    return {"message_id": message_id, "sender_id": sender_id, "type": kind, "at": now, "detail": detail}


def _notification(message_id, reason, channel, reference, reported: bool, now) -> dict:
    return {
        "id": new_id(),
        "message_id": message_id,
        "reason": reason,
        "channel": channel,
        "reference": reference or "",
        "state": "delivered" if reported and channel == SMS else "sent",
        "sent_at": now,
        "reported_at": now if reported and channel == SMS else None,
    }


def _label(channel: str, reason: str) -> str:
    return (
        channel
        if reason in (NEW, DIGEST)
        else f"{channel} ({'reminder' if reason == UNREAD else 'last reminder'})"
    )


# SMS delivery reports ---------------------------------------------------------------------------


def record_sms_report(session: Session, provider_id: str, delivered: bool) -> None:
    """A gateway's report on a text message: `notified` once delivered, `notification-failed` if not.
    A report repeated (gateways retry) changes nothing."""
    notification = repository.sms_by_reference(session, provider_id)
    if notification is None:
        raise NotFound("no text message with this id")
    now = clock.now()
    if not repository.report(session, notification.id, "delivered" if delivered else "failed", now):
        return
    message_id, reason = notification.message_id, notification.reason
    sender_id = letters.sender_of(session, message_id)
    if delivered:
        events = _told_events(message_id, sender_id, reason, SMS, now)
    else:
        detail = f"{_label(SMS, reason)}: the phone company could not deliver it"
        events = [_event(message_id, sender_id, "notification-failed", now, detail)]
    add_events(session, events)


def add_events(session: Session, events: Sequence[dict]) -> None:
    """Adds the events that the letters' histories allow now; the others are dropped, not forced.

    Between deciding to send and recording it the citizen may have read, confirmed or deleted
    the letter: a late `notified` after `deleted-by-recipient` is not a status a letter can have.
    """
    if not events:
        return
    histories = letters.events_of(session, sorted({e["message_id"] for e in events}))
    status = {mid: letter_rules.current_status(e.type for e in h) for mid, h in histories.items()}
    allowed = []
    for event in events:
        current = status[event["message_id"]]
        if event["type"] in letter_rules.ALLOWED[current]:
            allowed.append(event)
            status[event["message_id"]] = letter_rules.status_after(current, event["type"])
    letters.insert_events(session, allowed)
