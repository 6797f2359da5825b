"""The notification lanes with one poisoned job between good ones, for every kind of notification: the
good ones are sent once and recorded, the poisoned one fails alone (error class, backoff) and is parked
after job_max_failures; nothing is sent twice, whatever raises and wherever."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from postvak.citizens.models import Citizen
from postvak.jobs import repository as jobs
from postvak.jobs import service as outbox
from postvak.kit import clock
from postvak.messages.models import Message
from postvak.notifications import content, repository, rules
from postvak.notifications.sms import ConsoleSms
from tests.support.citizens import make_citizen
from tests.support.jobs import jobs_like, poison, run_until_parked, stored_job
from tests.support.notifying import add_phone, deliver, events_of, notifying

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MAX_FAILURES = 3
TAX = {
    "dueDate": "2027-03-31",
    "action": {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/1"},
}


def at(moment: datetime) -> None:
    clock.set_clock(lambda: moment)


@pytest.fixture
def three(runtime, bsns):
    """Three activated citizens, and a worker that parks a job after three failures."""
    runtime.settings = runtime.settings.model_copy(update={"job_max_failures": MAX_FAILURES})
    at(T0)
    return [make_citizen(runtime, bsn) for bsn in bsns[:3]]


def sent_ids(sink) -> Counter:
    return Counter(m["Message-ID"] for m in sink.messages)


def email_id(reason: str, message_id: str) -> str:
    return f"<{reason}.{message_id}.email@postvak.localhost>"


def told(client, sender, message_id: str) -> list[tuple[str, str | None]]:
    return [(t, d) for t, d in events_of(client, sender, message_id) if t in ("notified", "reminded")]


def assert_finished_first_time(runtime, *dedupe_keys: str) -> None:
    for key in dedupe_keys:
        job = stored_job(runtime, key)
        assert job.done_at is not None and job.attempts == 1 and job.failures == 0, key


def test_a_poisoned_new_letter_job_fails_alone_and_is_parked(runtime, client, sender, bsns, three):
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"NEW-{n}") for n in range(3)]
        poison(runtime, f"notify-email:new:{ids[1]}", since="not a time")
        seen, parked = run_until_parked(runtime, worker, f"notify-email:new:{ids[1]}", T0)
    assert seen == [1, 2, 3] and parked.attempts == 3
    assert parked.last_error.startswith("ValueError: Invalid isoformat string")
    assert sent_ids(sink) == Counter({email_id("new", ids[0]): 1, email_id("new", ids[2]): 1})
    assert told(client, sender, ids[0]) == told(client, sender, ids[2]) == [("notified", "email")]
    assert told(client, sender, ids[1]) == []
    assert_finished_first_time(runtime, f"notify-email:new:{ids[0]}", f"notify-email:new:{ids[2]}")


def test_poisoned_reminders_fail_alone_and_are_parked(runtime, client, sender, bsns, three):
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"REM-{n}", **TAX) for n in range(3)]
        worker.drain()
        assert len(sink.wait_for(3)) == 3
        poison(runtime, f"notify-email:unread:{ids[1]}", days="seven")
        poison(runtime, f"notify-email:due-date:{ids[2]}", since=12)

        a_week_on = T0 + timedelta(days=7, seconds=1)
        at(a_week_on)
        seen, parked = run_until_parked(runtime, worker, f"notify-email:unread:{ids[1]}", a_week_on)
        assert seen == [1, 2, 3] and parked.last_error.startswith("ValueError: invalid literal for int()")

        last_call = datetime(2027, 3, 26, 8, 1, tzinfo=UTC)  # 09:01 in the Netherlands, five days before
        at(last_call)
        seen, parked = run_until_parked(runtime, worker, f"notify-email:due-date:{ids[2]}", last_call)
        assert seen == [1, 2, 3] and parked.last_error.startswith("TypeError")
        at(datetime(2027, 4, 30, tzinfo=UTC))
        worker.drain()
    assert sent_ids(sink) == Counter(
        [email_id("new", i) for i in ids]
        + [email_id("unread", ids[0]), email_id("unread", ids[2])]
        + [email_id("due-date", ids[0]), email_id("due-date", ids[1])]
    )
    assert [d for t, d in told(client, sender, ids[1]) if t == "reminded"] == ["due-date"]
    assert [d for t, d in told(client, sender, ids[2]) if t == "reminded"] == ["unread"]


def test_a_poisoned_digest_fails_alone_and_is_parked(runtime, client, sender, bsns, three):
    with runtime.database.unit_of_work() as session:
        session.execute(
            update(Citizen).where(Citizen.id.in_([c.id for c in three])).values(daily_digest=True)
        )
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"DIG-{n}", subject=f"Nieuwsbrief {n}") for n in range(3)]
        worker.drain()
        assert sink.messages == []  # they wait for the digest at 17:00
        [digest] = [
            j for j in jobs_like(runtime, "notify-email:digest:%") if str(three[1].mailbox_id) in j.dedupe_key
        ]
        poison(runtime, digest.dedupe_key, since="the evening")
        five_pm = datetime(2027, 3, 1, 16, 0, 1, tzinfo=UTC)
        at(five_pm)
        seen, parked = run_until_parked(runtime, worker, digest.dedupe_key, five_pm)
    assert seen == [1, 2, 3] and parked.last_error.startswith("ValueError")
    assert len(sink.messages) == 2 and set(sent_ids(sink).values()) == {1}
    assert told(client, sender, ids[0]) == told(client, sender, ids[2]) == [("notified", "email")]
    assert told(client, sender, ids[1]) == []


def test_a_poisoned_text_message_fails_alone_and_is_parked(runtime, client, sender, bsns, three, monkeypatch):
    for citizen in three:
        add_phone(runtime, citizen.id)
    runtime.sms = ConsoleSms()
    ids: list[str] = []
    compose = content.notice_sms

    def poisoned(notice):
        if ids[1] in notice.link:
            raise UnicodeError("cannot shorten this text")
        return compose(notice)

    monkeypatch.setattr(content, "notice_sms", poisoned)
    with notifying(runtime) as (sink, worker):
        ids += [deliver(client, sender, bsns[n], f"SMS-{n}") for n in range(3)]
        seen, parked = run_until_parked(runtime, worker, f"notify-sms:new:{ids[1]}", T0)
    assert seen == [1, 2, 3] and parked.last_error == "UnicodeError: cannot shorten this text"
    assert sorted(reference for _, _, reference in runtime.sms.sent) == sorted(
        f"new.{ids[n]}" for n in (0, 2)
    )
    assert len(sink.messages) == 3 and set(sent_ids(sink).values()) == {1}
    assert ("notified", "sms") in told(client, sender, ids[0]) and ("notified", "sms") not in told(
        client, sender, ids[1]
    )


class DoubtfulSms(ConsoleSms):
    """Hands every text over, but for one number raises afterwards (an answer it cannot read)."""

    def __init__(self, doubtful: str) -> None:
        super().__init__()
        self.doubtful = doubtful

    def send(self, to: str, text: str, reference: str) -> str:
        provider_id = super().send(to, text, reference)
        if to == self.doubtful:
            raise KeyError("id")
        return provider_id


def test_a_text_message_that_may_have_gone_out_is_parked_at_once_never_sent_again(
    runtime, client, sender, bsns, three
):
    for n, citizen in enumerate(three):
        add_phone(runtime, citizen.id, f"+3161234567{n}")
    runtime.sms = DoubtfulSms("+31612345671")
    with notifying(runtime) as (_, worker):
        ids = [deliver(client, sender, bsns[n], f"MAYBE-{n}") for n in range(3)]
        worker.drain()
        at(T0 + timedelta(days=2))
        worker.drain()
    assert sorted(reference for _, _, reference in runtime.sms.sent) == sorted(f"new.{i}" for i in ids)
    job = stored_job(runtime, f"notify-sms:new:{ids[1]}")
    assert job.parked_at is not None and job.attempts == 1
    assert job.last_error == "it may have gone out: KeyError: 'id'"


def test_a_letter_due_on_0001_01_02_is_notified_once_among_its_neighbours(
    runtime, client, sender, bsns, three
):
    """The issue's letter: its e-mail once, `notified`, no reminders (its deadline is long past)."""
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"OLD-{n}", **TAX) for n in range(3)]
        _store_due_date(runtime, ids[1], date(1, 1, 2))  # as the API accepted it before its edge check
        for moment in (T0, T0 + timedelta(days=7, seconds=1), datetime(2027, 3, 26, 8, 1, tzinfo=UTC)):
            at(moment)
            worker.drain()
    assert [email_id("new", i) in sent_ids(sink) for i in ids] == [True, True, True]
    assert set(sent_ids(sink).values()) == {1}
    assert told(client, sender, ids[1]) == [("notified", "email")]
    assert_finished_first_time(runtime, *(f"notify-email:new:{i}" for i in ids))
    assert [j.dedupe_key for j in jobs_like(runtime, f"notify-email:%:{ids[1]}")] == [
        f"notify-email:new:{ids[1]}"
    ]
    assert [d for t, d in told(client, sender, ids[0]) if t == "reminded"] == ["unread", "due-date"]


