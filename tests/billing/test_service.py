"""Statements on a real database: a month of mixed traffic — letters, e-mails (a digest and reminders
among them), SMS and a print — built through the API, the worker and the printing service, counted back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from postvak.billing import rules, service
from postvak.billing.rules import Month
from postvak.citizens import service as citizens
from postvak.errors import ValidationFailed
from postvak.kit import clock
from tests.support.citizens import make_citizen
from tests.support.notifying import add_phone, deliver, notifying
from tests.support.printing import print_worker, register_addresses, send_unreachable
from tests.support.smtp import text_of

MARCH = Month(2027, 3)
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 in the Netherlands
TARIFFS = rules.Tariffs(
    letter=Decimal("0.10"), sms=Decimal("0.0125"), print=Decimal("1.25"), paper_equivalent=Decimal("1.50")
)
TAX = {
    "dueDate": "2027-06-30",
    "action": {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/1"},
}


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


def _statement(runtime, sender_id, month: str = "2027-03"):
    with runtime.database.unit_of_work(write=False) as session:
        return service.read_statement(
            session, sender_id=sender_id, month=month, tariffs=TARIFFS, now=clock.now()
        )


def _events_in(client, sender, message_ids, kind: str, month: Month) -> int:
    count = 0
    for message_id in message_ids:
        for e in client.get(f"/api/v1/messages/{message_id}", headers=sender.headers).json()["events"]:
            moment = datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
            count += e["type"] == kind and month.starts_at <= moment < month.ends_at
    return count


def test_statement_totals_equal_what_was_sent_in_a_month_of_mixed_traffic(
    runtime, client, sender, other_sender, bsns
):
    # 23:59 on 28 February in the Netherlands: February's. 00:30 on 1 March there: March's.
    at(datetime(2027, 2, 28, 22, 59, tzinfo=UTC))
    february = deliver(client, sender, bsns[9], "M-feb")
    at(datetime(2027, 2, 28, 23, 30, tzinfo=UTC))
    first = deliver(client, sender, bsns[9], "M-0")

    at(T0)
    reader = make_citizen(runtime, bsns[0])  # e-mail and SMS
    add_phone(runtime, reader.id, sms=True)
    digester = make_citizen(runtime, bsns[1])  # letters that ask nothing in one e-mail a day
    with runtime.database.unit_of_work() as session:
        citizens.set_daily_digest(session, citizen_id=digester.id, on=True)
    register_addresses(runtime, [bsns[2]])

    with notifying(runtime) as (sink, worker):
        tax = deliver(client, sender, bsns[0], "M-1", **TAX)
        quiet = [deliver(client, sender, bsns[1], f"M-{n}") for n in (2, 3)]
        theirs = deliver(client, other_sender, bsns[1], "O-1")
        printed = send_unreachable(client, sender, bsns[2], "M-4")
        assert print_worker(runtime).drain() == 2  # the fallback's request, then its print batch
        worker.drain()
        sink.wait_for(1)

        at(T0 + timedelta(hours=9))  # 19:00 there: after the daily digest's 17:00
        worker.drain()
        [_, digest] = sink.wait_for(2)
        assert all(f"/letters/{i}" in text_of(digest) for i in [*quiet, theirs])

        at(T0 + timedelta(days=7, hours=1))  # unread for a week: reminders
        worker.drain()
        sink.wait_for(6)
        worker.drain()
        march_mails, march_sms = list(sink.messages), list(runtime.sms.sent)

        at(datetime(2027, 4, 1, 6, 0, tzinfo=UTC))  # April's: in no statement of March
        april = deliver(client, sender, bsns[0], "M-apr")
        worker.drain()
        sink.wait_for(len(march_mails) + 1)

    ours = [first, tax, *quiet, str(printed)]
    statement = _statement(runtime, sender.id)
    # Counted independently: the e-mails the mail server received and the text messages the provider
    # took that name one of this sender's letters; the events of its letters that fall in March.
    emails = [m for m in march_mails if any(f"/letters/{i}" in text_of(m) for i in ours)]
    sms = [s for s in march_sms if any(i in s[2] for i in ours)]
    assert statement.letters == _events_in(client, sender, [february, *ours, april], "accepted", MARCH) == 5
    assert statement.prints == _events_in(client, sender, ours, "fallback-printed", MARCH) == 1
    assert statement.emails == len(emails) == 5  # tax, the digest, three reminders
    assert statement.sms == len(sms) == 2  # tax, and its reminder
    assert statement.month == "2027-03"
    expected = rules.charges(rules.Usage(letters=5, emails=5, sms=2, prints=1), TARIFFS)
    assert (
        (statement.amount.value, statement.paper_equivalent.value)
        == ("1.78", "7.50")
        == (
            f"{expected.amount}",
            f"{expected.paper_equivalent}",
        )
    )  # 5 × 0.10 + 2 × 0.0125 + 1.25 = 1.775, half up
    assert statement.amount.currency == statement.paper_equivalent.currency == "EUR"

    # The digest named letters of both senders: it counts once for each.
    theirs_statement = _statement(runtime, other_sender.id)
    assert (theirs_statement.letters, theirs_statement.emails, theirs_statement.sms) == (1, 2, 0)
    february_statement = _statement(runtime, sender.id, "2027-02")
    assert (february_statement.letters, february_statement.emails) == (1, 0)
    april_statement = _statement(runtime, sender.id, "2027-04")
    assert (april_statement.letters, april_statement.emails, april_statement.sms) == (1, 1, 1)


def test_a_month_without_traffic_is_zero_and_another_senders_traffic_is_not_ours(
    runtime, client, sender, other_sender, bsns
):
    at(T0)
    deliver(client, other_sender, bsns[0], "X-1")
    statement = _statement(runtime, sender.id)
    assert (statement.letters, statement.emails, statement.sms, statement.prints) == (0, 0, 0, 0)
    assert statement.amount.value == statement.paper_equivalent.value == "0.00"


@pytest.mark.parametrize("month", ["2026-13", "0999-01", "2027-4", "2027-04", "march"])
def test_a_month_a_statement_cannot_cover_is_a_bad_request(runtime, sender, month):
    at(T0)
    with pytest.raises(ValidationFailed):
        _statement(runtime, sender.id, month)
