"""Use cases of notifications: plan them at delivery, decide and record each send, take SMS reports."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from postvak.errors import NotFound
from postvak.jobs import rules as job_rules
from postvak.jobs import service as jobs
from postvak.jobs.models import ClaimedJob, NewJob
from postvak.jobs.rules import DEFAULT_MAX_FAILURES
from postvak.kit import clock
from postvak.kit.ids import new_id, parse_id
from postvak.messages import history
from postvak.messages import service as messages
from postvak.notifications import repository, rules
from postvak.notifications.repository import MessageState, Reader
from postvak.notifications.rules import DIGEST, EMAIL, NEW, SMS, UNREAD
from postvak.senders import service as senders

JOB_KINDS = {EMAIL: "notify-email", SMS: "notify-sms"}


def notification_job(
    *, channel: str, reason: str, subject_id: uuid.UUID, due_at: datetime, **extra
) -> NewJob:
    """One notification of `reason` on `channel`, to queue; its key makes it happen once."""
    key = f"{JOB_KINDS[channel]}:{reason}:{subject_id}"
    if reason == DIGEST:
        key += f":{due_at.date().isoformat()}"
        payload = {"mailboxId": str(subject_id)}
    else:
        payload = {"messageId": str(subject_id)}
    payload |= {"reason": reason, "since": due_at.isoformat(), **extra}
    return NewJob(JOB_KINDS[channel], key, payload, due_at)


def notify_new_messages(session: Session, *, message_ids: Iterable[uuid.UUID], now: datetime) -> None:
    """Messages just delivered into activated mailboxes: their e-mail notification is queued in the
    delivering transaction (the outbox), and the job decides about SMS, digest and reminders."""
    planned = [
        notification_job(channel=EMAIL, reason=NEW, subject_id=message_id, due_at=now)
        for message_id in message_ids
    ]
    jobs.enqueue_many(session, jobs=planned)


def plan_message_reminders(session: Session, *, message_ids: Sequence[uuid.UUID], since: datetime) -> None:
    """Queue the reminders of messages that reached their reader without a notification (at activation),
    counted from `since`."""
    states = list(repository.message_states(session, message_ids).values())
    jobs.enqueue_many(session, jobs=_reminder_jobs(states, _reminder_days(session, states), since))


def _reminder_days(session: Session, states: Sequence[MessageState]) -> dict:
    return senders.find_unread_reminder_days(session, keys={(s.sender_id, s.message_type) for s in states})


def _reminder_jobs(states: Sequence[MessageState], days: dict, since: datetime | None = None) -> list[NewJob]:
    planned = []
    for s in states:
        unread_days = days.get((s.sender_id, s.message_type or ""), rules.DEFAULT_UNREAD_DAYS)
        start = since or s.delivered_at
        for reason, at in rules.reminder_times(start, s.summary.due_date, unread_days).items():
            planned.append(
                notification_job(
                    channel=EMAIL, reason=reason, subject_id=s.message_id, due_at=at, days=unread_days
                )
            )
    return planned


# Sending ----------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """One claimed notification job and what it found: send it, skip it, leave it to the digest, or
    (`error`) fail it alone, because preparing it raised."""

    job: ClaimedJob
    channel: str
    reason: str
    decision: str  # send | skip | digest | error
    state: MessageState | None = None
    reader: Reader | None = None
    digest: list[MessageState] | None = None  # the messages of a daily digest
    since: datetime | None = None  # when the notification was first due (the 48 hours count from it)
    sent_before: bool = False  # recorded as sent by an earlier run: only its follow-ups may be missing
    error: str | None = None


@dataclass
class Result:
    prepared: Prepared
    # sent | skipped | digest | retry | failed (for good: notification-failed) | error (the job
    # failed: retried with backoff, parked after too many) | unsure (handing it over raised: it may
    # have gone out, so the job is parked rather than sent again)
    outcome: str
    reference: str | None = None  # the Message-ID or the SMS provider's id
    error: str | None = None  # why it failed (codes and error classes, never addresses or numbers)
    retry_at: datetime | None = None


def decide_notifications(
    session: Session, *, channel: str, claimed: Sequence[ClaimedJob], now: datetime, digest_size: int = 200
) -> list[Prepared]:
    """What each claimed job should do now, decided by rules.decide over what the database holds.
    A job whose payload is not what it should be raises here (the lane then prepares one by one)."""
    ids = [i for i in (parse_id(j.payload.get("messageId", "")) for j in claimed) if i]
    states = repository.message_states(session, ids)
    sent = repository.sent_notifications(session, list(states))
    prepared = []
    for claimed_job in claimed:
        payload = claimed_job.payload
        reason, since = payload.get("reason", NEW), clock.as_utc(datetime.fromisoformat(payload["since"]))
        if reason == DIGEST:
            mailbox_id = parse_id(payload.get("mailboxId", ""))
            found = repository.digest_messages(session, mailbox_id, now, digest_size) if mailbox_id else []
            reader = found[0].reader if found else None
            decision = "send" if found and reader.addresses else "skip"
            prepared.append(Prepared(claimed_job, channel, reason, decision, None, reader, found, since))
            continue
        state = states.get(parse_id(payload.get("messageId", "")))
        if state is None:  # purged, or never delivered: nothing to tell
            prepared.append(Prepared(claimed_job, channel, reason, "skip", since=since))
            continue
        already_sent = (state.message_id, reason, channel) in sent
        situation = rules.Situation(
            reason=reason,
            read=state.read,
            binned=state.binned,
            already_sent=already_sent,
            reminders_sent=frozenset(r for m, r, _ in sent if m == state.message_id and r in rules.REMINDERS),
            delivered_at=state.delivered_at,
            due_date=state.summary.due_date,
            unread_days=int(payload.get("days", rules.DEFAULT_UNREAD_DAYS)),
            digest_chosen=state.reader.digest_chosen,
            asks_nothing=state.summary.asks_nothing,
        )
        decision = rules.decide(situation, channel, now)
        if decision == "send" and not (state.reader.addresses if channel == EMAIL else state.reader.phone):
            decision = "skip"  # the address or number was removed meanwhile
        prepared.append(
            Prepared(claimed_job, channel, reason, decision, state, state.reader, None, since, already_sent)
        )
    return prepared


def undecidable_notification(claimed_job: ClaimedJob, *, channel: str, error: str) -> Prepared:
    """A job whose notification could not be decided (decide_notifications raised): it fails alone."""
    reason = claimed_job.payload.get("reason") if isinstance(claimed_job.payload, dict) else None
    return Prepared(claimed_job, channel, reason if isinstance(reason, str) else NEW, "error", error=error)


@dataclass
class Failure:
    """A job that failed (retried with backoff) or was parked, for the lane's log."""

    job: ClaimedJob
    error: str
    parked: bool