def test_when_planning_reminders_raises_the_email_stays_sent_once_and_recorded(
    runtime, client, sender, bsns, three, monkeypatch
):
    """The issue's scenario as it was: reminder planning overflows after the e-mail went out. The
    e-mail is recorded (`notified`), its neighbours are not touched, and the job retries only the
    planning (never the e-mail) until it is parked."""
    plan = rules.reminder_times

    def overflowing(delivered_at, due_date, unread_days=7):
        if due_date == date(1, 1, 2):
            raise OverflowError("date value out of range")
        return plan(delivered_at, due_date, unread_days)

    monkeypatch.setattr(rules, "reminder_times", overflowing)
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"OVER-{n}", **TAX) for n in range(3)]
        _store_due_date(runtime, ids[1], date(1, 1, 2))
        seen, parked = run_until_parked(runtime, worker, f"notify-email:new:{ids[1]}", T0)
    assert seen == [1, 2, 3]
    assert parked.last_error == "planning its reminders failed: OverflowError: date value out of range"
    assert sent_ids(sink) == Counter(email_id("new", i) for i in ids)
    assert [told(client, sender, i) for i in ids] == [[("notified", "email")]] * 3
    assert_finished_first_time(runtime, f"notify-email:new:{ids[0]}", f"notify-email:new:{ids[2]}")
    assert len(jobs_like(runtime, f"notify-email:unread:{ids[0]}")) == 1


