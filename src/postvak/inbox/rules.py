"""Pure rules of the citizen's inbox: listings, the bin's 30 days, folder names, search words, events."""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

from postvak.kit import moments
from postvak.kit.ids import parse_id
from postvak.messages.rules import InvalidTransition, current_status, status_after

PAGE_SIZE = 25
MAX_PAGE = 10_000
BIN_DAYS = 30
MAX_FOLDERS = 50
FOLDER_NAME_MAX = 60
MAX_QUERY_CHARS = 200
MAX_SEARCH_WORDS = 8
MAX_WORD_CHARS = 40

BOXES = ("inbox", "archive", "folder", "bin", "all")
SORTS = ("newest", "oldest", "due")
# What the citizen can do to selected messages; "read" is not among them: only opening a message reads it.
ACTIONS = ("unread", "archive", "unarchive", "move", "bin", "restore", "purge")
ACTION_KINDS_NEEDING_ACTION = ("pay", "respond", "confirm", "appointment")

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Listing:
    """Which messages the citizen asked to see, and how; every field has a safe default."""

    box: str = "inbox"
    folder_id: uuid.UUID | None = None
    unread: bool = False
    sender_id: uuid.UUID | None = None
    action: bool = False
    sort: str = "newest"
    page: int = 1
    q: str = ""

    def params(self, **changes: object) -> dict[str, str]:
        """The query parameters that select this listing (defaults left out), with `changes` applied."""
        listing = replace(self, **changes)  # type: ignore[arg-type]
        out: dict[str, str] = {}
        for f in fields(Listing):
            value = getattr(listing, f.name)
            if value == f.default or (f.name == "box" and listing.box == "folder"):
                continue
            key = {"folder_id": "folder", "sender_id": "sender"}.get(f.name, f.name)
            out[key] = "1" if value is True else str(value)
        return out

    def cleared(self) -> Listing:
        """The same box or folder without search, filters, sorting or page."""
        return Listing(box=self.box, folder_id=self.folder_id)

    @property
    def filtered(self) -> bool:
        return self.unread or self.action or self.sender_id is not None or bool(self.q)


def parse_listing(params: Mapping[str, str]) -> Listing:
    """Read a listing from query parameters; anything unknown or malformed falls back to its default."""
    # A folder comes as `folder=<id>`, or as `box=<id>` from the "where" choice of the search form.
    folder_id = parse_id(params.get("folder", "")) or parse_id(params.get("box", ""))
    box = "folder" if folder_id else params.get("box", "inbox")
    if box not in BOXES or box == "folder" and folder_id is None:
        box = "inbox"
    sort = params.get("sort", "newest")
    page = params.get("page", "1")
    return Listing(
        box=box,
        folder_id=folder_id,
        unread=params.get("unread") in ("1", "on", "true"),
        sender_id=parse_id(params.get("sender", "")),
        action=params.get("action") in ("1", "on", "true"),
        sort=sort if sort in SORTS else "newest",
        page=min(int(page), MAX_PAGE) if page.isascii() and page.isdigit() and int(page) > 0 else 1,
        q=" ".join(params.get("q", "").split())[:MAX_QUERY_CHARS],
    )


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, math.ceil(total / page_size))


def search_words(query: str) -> list[str]:
    """The words of a search, lower-cased, without duplicates: letters and digits only.

    Every other character separates words, so no search syntax (quotes, operators, column
    filters, prefix stars) of either database can ever come from the citizen's input.
    """
    words: list[str] = []
    for word in _WORD.findall(query.casefold()):
        word = word[:MAX_WORD_CHARS]
        if word not in words:
            words.append(word)
    return words[:MAX_SEARCH_WORDS]


def search_text(text: str) -> str:
    """Text to index: as written, plus its words split apart.

    PostgreSQL's parser reads "IB-2027-000123" as 'ib', '-2027', '-000123'; the split-apart
    copy lets a search for "2027" find it too.
    """
    words = _WORD.findall(text)
    split = " ".join(words)
    return text if split == text else f"{text} {split}"


def needs_action(action_kind: str | None, confirmation_required: bool, confirmed: bool) -> bool:
    """A message needs action when it asks to pay, respond, confirm or book, or awaits confirmation."""
    return action_kind in ACTION_KINDS_NEEDING_ACTION or (confirmation_required and not confirmed)


def is_overdue(due_date: date | None, today: date) -> bool:
    return due_date is not None and due_date < today


# The bin ------------------------------------------------------------------------------------


def restorable_until(binned_at: datetime) -> datetime:
    return moments.shift_days(binned_at, BIN_DAYS)


def purge_due(binned_at: datetime, now: datetime) -> bool:
    """A message in the bin for 30 days is purged: it leaves the citizen's view for good."""
    return now >= restorable_until(binned_at)


def bin_cutoff(now: datetime) -> datetime:
    """Messages binned at or before this moment are due to be purged."""
    return moments.shift_days(now, -BIN_DAYS)


def purge_job_due(binned_at: datetime) -> datetime:
    """When the purge job runs: at the first full hour after the 30 days, so one job serves a whole hour."""
    due = restorable_until(binned_at)
    hour = due.replace(minute=0, second=0, microsecond=0)
    return hour if hour == due else moments.shift(hour, timedelta(hours=1))


# Folders ------------------------------------------------------------------------------------


def clean_folder_name(raw: str) -> str:
    return " ".join(raw.split())


def folder_name_problem(name: str, existing: Iterable[str]) -> str | None:
    """Why `name` (cleaned) cannot name a new or renamed folder, or None; the reasons are message ids."""
    if not name:
        return "Give the folder a name."
    if len(name) > FOLDER_NAME_MAX:
        return "A folder name can be at most 60 characters long."
    if any(unicodedata.category(c)[0] == "C" for c in name):
        return "A folder name cannot contain control characters."
    if name.casefold() in {e.casefold() for e in existing}:
        return "You already have a folder with this name."
    return None


def folder_limit_problem(count: int) -> str | None:
    return "You can have at most 50 folders." if count >= MAX_FOLDERS else None


# Status events the citizen causes -----------------------------------------------------------


def _if_allowed(history: Sequence[str], events: list[str]) -> list[str]:
    """`events` when they may follow the history in this order, else none at all."""
    try:
        status = current_status(history)
        for event in events:
            status = status_after(status, event)
    except InvalidTransition:
        return []
    return events


def opening_events(history: Sequence[str]) -> list[str]:
    """The events the first opening adds: `read`, once in a message's life.

    A message that waited for an unactivated mailbox is `unreachable`; if activation did not
    deliver it yet, opening it proves delivery, so `delivered` comes first.
    """
    if "read" in history:
        return []
    if current_status(history) == "unreachable":
        return _if_allowed(history, ["delivered", "read"])
    return _if_allowed(history, ["read"])


def confirmation_events(history: Sequence[str], confirmation_required: bool) -> list[str]:
    if not confirmation_required or "confirmed" in history:
        return []
    return _if_allowed(history, ["confirmed"])


def removal_events(history: Sequence[str]) -> list[str]:
    """`deleted-by-recipient` when the citizen empties the bin, if the message's status allows it."""
    return [] if "deleted-by-recipient" in history else _if_allowed(history, ["deleted-by-recipient"])


def activation_events(history: Sequence[str]) -> list[str]:
    """A message that waited as `unreachable` is `delivered` once its mailbox is activated."""
    return ["delivered"] if current_status(history) == "unreachable" else []
