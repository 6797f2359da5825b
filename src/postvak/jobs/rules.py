"""Pure rules of background work: when to try again, when to give up, what a failure may say."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from postvak.kit import moments

FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
DEFAULT_MAX_FAILURES = 10  # with the backoff below: about four hours of retries, then parked
LEASE_RAN_OUT = "LeaseExpired: the worker running it stopped or outlasted its lease"
ERROR_CHARS = 200


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: at most 30 s after the first failure, then doubling."""
    ceiling = min(FIRST_RETRY * (2 ** min(max(attempt - 1, 0), 20)), LONGEST_WAIT)
    return ceiling * (rng or random).uniform(0.5, 1.0)


def after_failure(
    failures: int, max_failures: int, now: datetime, rng: random.Random | None = None
) -> datetime | None:
    """When a job that has now failed `failures` times runs again; None: it is parked (dead-lettered),
    so one poisoned job cannot come back forever."""
    if failures >= max_failures:
        return None
    return moments.shift(now, retry_delay(failures, rng))


_ADDRESS = re.compile(r"[^\s@<>()\"',;:]+@[^\s@<>()\"',;:]+")
_NUMBER = re.compile(r"\+?\d[\d ()-]{7,}\d")  # nine digits or more: a BSN, a phone number


def error_summary(exc: BaseException) -> str:
    """ "OverflowError: date value out of range": the error's class and the first line of its message,
    short, with what might be personal data masked (e-mail addresses; nine digits or more, which may
    be a BSN or a phone number). The first line only: database errors put the statement, its
    parameters and the offending values on the lines after it. Fit for the jobs table and logs."""
    message = str(exc).strip().splitlines()
    first = message[0].strip() if message else ""
    first = _ADDRESS.sub("<address>", first)
    first = _NUMBER.sub(_mask_number, first)
    summary = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return summary if len(summary) <= ERROR_CHARS else summary[: ERROR_CHARS - 1] + "…"


def _mask_number(found: re.Match) -> str:
    return "<number>" if sum(c.isdigit() for c in found.group()) >= 9 else found.group()


def state(
    *, done_at: datetime | None, parked_at: datetime | None, locked_until: datetime | None, now: datetime
) -> str:
    """What a job is doing, for an operator: done, discarded (closed by an operator), parked
    (waiting for an operator), running (leased to a worker now) or waiting (for its due time)."""
    if done_at is not None:
        return "discarded" if parked_at is not None else "done"
    if parked_at is not None:
        return "parked"
    return "running" if locked_until is not None and locked_until > now else "waiting"