def test_a_letter_that_cannot_be_read_fails_its_job_alone(runtime, client, sender, bsns, three, monkeypatch):
    ids: list[str] = []
    states = repository.message_states

    def unreadable(session, message_ids):
        if any(str(m) == ids[1] for m in message_ids):
            raise LookupError("this letter's row cannot be read")
        return states(session, message_ids)

    monkeypatch.setattr(repository, "message_states", unreadable)
    with notifying(runtime) as (sink, worker):
        ids += [deliver(client, sender, bsns[n], f"READ-{n}") for n in range(3)]
        seen, parked = run_until_parked(runtime, worker, f"notify-email:new:{ids[1]}", T0)
    assert seen == [1, 2, 3] and parked.last_error == "LookupError: this letter's row cannot be read"
    assert sent_ids(sink) == Counter({email_id("new", ids[0]): 1, email_id("new", ids[2]): 1})
    assert_finished_first_time(runtime, f"notify-email:new:{ids[0]}", f"notify-email:new:{ids[2]}")


def test_when_the_batch_cannot_be_recorded_each_job_is_recorded_alone(
    runtime, client, sender, bsns, three, monkeypatch
):
    """The write of a batch fails because of one sent e-mail: the others are recorded one by one,
    and that one is parked (it went out: never again without an operator)."""
    ids: list[str] = []
    insert = repository.insert_notifications

    def refusing(session, rows):
        if any(str(r["message_id"]) == ids[1] for r in rows):
            raise ValueError("value too long for type character varying(255)")
        return insert(session, rows)

    monkeypatch.setattr(repository, "insert_notifications", refusing)
    with notifying(runtime) as (sink, worker):
        ids += [deliver(client, sender, bsns[n], f"REC-{n}") for n in range(3)]
        worker.drain()
        at(T0 + timedelta(days=3))
        worker.drain()
    assert sent_ids(sink) == Counter(email_id("new", i) for i in ids)
    assert told(client, sender, ids[0]) == told(client, sender, ids[2]) == [("notified", "email")]
    job = stored_job(runtime, f"notify-email:new:{ids[1]}")
    assert job.parked_at is not None and job.attempts == 1
    assert job.last_error.startswith("sent, but recording it failed: ValueError: value too long")
    assert_finished_first_time(runtime, f"notify-email:new:{ids[0]}", f"notify-email:new:{ids[2]}")
    assert len(jobs_like(runtime, f"notify-email:unread:{ids[0]}")) == 1  # its follow-ups too


