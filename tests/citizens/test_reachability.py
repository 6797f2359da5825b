"""Reachability: the rule without a database, and the one query a whole check makes, on a real database."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, update

from postvak.citizens import service
from postvak.citizens.models import EmailAddress
from postvak.citizens.rules import Contact, chose_paper_for, is_reachable
from postvak.errors import InvalidRecipient, ValidationFailed
from tests.support.citizens import make_citizen
from tests.support.notifying import add_phone, deliver

SENDER = uuid.UUID("0193a1c2-7d4e-7b7a-9c1d-2f3e4a5b6c7d")
ids = st.uuids()


@given(st.booleans(), st.booleans(), st.booleans(), st.frozensets(ids, max_size=3), ids)
def test_reachable_is_activated_with_a_verified_channel_and_no_paper_for_this_sender(
    activated, email, sms, paper, sender_id
):
    contact = Contact(activated=activated, verified_email=email, sms_chosen=sms, paper_chosen_for=paper)
    expected = activated and (email or sms) and sender_id not in paper
    assert is_reachable(contact, sender_id=sender_id) is expected


@given(st.frozensets(ids, max_size=3), ids)
def test_paper_chosen_for_another_sender_changes_nothing_for_this_one(paper, sender_id):
    others = paper - {sender_id}
    contact = Contact(activated=True, verified_email=True, sms_chosen=False, paper_chosen_for=others)
    assert is_reachable(contact, sender_id=sender_id)
    assert not is_reachable(
        Contact(activated=True, verified_email=True, sms_chosen=True, paper_chosen_for=others | {sender_id}),
        sender_id=sender_id,
    )
    assert chose_paper_for(sender_id, frozenset()) is False  # the hook: today nobody has chosen paper


def test_no_mailbox_is_not_reachable():
    assert is_reachable(None, sender_id=SENDER) is False


def _check(runtime, recipients, sender_id=SENDER) -> list[service.Reachability]:
    with runtime.database.unit_of_work(write=False) as session:
        return service.check_reachability(session, sender_id=sender_id, recipients=recipients)


def _bsn(value: str) -> dict:
    return {"type": "BSN", "value": value}


def _unverify_addresses(runtime, citizen_id) -> None:
    """No service makes this state (the last verified address cannot be removed); the rule must not
    depend on that, so the test makes it by hand."""
    with runtime.database.unit_of_work() as session:
        session.execute(
            update(EmailAddress).where(EmailAddress.citizen_id == citizen_id).values(verified_at=None)
        )


def test_activated_not_activated_no_channel_and_unknown(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[0])  # activated, verified e-mail address
    make_citizen(runtime, bsns[1], activated=False)  # registered, address not verified yet
    deliver(client, sender, bsns[2], "R-1")  # a mailbox with letters, no account
    sms_only = make_citizen(runtime, bsns[3])
    add_phone(runtime, sms_only.id, sms=True)
    _unverify_addresses(runtime, sms_only.id)
    phone_without_sms = make_citizen(runtime, bsns[4])
    add_phone(runtime, phone_without_sms.id, "+31612345679", sms=False)
    _unverify_addresses(runtime, phone_without_sms.id)
    # bsns[5]: never heard of
    results = _check(runtime, [_bsn(b) for b in bsns[:6]])
    assert [r.reachable for r in results] == [True, False, False, True, False, False]
    assert [r.index for r in results] == list(range(6))
    assert all(r.problem is None for r in results)


def test_a_bad_recipient_is_answered_alone_with_its_problem(runtime, bsns):
    make_citizen(runtime, bsns[0])
    wrong_digit = bsns[0][:8] + str((int(bsns[0][8]) + 1) % 10)
    results = _check(
        runtime,
        [
            _bsn(bsns[0]),
            _bsn(wrong_digit),
            _bsn("000000000"),
            {"type": "KVK", "value": "12345678"},
            "not an object",
            {"type": "BSN"},
            _bsn(bsns[0]),  # twice: answered twice
        ],
    )
    assert [r.reachable for r in results] == [True, False, False, False, False, False, True]
    assert isinstance(results[1].problem, InvalidRecipient)
    assert results[1].problem.detail == "value: the BSN fails the check digit (elfproef)"
    assert isinstance(results[2].problem, InvalidRecipient)
    assert all(isinstance(r.problem, ValidationFailed) for r in results[3:6])
    assert results[4].problem.detail == "recipient: must be a JSON object"
    assert results[5].problem.detail == "value: Field required"
    for r in results:
        assert wrong_digit not in (r.problem.detail if r.problem else "")


def test_ten_thousand_recipients_are_looked_up_in_one_indexed_query(runtime, bsns, db_kind):
    many = [_bsn(b) for b in bsns] * 5  # 10,000 recipients, each five times
    make_citizen(runtime, bsns[7])
    engine = runtime.database.reader
    seen: list[tuple[str, tuple]] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "mailboxes" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", count)
    try:
        results = _check(runtime, many)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(results) == 10_000
    assert [r.index for r in results if r.reachable] == [7 + n * len(bsns) for n in range(5)]
    assert len(seen) == 1
    if db_kind == "sqlite":
        with engine.connect() as conn:
            statement, parameters = seen[0]
            plan = " ".join(
                str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
        assert "SEARCH mailboxes USING INDEX" in plan, plan


@pytest.mark.parametrize("sms_on", [True, False])
def test_a_verified_phone_counts_only_with_sms_on(runtime, bsns, sms_on):
    citizen = make_citizen(runtime, bsns[0])
    add_phone(runtime, citizen.id, sms=sms_on)
    _unverify_addresses(runtime, citizen.id)
    [result] = _check(runtime, [_bsn(bsns[0])])
    assert result.reachable is sms_on
