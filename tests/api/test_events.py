"""The event feed: following nextCursor reads every event exactly once, also during delivery.

On PostgreSQL an event is shown once every write transaction that started before it has
ended (other test processes' included), so these tests read until the expected count arrives.
"""

import threading
import time

from tests.support.letters import letter


def _read_all(client, sender, cursor=None, limit=7):
    seen = []
    while True:
        url = "/api/v1/events" + (f"?limit={limit}&after={cursor}" if cursor else f"?limit={limit}")
        page = client.get(url, headers=sender.headers).json()
        if not page["events"]:
            return seen, page["nextCursor"] or cursor
        seen += page["events"]
        cursor = page["nextCursor"]


def _read_until(client, sender, count, cursor=None, limit=7, seconds=20.0):
    seen = []
    deadline = time.monotonic() + seconds
    while len(seen) < count and time.monotonic() < deadline:
        page, cursor = _read_all(client, sender, cursor, limit)
        seen += page
        if not page:
            time.sleep(0.05)
    return seen, cursor


def test_feed_pages_through_every_event_once_in_order(client, sender, bsns):
    items = [letter(bsns[i], f"EV-{i:02d}") for i in range(20)]
    client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers)
    events, cursor = _read_until(client, sender, 40)
    assert len(events) == 40
    assert len({e["id"] for e in events}) == 40
    assert {e["senderReference"] for e in events} == {f"EV-{i:02d}" for i in range(20)}
    assert set(events[0]) == {"id", "messageId", "senderReference", "type", "at", "detail"}
    client.post("/api/v1/messages", json=letter(bsns[0], "EV-LATE"), headers=sender.headers)
    later, _ = _read_until(client, sender, 2, cursor)
    assert [(e["senderReference"], e["type"]) for e in later] == [
        ("EV-LATE", "accepted"),
        ("EV-LATE", "unreachable"),
    ]


def test_feed_shows_only_the_senders_own_events(client, sender, other_sender, bsns):
    client.post("/api/v1/messages", json=letter(bsns[0], "MINE"), headers=sender.headers)
    client.post("/api/v1/messages", json=letter(bsns[0], "THEIRS"), headers=other_sender.headers)
    events, _ = _read_until(client, sender, 2)
    assert {e["senderReference"] for e in events} == {"MINE"}


def test_reading_while_letters_arrive_misses_nothing_and_repeats_nothing(client, sender, bsns):
    done = threading.Event()

    def deliver():
        for n in range(15):
            items = [letter(bsns[(n * 20 + i) % len(bsns)], f"LIVE-{n:02d}-{i:02d}") for i in range(20)]
            client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers)
        done.set()

    writer = threading.Thread(target=deliver)
    writer.start()
    seen, cursor = [], None
    while not done.is_set():
        page, cursor = _read_all(client, sender, cursor, limit=50)
        seen += page
    writer.join()
    rest, _ = _read_until(client, sender, 15 * 20 * 2 - len(seen), cursor, limit=50)
    seen += rest
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)) == 15 * 20 * 2


def test_a_misspelt_or_unknown_parameter_is_refused_not_ignored(client, sender):
    for query, field in [("afterr=x", "afterr"), ("limit=5&_=1700000000", "_"), ("=true", "")]:
        response = client.get(f"/api/v1/events?{query}", headers=sender.headers)
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith(f"{field}: not a parameter of this feed"), query
    both = client.get("/api/v1/events?zz=1&afterr=x", headers=sender.headers).json()["detail"]
    assert both == (
        "afterr: not a parameter of this feed (after, limit); zz: not a parameter of this feed (after, limit)"
    )


def test_a_parameter_given_twice_or_a_limit_that_is_not_a_plain_number_is_refused(client, sender):
    for query, detail in [
        ("limit=5&limit=7", "limit: given more than once"),
        ("after=00000000000000000000000000000000&after=00000000000000000000000000000001", "after: given"),
        ("limit=7%0C", "limit: a whole number from 1 to 1000"),
        ("limit=%207", "limit: a whole number"),
        ("limit=%D9%A7", "limit:"),  # an Arabic-Indic seven
    ]:
        response = client.get(f"/api/v1/events?{query}", headers=sender.headers)
        assert response.status_code == 422, query
        assert response.json()["detail"].startswith(detail), query
    assert client.get("/api/v1/events?limit=7", headers=sender.headers).status_code == 200


def test_a_cursor_is_32_hex_digits_and_nothing_else_is_taken(client, sender, bsns):
    client.post("/api/v1/messages", json=letter(bsns[0], "EV-CURSOR"), headers=sender.headers)
    events, cursor = _read_until(client, sender, 2)
    assert len(cursor) == 32 and int(cursor, 16) >= 0
    for odd in ("", "0" * 29 + "ABC", cursor[:-1], cursor + "0", "8" + cursor[1:]):
        response = client.get("/api/v1/events", params={"after": odd}, headers=sender.headers)
        assert response.status_code == 422 and response.json()["detail"].startswith("after: "), odd