def _store_due_date(runtime, message_id: str, due: date) -> None:
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == _uuid(message_id)).values(due_date=due))


def _uuid(text: str):
    import uuid

    return uuid.UUID(text)


def test_a_batch_sends_only_in_the_first_half_of_its_lease_counted_from_its_claim(
    runtime, client, sender, bsns, three
):
    """Whatever delayed a batch (a claim waiting for a lock, a slow prepare), it never sends past half
    its lease: the other half is for recording, so no other worker claims a job sent and not yet
    recorded. The jobs it did not reach are handed back, a retry that is not a failure."""
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[n], f"LATE-{n}") for n in range(3)]
        with runtime.database.unit_of_work() as session:
            claimed = jobs.claim(session, "notify-email", T0, timedelta(seconds=300), 10, MAX_FAILURES).jobs
        at(T0 + timedelta(seconds=151))
        worker.lanes[1].run(claimed)
        assert sink.messages == []
        for message_id in ids:
            job = stored_job(runtime, f"notify-email:new:{message_id}")
            assert (
                job.last_error == "the batch took too long" and job.failures == 0 and job.locked_until is None
            )
        worker.drain()
    assert sent_ids(sink) == Counter(email_id("new", i) for i in ids)
    assert {stored_job(runtime, f"notify-email:new:{i}").attempts for i in ids} == {2}


def test_when_writing_the_follow_ups_fails_the_send_is_recorded_alone_first(
    runtime, client, sender, bsns, three, monkeypatch
):
    """The batch's write fails on one job's follow-up (its reminders): the others are written one
    by one, and that job's send is written without them; it fails, retries only the follow-ups
    (never the e-mail) and is parked."""
    ids: list[str] = []
    enqueue_many = outbox.enqueue_many

    def refusing(session, *, jobs):
        if len(ids) == 3 and any(job.key == f"notify-email:unread:{ids[1]}" for job in jobs):
            raise ValueError("value too long for type character varying(200)")
        return enqueue_many(session, jobs=jobs)

    monkeypatch.setattr(outbox, "enqueue_many", refusing)
    with notifying(runtime) as (sink, worker):
        ids += [deliver(client, sender, bsns[n], f"FOLLOW-{n}") for n in range(3)]
        seen, parked = run_until_parked(runtime, worker, f"notify-email:new:{ids[1]}", T0)
    assert seen == [1, 2, 3] and parked.last_error.startswith(
        "its follow-ups failed: ValueError: value too long"
    )
    assert sent_ids(sink) == Counter(email_id("new", i) for i in ids)
    assert [told(client, sender, i) for i in ids] == [[("notified", "email")]] * 3
    assert_finished_first_time(runtime, f"notify-email:new:{ids[0]}", f"notify-email:new:{ids[2]}")
    assert [len(jobs_like(runtime, f"notify-email:unread:{i}")) for i in ids] == [1, 0, 1]