@dataclass
class _Entry:
    """What recording one result writes, and how its job ends."""

    result: Result
    notifications: list[dict] = field(default_factory=list)
    events: list[history.Event] = field(default_factory=list)
    follow_ups: list[NewJob] = field(default_factory=list)
    told: list[MessageState] = field(default_factory=list)  # messages whose reminders to plan
    end: str = "finish"  # finish | retry | fail | park
    error: str | None = None


def record_outcomes(
    session: Session,
    *,
    results: Sequence[Result],
    now: datetime,
    sms_reports: bool = True,
    max_failures: int = DEFAULT_MAX_FAILURES,
    follow_ups_failed: str | None = None,
) -> list[Failure]:
    """Write what happened to a batch of notification jobs, in one transaction: the record of each
    send, the sender's events, the follow-up jobs (SMS, digest, reminders), and each job's end —
    done, its next try, a failure or parked. Returns the failures and parkings.

    One job never takes down the others: what each result writes is worked out on its own, and
    a result whose follow-ups cannot be worked out keeps its outcome (a sent e-mail stays sent
    and `notified`) while its job fails instead of finishing; its next run finds the send
    recorded and only plans the follow-ups again. `follow_ups_failed` (the lane recording one
    job alone after the batch's write failed) writes the outcomes only and fails the jobs so.
    """
    entries = [_entry(result, now, sms_reports) for result in results]
    if follow_ups_failed is not None:
        for entry in entries:
            entry.follow_ups, entry.told = [], []
            if entry.end == "finish":
                entry.end, entry.error = "fail", follow_ups_failed
    told = [s for entry in entries for s in entry.told]
    days = _reminder_days(session, told) if told else {}
    for entry in entries:
        try:
            entry.follow_ups += _reminder_jobs(entry.told, days)
        except Exception as exc:  # noqa: BLE001 - its outcome is kept; its job tries the follow-ups again
            entry.end, entry.error = "fail", f"planning its reminders failed: {job_rules.error_summary(exc)}"
    notifications = [row for entry in entries for row in entry.notifications]
    repository.insert_notifications(session, sorted(notifications, key=lambda r: str(r["message_id"])))
    history.append_allowed(session, events=[event for entry in entries for event in entry.events])
    jobs.finish(
        session, jobs=[entry.result.prepared.job for entry in entries if entry.end == "finish"], now=now
    )
    failures = []
    for entry in entries:
        claimed_job = entry.result.prepared.job
        if entry.end == "retry":
            jobs.reschedule(
                session, job=claimed_job, due_at=entry.result.retry_at, error=entry.result.error or ""
            )
        elif entry.end == "fail":
            retry_at = job_rules.after_failure(claimed_job.failures + 1, max_failures, now)
            jobs.fail(session, job=claimed_job, error=entry.error or "", retry_at=retry_at, now=now)
            failures.append(Failure(claimed_job, entry.error or "", parked=retry_at is None))
        elif entry.end == "park":
            jobs.park(session, job=claimed_job, error=entry.error or "", now=now)
            failures.append(Failure(claimed_job, entry.error or "", parked=True))
    jobs.enqueue_many(session, jobs=[planned for entry in entries for planned in entry.follow_ups])
    return failures


