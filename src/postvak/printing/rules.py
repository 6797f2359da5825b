"""Pure rules of the paper fallback: which message may be printed, how claims are cut into batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from postvak.messages.rules import ALLOWED

PRINTED_EVENT = "fallback-printed"
NOT_PRINTED_EVENT = "fallback-not-printed"  # quiet: the status stays, the detail says why
MAX_BATCH_MESSAGES = 500  # a batch renders in well under the worker's lease (about 5 ms a message)

NO_ADDRESS = "not printed: the address register has no postal address for the recipient"
NOT_RENDERED = "not printed: the letter could not be laid out for print"
ATTACHMENT_FAILED = "not printed: an attachment failed its integrity check"
BODY_FAILED = "not printed: the letter failed its integrity check"
NOT_HANDED_OVER = "not printed: missing from the batch the print provider received"

# Record states that a new request claims again (an address may have been added since; a fault fixed).
RETRIED_STATES = ("waiting-address", "failed")

T = TypeVar("T")


def why_not_printable(*, status: str | None, paper_fallback: str) -> str | None:
    """Why a message in `status` is not printed, or None when it may be.

    The history decides (a message read, printed or ended is never printed); and a message its
    sender marked `never` is not printed, whoever asks.
    """
    if paper_fallback == "never":
        return "the sender chose no paper fallback for this letter"
    if status is None or PRINTED_EVENT not in ALLOWED[status]:
        return f"a letter that is {status or 'not stored'} is not printed"
    return None


def why_not_asked(*, paper_fallback: str, asked_for: str | None) -> str | None:
    """A request for one fallback's messages (the `if-unreachable` trigger, say) leaves the others alone."""
    if asked_for is None or paper_fallback == asked_for:
        return None
    return f"the sender chose paper fallback {paper_fallback} for this letter, not {asked_for}"


def batches(items: Sequence[T], size: int = MAX_BATCH_MESSAGES) -> list[list[T]]:
    return [list(items[start : start + size]) for start in range(0, len(items), size)]
