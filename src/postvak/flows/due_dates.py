"""The end of a message's dueDate: `never-confirmed` and `never-read` for what its reader did not do by then,
and its printing when its sender chose paper for a message still unread."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import structlog
from sqlalchemy.orm import Session

from postvak.db import Database
from postvak.jobs import service as jobs
from postvak.jobs.models import ClaimedJob, NewJob
from postvak.jobs.rules import DEFAULT_MAX_FAILURES, error_summary
from postvak.jobs.worker import record_failure
from postvak.kit import clock
from postvak.kit.ids import parse_id
from postvak.messages import history
from postvak.messages import rules as message_rules
from postvak.printing import service as printing

DUE_DATE_JOB = "due-date-end"
UNREAD_FALLBACK = "if-unread-by-due-date"

log = structlog.get_logger("postvak.flows")


class DueMessage(NamedTuple):
    """What the end of a message's dueDate needs to know of it; fixed when it is sent (a message never
    changes), so the job carries it."""

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


def end_due_dates(session: Session, *, payloads: Sequence[dict]) -> list[uuid.UUID]:
    """The `due-date-end` jobs of these messages, at the end of their dueDates (Dutch time): what each
    history says then decides (messages.rules.due_date_events). The messages that get `never-read`
    and asked for paper when unread are queued for print together. Running a job again, or late,
    adds nothing twice. Returns the messages queued for print."""
    wanted = {mid: p for p in payloads if (mid := parse_id(str(p.get("messageId"))))}
    now = clock.now()
    events = []
    for message_id, found in history.events_of(session, message_ids=sorted(wanted)).items():
        if not found:
            continue
        decided = message_rules.due_date_events(
            [e.type for e in found],
            confirmation_required=bool(wanted[message_id].get("confirmationRequired")),
        )
        events += [history.Event(message_id, found[0].sender_id, kind, now) for kind in decided]
    added = history.append_allowed(session, events=events)
    # Queued, not printed here: a message read before the print job claims it is not printed after all.
    to_print = [
        e.message_id
        for e in added
        if e.type == "never-read" and wanted[e.message_id].get("paperFallback") == UNREAD_FALLBACK
    ]
    printing.plan_fallback_print(session, message_ids=to_print, paper_fallback=UNREAD_FALLBACK, now=now)
    return to_print


class DueDateLane:
    """The worker's lane for ends of due dates. Many end at the same midnight, so they are decided in
    batches, and the messages of a batch that go on paper share one print request (one batch for
    the print provider, not one per message). A batch that raises is run again one job at a time,
    so that a bad job fails alone (retried with backoff, parked after POSTVAK_JOB_MAX_FAILURES)."""

    name = "due-dates"
    kinds = (DUE_DATE_JOB,)

    def __init__(self, database: Database, *, batch: int = 500, max_failures: int = DEFAULT_MAX_FAILURES):
        self.database = database
        self.batch = batch
        self.max_failures = max_failures

    def run(self, claimed: list[ClaimedJob]) -> None:
        try:
            self._end(claimed)
            return
        except _LeaseLost:
            pass  # some were claimed again by another worker: the others are still this one's
        except Exception:  # noqa: BLE001 - run again alone: the failure is the bad job's only
            log.warning("a batch of due dates failed; its jobs run one by one", jobs=len(claimed))
        for job in claimed:
            try:
                self._end([job])
            except _LeaseLost:
                log.warning("job outlasted its lease; left to the worker that claimed it", job_id=job.id)
            except Exception as exc:  # noqa: BLE001 - retried later or parked, never lost
                record_failure(self.database, job, error_summary(exc), self.max_failures)

    def idle(self) -> None:
        pass

    def _end(self, claimed: list[ClaimedJob]) -> None:
        with self.database.unit_of_work() as session:
            end_due_dates(session, payloads=[job.payload for job in claimed])
            if jobs.finish(session, jobs=claimed, now=clock.now()) < len(claimed):
                raise _LeaseLost  # undoes this run: a job of it is another worker's now


class _LeaseLost(Exception):
    """A run outlasted its lease and another worker claimed (some of) its jobs: the run is undone."""
