"""The inbox pages: the list, filters, sorting, pages, search, many letters at once, folders, the bin."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from postvak.inbox import rules
from postvak.kit import clock
from tests.inbox.mailboxes import send
from tests.support.citizens import make_citizen, sign_in
from tests.support.dates import due_in, spelled
from tests.support.html import letter_links, links
from tests.support.letters import letter, register

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def deliver(runtime):
    """deliver(sender, citizen, count, **fields): letters one minute apart, the newest last; their ids."""
    minutes = itertools.count()

    def deliver(sender, citizen, count, prefix="L", **fields):
        ids = []
        for n in range(count):
            moment = START + timedelta(minutes=next(minutes))
            clock.set_clock(lambda moment=moment: moment)
            ids += send(runtime, sender, letter(citizen.bsn, f"{prefix}-{n:03d}", **fields))
        clock.set_clock(None)
        return [str(i) for i in ids]

    return deliver


def act(web_client, csrf, action, ids, back="/inbox"):
    data = {"csrf_token": csrf, "action": action, "ids": ids, "back": back}
    return web_client.post("/letters/actions", data=data, follow_redirects=False)


def listed(web_client, query="") -> list[str]:
    page = web_client.get(f"/inbox{query}")
    assert page.status_code == 200, page.text
    return [letter_id for letter_id, _ in letter_links(page.text)]


def test_the_inbox_lists_letters_newest_first_each_a_link_with_its_subject(
    runtime, deliver, web_client, csrf, citizen
):
    sender = register(runtime)
    ids = deliver(sender, citizen, 3)
    page = web_client.get("/inbox")
    assert page.headers["cache-control"] == "no-store"
    found = letter_links(page.text)
    assert [letter_id for letter_id, _ in found] == ids[::-1]
    assert [text for _, text in found] == [f"Aanslag gemeentelijke belastingen L-{n:03d}" for n in (2, 1, 0)]
    assert page.text.count("letter-row--unread") == 3
    assert page.text.count('<span class="visually-hidden">Ongelezen: </span>') == 3
    assert "Geverifieerde afzender" in page.text and "Gemeente Testdorp" in page.text


def test_a_read_letter_is_no_longer_marked_and_can_be_marked_unread_again(
    runtime, deliver, web_client, csrf, citizen
):
    [letter_id] = deliver(register(runtime), citizen, 1)
    web_client.get(f"/letters/{letter_id}")
    assert "letter-row--unread" not in web_client.get("/inbox").text
    answer = act(web_client, csrf, "unread", [letter_id])
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox?notice=unread&count=1"
    page = web_client.get(answer.headers["location"])
    assert "letter-row--unread" in page.text and "1 brief gemarkeerd als ongelezen." in page.text


def test_due_dates_and_actions_show_as_badges_in_the_citizens_language(
    runtime, deliver, web_client, csrf, citizen
):
    action = {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/1"}
    deliver(register(runtime), citizen, 1, dueDate=due_in().isoformat(), action=action)
    assert f"Betalen vóór {spelled(due_in())}" in web_client.get("/inbox").text
    english = web_client.get("/inbox?lang=en").text
    assert f"Pay before {spelled(due_in(), 'en')}" in english and '<html lang="en">' in english


def test_pages_filters_sorting_and_search(runtime, deliver, web_client, csrf, citizen):
    sender, other = register(runtime), register(runtime, "Waterschap Elders", "00000001002220648000")
    ids = deliver(sender, citizen, rules.PAGE_SIZE + 2)
    action = {"kind": "respond", "label": "Reageren", "url": "https://elders.example.nl"}
    [water] = deliver(other, citizen, 1, prefix="WS", subject="Dijkwerk in de buurt", action=action)
    first, second = listed(web_client), listed(web_client, "?page=2")
    assert len(first) == rules.PAGE_SIZE and first[0] == water
    assert first + second == [water, *ids[::-1]]
    assert listed(web_client, "?sort=oldest")[:2] == ids[:2]
    assert listed(web_client, f"?sender={other.id}") == [water]
    assert listed(web_client, "?action=1") == [water]
    assert listed(web_client, "?q=dijkwerk") == [water]
    assert listed(web_client, "?q=L-001") == [ids[1]]
    web_client.get(f"/letters/{water}")
    assert water not in listed(web_client, "?unread=1")
    page = web_client.get("/inbox?q=dijk")
    assert "1 brief gevonden voor ‘dijk’" in page.text
    hostile = web_client.get("/inbox", params={"q": '<b onmouseover="x">dijk'}).text
    assert "<b onmouseover" not in hostile and "&lt;b onmouseover=&#34;x&#34;&gt;dijk" in hostile
    nav = [href for href, _ in links(web_client.get("/inbox").text, "/inbox?") if "page=" in href]
    assert nav == ["/inbox?page=2"]


def test_many_letters_at_once_archive_move_and_back(runtime, deliver, web_client, csrf, citizen):
    a, b, c = deliver(register(runtime), citizen, 3)
    answer = act(web_client, csrf, "archive", [a, b])
    assert answer.headers["location"] == "/inbox?notice=archive&count=2"
    assert listed(web_client) == [c]
    assert set(listed(web_client, "?box=archive")) == {a, b}
    web_client.post("/folders", data={"csrf_token": csrf, "name": "Belasting"})
    folder = re.search(r'/inbox\?folder=([0-9a-f-]+)"', web_client.get("/folders").text).group(1)
    act(web_client, csrf, f"move:{folder}", [a, c])
    assert listed(web_client, f"?folder={folder}") == [c, a]
    assert listed(web_client, "?box=archive") == [b] and listed(web_client) == []
    act(web_client, csrf, "move:", [a])  # back to the inbox
    act(web_client, csrf, "unarchive", [b])
    assert listed(web_client) == [b, a]


def test_folders_are_made_renamed_and_deleted(runtime, deliver, web_client, csrf, citizen):
    [letter_id] = deliver(register(runtime), citizen, 1)
    assert web_client.post("/folders", data={"csrf_token": csrf, "name": "Zorg"}).status_code == 200
    clash = web_client.post("/folders", data={"csrf_token": csrf, "name": " zorg "})
    assert clash.status_code == 422 and "U hebt al een map met deze naam." in clash.text
    folder = re.search(r"/folders/([0-9a-f-]+)/rename", web_client.get("/folders").text).group(1)
    act(web_client, csrf, f"move:{folder}", [letter_id])
    renamed = web_client.post(f"/folders/{folder}/rename", data={"csrf_token": csrf, "name": "Gezondheid"})
    assert "Gezondheid" in renamed.text and "De naam van de map is gewijzigd." in renamed.text
    deleted = web_client.post(f"/folders/{folder}/delete", data={"csrf_token": csrf})
    assert "Gezondheid" not in deleted.text and listed(web_client) == [letter_id]
    assert web_client.post(f"/folders/{folder}/delete", data={"csrf_token": csrf}).status_code == 404


def test_the_bin_restore_and_empty_tell_the_sender(runtime, deliver, web_client, csrf, citizen, client):
    sender = register(runtime)
    a, b = deliver(sender, citizen, 2)
    answer = act(web_client, csrf, "bin", [a, b], back=f"/letters/{a}")
    assert answer.headers["location"] == "/inbox?notice=bin&count=2"  # the letter page is gone
    assert listed(web_client) == [] and listed(web_client, "?box=bin") == [b, a]
    act(web_client, csrf, "restore", [a], back="/inbox?box=bin")
    assert listed(web_client) == [a]
    assert "Prullenbak legen?" in web_client.get("/bin/empty").text
    emptied = web_client.post("/bin/empty", data={"csrf_token": csrf})
    assert "De prullenbak is leeg." in emptied.text and listed(web_client, "?box=bin") == []
    assert web_client.get(f"/letters/{b}").status_code == 404
    events = [e["type"] for e in client.get(f"/api/v1/messages/{b}", headers=sender.headers).json()["events"]]
    assert events == ["accepted", "delivered", "deleted-by-recipient"]


def test_purge_from_the_bin_and_restore_only_what_is_binned(runtime, deliver, web_client, csrf, citizen):
    a, b = deliver(register(runtime), citizen, 2)
    act(web_client, csrf, "bin", [a])
    assert act(web_client, csrf, "restore", [b]).headers["location"].endswith("count=0")
    assert (
        act(web_client, csrf, "purge", [a, b], back="/inbox?box=bin").headers["location"].endswith("count=1")
    )
    assert listed(web_client, "?box=all") == [b]


def test_another_citizens_letters_cannot_be_changed(runtime, deliver, web_client, csrf, citizen, bsns):
    theirs = make_citizen(runtime, bsns[1])
    sender = register(runtime)
    [their_letter] = deliver(sender, theirs, 1)
    for action in ("archive", "bin", "unread", "purge"):
        assert act(web_client, csrf, action, [their_letter]).headers["location"].endswith("count=0")
    assert act(web_client, csrf, "move:not-a-folder", [their_letter]).status_code == 404
    sign_in(web_client, runtime, theirs)
    assert listed(web_client, "?unread=1") == [their_letter]  # untouched: still unread, in the inbox


def test_actions_need_the_forms_token(runtime, deliver, web_client, csrf, citizen):
    [letter_id] = deliver(register(runtime), citizen, 1)
    assert act(web_client, "forged", "bin", [letter_id]).status_code == 403
    assert web_client.post("/bin/empty", data={}).status_code == 403
    assert web_client.post("/folders", data={"name": "x"}).status_code == 403
    assert listed(web_client) == [letter_id]


def test_every_form_on_the_pages_carries_the_token(runtime, deliver, web_client, csrf, citizen):
    [letter_id] = deliver(register(runtime), citizen, 1)
    web_client.post("/folders", data={"csrf_token": csrf, "name": "Zorg"})
    for path in ("/inbox", "/inbox?box=bin", f"/letters/{letter_id}", "/folders", "/bin/empty"):
        html = web_client.get(path).text
        posts = re.findall(r'<form method="post"[^>]*>(.*?)</form>', html, re.S)
        assert posts, path
        assert all(f'name="csrf_token" value="{csrf}"' in form for form in posts), path


def test_the_language_switch_remembers_the_choice_and_stays_on_this_site(web_client, csrf):
    assert "Postvak IN" in web_client.get("/inbox").text
    answer = web_client.get("/language?lang=en&back=/inbox%3Fbox%3Darchive", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox?box=archive"
    assert "lang=en" in answer.headers["set-cookie"]
    assert ">Inbox<" in web_client.get("/inbox").text
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        away = web_client.get("/language", params={"lang": "nl", "back": evil}, follow_redirects=False)
        assert away.headers["location"] == "/", evil
