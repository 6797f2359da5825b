"""Bad input at POST /api/v1/messages: each odd letter gets its exact problem, stores nothing, logs clean."""

from datetime import UTC, date, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, select

from postvak.attachments.models import Blob
from postvak.kit import clock
from postvak.messages.models import Message
from tests.support.letters import letter
from tests.support.logcheck import bsns_in
from tests.support.odd_letters import ODD_LETTERS, raw_controls_in
from tests.support.problems import assert_problem

URL = "/api/v1/messages"


def _stored(runtime) -> tuple[int, int]:
    with runtime.database.unit_of_work(write=False) as session:
        return (
            session.scalar(select(func.count()).select_from(Message)),
            session.scalar(select(func.count()).select_from(Blob)),
        )


def _post(client, sender, body: bytes):
    return client.post(URL, content=body, headers={**sender.headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("odd", ODD_LETTERS, ids=[o.name for o in ODD_LETTERS])
def test_an_odd_letter_gets_its_exact_problem_and_stores_nothing(
    client, sender, runtime, bsns, odd, capfd, caplog
):
    response = _post(client, sender, odd.encoded(letter(bsns[0], "ODD-1")))
    problem = assert_problem(response, odd.slug, odd.status)
    assert problem["detail"].startswith(f"{odd.field}: "), problem["detail"]
    assert odd.says in problem["detail"]
    assert problem["instance"] == URL
    assert _stored(runtime) == (0, 0)
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert bsns_in(logged) == [] and bsns[0] not in problem["detail"]
    assert raw_controls_in(logged) == []


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"subject": NaN}', "not valid JSON"),
        (b'{"subject": Infinity}', "not valid JSON"),
        (b'{"subject": "\\ud800', "not valid JSON"),  # a surrogate in a broken document is still broken
        (b'{"subject": "\xff\xfe"}', "not UTF-8"),
        (b'\xef\xbb\xbf{"subject": "x"}', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
    ids=["truncated", "empty", "NaN", "Infinity", "unterminated surrogate", "Latin-1", "BOM", "deep nesting"],
)
def test_a_body_that_is_not_json_is_named_as_such(client, sender, runtime, body, says):
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"].startswith("body: ") and says in problem["detail"]
    assert _stored(runtime) == (0, 0)


@pytest.mark.parametrize(("body", "field"), [(b"[]", "body"), (b'"letter"', "body"), (b"null", "body")])
def test_a_document_that_is_not_an_object_is_refused(client, sender, body, field):
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"].startswith(f"{field}: ")


def test_every_failing_field_is_named_in_the_order_of_the_fields(client, sender, runtime, bsns):
    fields = {"paperFallback": "sometimes", "dueDate": "31-03-2027", "subject": "x" * 256, "sensitive": "no"}
    body = orjson.dumps(letter(bsns[0], "MANY-1", **fields))
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"] == (
        "subject: String should have at most 255 characters; dueDate: must be a date as YYYY-MM-DD; "
        "sensitive: Input should be a valid boolean; "
        "paperFallback: Input should be 'never', 'if-unreachable' or 'if-unread-by-due-date'"
    )
    assert _stored(runtime) == (0, 0)


def test_a_letter_with_a_thousand_bad_fields_gets_a_short_detail_that_counts_them(client, sender, bsns):
    body = orjson.dumps(letter(bsns[0], "MANY-2", **{f"extra{n:04}": n for n in range(1000)}))
    problem = assert_problem(_post(client, sender, body), "validation-failed", 422)
    assert problem["detail"].startswith("extra0000: Extra inputs are not permitted; extra0001: ")
    assert problem["detail"].endswith("; and 980 more") and len(problem["detail"]) < 2000


def test_multi_line_text_keeps_its_tabs_and_line_breaks_and_right_to_left_script(client, sender, bsns):
    body = "Geachte heer,\n\n\tBedrag:\tEUR 12,00\r\nمع السلامة\u2028Einde"
    fields = {"notification": {"text": "Regel 1\nRegel 2"}, "subject": "Aanslag — ĳsselmeer 東京 😀"}
    response = client.post(URL, json=letter(bsns[0], "ODD-OK", body=body, **fields), headers=sender.headers)
    assert response.status_code == 201, response.text
    assert response.json()["subject"] == fields["subject"]
    assert response.json()["notification"] == {"text": "Regel 1\nRegel 2"}


def test_a_retry_of_a_stored_letter_is_answered_after_its_dates_have_passed(client, sender, runtime, bsns):
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    clock.set_clock(lambda: start)
    sent = letter(bsns[0], "ODD-LATER", dueDate="2027-03-31", publishAt="2027-03-02T07:00:00+01:00")
    first = client.post(URL, json=sent, headers=sender.headers)
    assert first.status_code == 201, first.text
    clock.set_clock(lambda: datetime.combine(date(2027, 6, 1), datetime.min.time(), tzinfo=UTC))
    again = client.post(URL, json=sent, headers=sender.headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    fresh = client.post(URL, json={**sent, "senderReference": "ODD-LATER-2"}, headers=sender.headers)
    assert assert_problem(fresh, "validation-failed", 422)["detail"].startswith("dueDate: ")
    clock.set_clock(lambda: start + timedelta(days=3))  # dueDate still ahead, publishAt two days past
    late = client.post(URL, json={**sent, "senderReference": "ODD-LATER-3"}, headers=sender.headers)
    assert assert_problem(late, "validation-failed", 422)["detail"].startswith("publishAt: ")
    assert _stored(runtime) == (1, 0)
