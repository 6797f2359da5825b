"""Inbox search on the real index: SQLite FTS5 or PostgreSQL (`dutch`), through the one interface."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postvak.inbox import rules
from postvak.inbox import service as inbox
from tests.inbox.mailboxes import mailbox, send
from tests.support.letters import letter, register


@pytest.fixture
def letters(runtime, sender, bsns):
    """Three letters in one mailbox, and one with the same words in another mailbox."""
    box = mailbox(runtime, bsns[0])
    mailbox(runtime, bsns[1])
    water = register(runtime, "Waterschap De Dommel", "00000001823288444000")
    ids = send(
        runtime,
        sender,
        letter(
            bsns[0],
            "IB-2027-000123",
            subject="Voorlopige aanslag inkomstenbelasting 2027",
            messageType="aanslag",
        ),
        letter(bsns[0], "WOZ-2027-9", subject="Uw WOZ-beschikking", messageType="beschikking"),
        letter(bsns[1], "IB-2027-000999", subject="Voorlopige aanslag inkomstenbelasting 2027"),
    )
    ids += send(
        runtime,
        water,
        letter(bsns[0], "WS-1", subject="Werkzaamheden aan de dijken", messageType="informatie"),
    )
    return box, {"ib": ids[0], "woz": ids[1], "theirs": ids[2], "dijk": ids[3]}


def found(runtime, mailbox_id, query, **params):
    with runtime.database.unit_of_work(write=False) as session:
        page = inbox.list_messages(
            session, mailbox_id=mailbox_id, listing=rules.parse_listing({"q": query, "box": "all", **params})
        )
    return {row.message_id for row in page.messages}


def test_search_finds_by_subject_sender_type_and_reference(runtime, letters):
    box, ids = letters
    assert found(runtime, box, "aanslag") == {ids["ib"]}
    assert found(runtime, box, "Inkomstenbelasting 2027") == {ids["ib"]}
    assert found(runtime, box, "dommel") == {ids["dijk"]}  # sender name
    assert found(runtime, box, "beschikking") == {ids["woz"]}
    assert found(runtime, box, "informatie") == {ids["dijk"]}  # message type
    assert found(runtime, box, "IB-2027-000123") == {ids["ib"]}  # reference, whole
    assert found(runtime, box, "000123") == {ids["ib"]}  # reference, part
    assert found(runtime, box, "2027") == {ids["ib"], ids["woz"]}


def test_every_word_counts_and_matches_as_a_prefix(runtime, letters):
    box, ids = letters
    assert found(runtime, box, "voorlo") == {ids["ib"]}
    assert found(runtime, box, "aansl inkomst") == {ids["ib"]}
    assert found(runtime, box, "aanslag dijk") == set()
    assert found(runtime, box, "Gemeente") == {ids["ib"], ids["woz"]}


def test_search_never_reaches_another_mailbox(runtime, letters):
    box, ids = letters
    assert ids["theirs"] not in found(runtime, box, "000999 aanslag")
    assert found(runtime, box, "000999") == set()


def test_search_keeps_to_the_box_and_filters(runtime, letters, sender):
    box, ids = letters
    with runtime.database.unit_of_work() as session:
        inbox.archive_messages(session, mailbox_id=box, message_ids=[str(ids["ib"])])
    assert found(runtime, box, "aanslag", box="inbox") == set()
    assert found(runtime, box, "aanslag", box="archive") == {ids["ib"]}
    assert found(runtime, box, "werkzaamheden 2027") == set()
    assert found(runtime, box, "2027", sender=str(sender.id)) == {ids["ib"], ids["woz"]}
    assert found(runtime, box, "2027", unread="1", action="1") == set()


def test_dutch_stemming_on_postgresql(runtime, letters, db_kind):
    if db_kind != "postgresql":
        pytest.skip("stemming is PostgreSQL's `dutch` configuration")
    box, ids = letters
    assert found(runtime, box, "aanslagen") == {ids["ib"]}
    assert found(runtime, box, "dijk") == {ids["dijk"]}  # "dijken" stems to "dijk"


@pytest.mark.parametrize(
    "query",
    [
        '"aanslag',
        "aanslag OR dijk",
        "NEAR(aanslag dijk)",
        "subject:aanslag",
        "aanslag*",
        "-aanslag",
        "aanslag & !dijk | (x",
        "aan<->slag",
        "a:* 'b' \\c",
        "^aanslag",
    ],
)
def test_search_syntax_in_the_query_is_plain_text(runtime, letters, query):
    box, ids = letters
    result = found(runtime, box, query)  # never an error
    assert ids["theirs"] not in result
    if query in ("aanslag OR dijk", "NEAR(aanslag dijk)"):
        assert result == set()  # every word must match: OR and NEAR are words here


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_text_is_a_safe_search(runtime, letters, text):
    box, ids = letters
    assert ids["theirs"] not in found(runtime, box, text)