def fail_unrecorded_job(
    session: Session, *, result: Result, error: str, now: datetime, max_failures: int = DEFAULT_MAX_FAILURES
) -> Failure:
    """Nothing of a job's outcome could be written: it fails alone, and one whose notification was
    sent (or may have been) is parked, so that it is never sent again without an operator."""
    claimed_job = result.prepared.job
    if result.outcome in ("sent", "unsure"):
        error = f"{result.outcome}, but recording it failed: {error}"
        jobs.park(session, job=claimed_job, error=error, now=now)
        return Failure(claimed_job, error, parked=True)
    retry_at = job_rules.after_failure(claimed_job.failures + 1, max_failures, now)
    jobs.fail(session, job=claimed_job, error=error, retry_at=retry_at, now=now)
    return Failure(claimed_job, error, parked=retry_at is None)


def _entry(result: Result, now: datetime, sms_reports: bool) -> _Entry:
    """What one result writes. Its outcome first (a send must be recorded whatever follows), then
    its follow-ups; an exception in either fails this job only."""
    entry, p = _Entry(result), result.prepared
    if result.outcome in ("error", "unsure"):
        entry.end, entry.error = ("fail" if result.outcome == "error" else "park"), result.error
        return entry
    try:
        _outcome(entry, now, sms_reports)
    except Exception as exc:  # noqa: BLE001 - this job alone; the batch's others are recorded
        entry.notifications, entry.events = [], []
        parked = result.outcome == "sent"  # it went out: never again without an operator
        summary = job_rules.error_summary(exc)
        entry.end, entry.error = (
            ("park", f"sent, but recording it failed: {summary}") if parked else ("fail", summary)
        )
        return entry
    if result.outcome == "retry":
        entry.end = "retry"
    told_now = result.outcome == "sent" or (result.outcome == "skipped" and p.sent_before)
    try:
        if result.outcome == "digest":
            entry.follow_ups.append(
                notification_job(
                    channel=EMAIL,
                    reason=DIGEST,
                    subject_id=p.state.reader.mailbox_id,
                    due_at=rules.next_digest_at(now),
                )
            )
        if p.channel == EMAIL and p.reason != DIGEST and (result.outcome != "skipped" or p.sent_before):
            entry.follow_ups += _sms_follow_up(p, failed=result.outcome == "failed", now=now)
        if p.reason in (NEW, DIGEST) and (told_now or result.outcome in ("failed", "digest")):
            messages_of = p.digest if p.reason == DIGEST else ([p.state] if p.state else [])
            entry.told = [s for s in messages_of if not s.read]
    except Exception as exc:  # noqa: BLE001 - its outcome is kept; its job tries the follow-ups again
        entry.follow_ups, entry.told = [], []
        entry.end, entry.error = "fail", f"its follow-ups failed: {job_rules.error_summary(exc)}"
    return entry


