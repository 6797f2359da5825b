"""The one writer of messages' status histories: every status event is added here, and only where
messages.rules lets it follow the message's status; and the one place that tells listeners (webhooks)
of every event added, in the transaction that adds it."""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from postvak.messages import repository, rules
from postvak.messages.models import MessageEvent

_CHUNK = 1000


class Event(NamedTuple):
    """A status event for a message's history; its sender reads it in the event feed and the timeline.
    (A named tuple: a batch of a thousand messages makes two thousand, so each must cost little.)"""

    message_id: uuid.UUID
    sender_id: uuid.UUID
    type: str
    at: datetime
    detail: str | None = None


class StoredEvent(NamedTuple):
    """A status event as stored, with its id: the id the event feed gives and a webhook carries."""

    event_id: int
    message_id: uuid.UUID
    sender_id: uuid.UUID
    type: str
    at: datetime
    detail: str | None = None


# listener(session, events=[StoredEvent, …]): called in the transaction that added the events.
Listener = Callable[..., object]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    """Call `listener(session, events=…)` each time events are added, in the same session, right after
    they are written: what it writes commits or rolls back with them (the webhooks' outbox jobs).

    The edge that builds the process registers the listeners (runtime.build_runtime), so that a
    higher domain hears of every event while this one imports none. Registering twice registers once.
    A listener that raises undoes the whole unit of work, as any failed write in it would.
    """
    if listener not in _listeners:
        _listeners.append(listener)


def stop_listening(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def events_of(session: Session, *, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[MessageEvent]]:
    """Each message's events, oldest first (an unknown message has none); read a thousand messages at a time,
    as a database takes only so many parameters."""
    found: dict[uuid.UUID, list[MessageEvent]] = {}
    for start in range(0, len(message_ids), _CHUNK):
        found.update(repository.events_of(session, message_ids[start : start + _CHUNK]))
    return found


def types_of(session: Session, *, message_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Each message's history as its event types, oldest first."""
    return {
        mid: [e.type for e in found] for mid, found in events_of(session, message_ids=message_ids).items()
    }


def begin(session: Session, *, events: Sequence[Event]) -> None:
    """The first events of messages stored in this same transaction. Their histories are empty, so none
    is read back (a batch of a thousand messages costs one insert); raises InvalidTransition, writing
    nothing, when the events are not a history a new message can have."""
    _insert(session, _allowed(events, {}, refuse=True))


def append(session: Session, *, events: Sequence[Event]) -> None:
    """Add events to stored messages' histories, in order; raises InvalidTransition, writing nothing, when
    one of them cannot follow its message's status."""
    _insert(session, _allowed(events, _statuses(session, events), refuse=True))


def append_allowed(session: Session, *, events: Sequence[Event]) -> list[Event]:
    """Add the events that the messages' histories allow now and drop the others; returns those added.

    For events decided before their message could change: between deciding to send (or print)
    and recording it the citizen may have read, confirmed or deleted the message, and a late
    `notified` after `deleted-by-recipient` is not a status a message can have.
    """
    added = _allowed(events, _statuses(session, events), refuse=False)
    _insert(session, added)
    return added


def _statuses(session: Session, events: Sequence[Event]) -> dict[uuid.UUID, str | None]:
    if not events:
        return {}
    histories = types_of(session, message_ids=sorted({e.message_id for e in events}))
    return {mid: rules.current_status(types) for mid, types in histories.items()}


def _allowed(
    events: Sequence[Event], statuses: Mapping[uuid.UUID, str | None], *, refuse: bool
) -> list[Event]:
    """The events that may follow, each checked against its message's status after the ones before it."""
    status = dict(statuses)
    allowed = []
    for event in events:
        try:
            status[event.message_id] = rules.status_after(status.get(event.message_id), event.type)
        except rules.InvalidTransition:
            if refuse:
                raise
            continue
        allowed.append(event)
    return allowed


def _insert(session: Session, events: Sequence[Event]) -> None:
    if not events:
        return
    rows = [
        {
            "message_id": e.message_id,
            "sender_id": e.sender_id,
            "type": e.type,
            "at": e.at,
            "detail": e.detail,
        }
        for e in events
    ]
    listeners = list(_listeners)
    if not listeners:
        repository.insert_events(session, rows)
        return
    stored = _with_ids(events, repository.insert_events_returning(session, rows))
    for listener in listeners:
        listener(session, events=stored)


def _with_ids(events: Sequence[Event], inserted: Sequence[tuple[int, uuid.UUID, str]]) -> list[StoredEvent]:
    """Each event with the id it was stored under.

    The database returns the rows of a multi-row insert in no promised order (asking for one makes
    SQLite insert row by row), so they are paired by (message, type): within one statement ids grow
    in the order of the rows, and the events of one message and type are taken in that order.
    """
    ids: dict[tuple[uuid.UUID, str], deque[int]] = defaultdict(deque)
    for event_id, message_id, type_ in sorted(inserted):
        ids[(message_id, type_)].append(event_id)
    return [
        StoredEvent(ids[(e.message_id, e.type)].popleft(), e.message_id, e.sender_id, e.type, e.at, e.detail)
        for e in events
    ]