def _outcome(entry: _Entry, now: datetime, sms_reports: bool) -> None:
    """The record of a send (or of its failure for good) and the sender's events about it."""
    result, p = entry.result, entry.result.prepared
    messages_of = p.digest if p.reason == DIGEST else ([p.state] if p.state else [])
    if result.outcome == "sent":
        for s in messages_of:
            reason = NEW if p.reason == DIGEST else p.reason
            reported = p.channel == EMAIL or not sms_reports
            entry.notifications.append(
                _notification(s.message_id, reason, p.channel, result.reference, reported, now)
            )
            if reported:
                entry.events += _told_events(s.message_id, s.sender_id, reason, p.channel, now)
    elif result.outcome == "failed":
        detail = f"{_label(p.channel, p.reason)}: {result.error}"[:500]
        entry.events += [
            _event(s.message_id, s.sender_id, "notification-failed", now, detail) for s in messages_of
        ]


def _sms_follow_up(p: Prepared, *, failed: bool, now: datetime) -> list[NewJob]:
    """SMS goes out beside the e-mail when chosen, and instead of it when the e-mail is refused for good."""
    if not (p.decision == "send" or p.sent_before) or p.reader is None or p.reader.phone is None:
        return []
    if p.reader.sms_chosen or failed:
        return [notification_job(channel=SMS, reason=p.reason, subject_id=p.state.message_id, due_at=now)]
    return []


def _told_events(message_id, sender_id, reason: str, channel: str, now: datetime) -> list[history.Event]:
    """`notified` per channel for a new message; one `reminded` per reminder (with its e-mail)."""
    if reason == NEW:
        return [_event(message_id, sender_id, "notified", now, channel)]
    return [_event(message_id, sender_id, "reminded", now, reason)] if channel == EMAIL else []


def _event(message_id, sender_id, kind: str, now: datetime, detail: str | None) -> history.Event:
    return history.Event(message_id, sender_id, kind, now, detail)


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


def record_sms_report(session: Session, *, provider_id: str, delivered: bool) -> None:
    """A gateway's report on a text message: `notified` once delivered, `notification-failed` if not.
    A report repeated (gateways retry) changes nothing."""
    notification = repository.sms_by_reference(session, provider_id)
    if notification is None:
        raise NotFound("no text message with this id")
    now = clock.now()
    if not repository.report(session, notification.id, "delivered" if delivered else "failed", now):
        return
    message_id, reason = notification.message_id, notification.reason
    sender_id = messages.sender_of(session, message_id=message_id)
    if delivered:
        events = _told_events(message_id, sender_id, reason, SMS, now)
    else:
        detail = f"{_label(SMS, reason)}: the phone company could not deliver it"
        events = [_event(message_id, sender_id, "notification-failed", now, detail)]
    # Reports are late by nature: the citizen may have deleted the message meanwhile.
    history.append_allowed(session, events=events)
