"""Notifications end to end in one process: letters through the API, the worker, a real SMTP sink."""

from __future__ import annotations

from datetime import timedelta

from postvak.kit import clock
from postvak.notifications.sms import ConsoleSms
from tests.support.citizens import make_citizen
from tests.support.dates import due_in, spelled
from tests.support.notifying import add_phone, deliver, events_of, notifying
from tests.support.smtp import text_of

TAX = {
    "subject": "Aanslag gemeentelijke belastingen 2027",
    "dueDate": due_in().isoformat(),
    "action": {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/123"},
}


def test_the_notification_names_sender_subject_action_deadline_and_links_the_letter(
    runtime, client, sender, bsns
):
    citizen = make_citizen(runtime, bsns[0])
    with notifying(runtime) as (sink, worker):
        message_id = deliver(client, sender, bsns[0], "N-1", **TAX)
        worker.drain()
        [mail] = sink.wait_for(1)
    assert mail["Subject"] == (
        f"Gemeente Testdorp: Aanslag gemeentelijke belastingen 2027 — betalen vóór {spelled(due_in())}"
    )
    assert sink.envelopes[0][1] == [citizen.username]
    text = text_of(mail)
    assert f"http://testserver/letters/{message_id}" in text
    assert "Hierbij ontvangt u uw" not in text  # never the letter itself
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Message-ID"] == f"<new.{message_id}.email@postvak.localhost>"
    assert events_of(client, sender, message_id)[-1] == ("notified", "email")


def test_one_email_per_letter_and_channel_however_often_the_worker_runs(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[0])
    with notifying(runtime) as (sink, worker):
        ids = [deliver(client, sender, bsns[0], f"N-{i}") for i in range(3)]
        deliver(client, sender, bsns[0], "N-0")  # a sender's retry: the same letter, no second e-mail
        for _ in range(3):
            worker.drain()
        sink.wait_for(3)
    assert sorted(m["Message-ID"] for m in sink.messages) == sorted(
        f"<new.{i}.email@postvak.localhost>" for i in ids
    )


def test_sensitive_letters_get_a_generic_text_in_the_citizens_language(runtime, client, sender, bsns):
    citizen = make_citizen(runtime, bsns[0])
    with runtime.database.unit_of_work() as session:
        from postvak.citizens import service as citizens

        citizens.set_language(session, citizen_id=citizen.id, language="en")
    with notifying(runtime) as (sink, worker):
        deliver(
            client,
            sender,
            bsns[0],
            "S-1",
            sensitive=True,
            subject="Schuldhulpverlening",
            **{"notification": {"text": "Neem contact op met uw consulent."}},
        )
        worker.drain()
        [mail] = sink.wait_for(1)
    assert mail["Subject"] == "You have a new message from Gemeente Testdorp"
    everything = mail.as_string()
    assert "Schuldhulp" not in everything and "consulent" not in everything


def test_the_senders_own_text_is_included(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[0])
    with notifying(runtime) as (sink, worker):
        deliver(client, sender, bsns[0], "T-1", notification={"text": "Betaal voor 31 maart <b>online</b>."})
        worker.drain()
        [mail] = sink.wait_for(1)
    assert "Betaal voor 31 maart <b>online</b>." in text_of(mail)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;online&lt;/b&gt;" in html and "<img" not in html


def test_no_notification_for_an_unactivated_mailbox_or_a_letter_read_first(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[1])
    with notifying(runtime) as (sink, worker):
        unreachable = deliver(client, sender, bsns[0], "U-1")  # nobody has this mailbox yet
        read_first = deliver(client, sender, bsns[1], "R-1")
        _read(runtime, bsns[1], read_first)
        worker.drain()
    assert sink.messages == []
    assert [t for t, _ in events_of(client, sender, unreachable)] == ["accepted", "unreachable"]
    assert "notified" not in [t for t, _ in events_of(client, sender, read_first)]


def test_a_scheduled_letter_is_told_about_when_it_is_published(runtime, client, sender, bsns):
    make_citizen(runtime, bsns[0])
    start = clock.now()
    with notifying(runtime) as (sink, worker):
        message_id = deliver(
            client, sender, bsns[0], "P-1", publishAt=(start + timedelta(hours=1)).isoformat()
        )
        worker.drain()
        assert sink.messages == []
        clock.set_clock(lambda: start + timedelta(hours=1, seconds=1))
        worker.drain()
        sink.wait_for(1)
    assert [t for t, _ in events_of(client, sender, message_id)][-2:] == ["delivered", "notified"]


def test_sms_goes_beside_the_email_when_chosen(runtime, client, sender, bsns):
    citizen = make_citizen(runtime, bsns[0])
    add_phone(runtime, citizen.id)
    runtime.sms = ConsoleSms()
    with notifying(runtime) as (sink, worker):
        message_id = deliver(client, sender, bsns[0], "SMS-1", **TAX)
        worker.drain()
        sink.wait_for(1)
    [(number, text, reference)] = runtime.sms.sent
    assert number == "+31612345678" and "Aanslag gemeentelijke belastingen 2027" in text
    assert f"/letters/{message_id}" in text and "\n" not in text
    assert sorted(d for t, d in events_of(client, sender, message_id) if t == "notified") == ["email", "sms"]


def test_a_refused_address_fails_that_letter_only_and_falls_back_to_sms(runtime, client, sender, bsns):
    refused = make_citizen(runtime, bsns[0], email="weg@example.nl")
    add_phone(runtime, refused.id, sms=False)  # not chosen, but the fallback when e-mail fails for good
    make_citizen(runtime, bsns[1])
    runtime.sms = ConsoleSms()
    with notifying(runtime, **{"weg@example.nl": "550 5.1.1 <weg@example.nl>: unknown"}) as (sink, worker):
        failed = deliver(client, sender, bsns[0], "F-1")
        fine = deliver(client, sender, bsns[1], "F-2")
        worker.drain()
        sink.wait_for(1)
    failed_events = events_of(client, sender, failed)
    assert ("notification-failed", "email: SMTP 550 5.1.1") in failed_events
    assert ("notified", "sms") in failed_events
    assert "weg@example.nl" not in str(failed_events)
    assert events_of(client, sender, fine)[-1] == ("notified", "email")
    assert len(runtime.sms.sent) == 1


def test_letters_that_ask_nothing_wait_for_the_daily_digest(runtime, client, sender, bsns):
    citizen = make_citizen(runtime, bsns[0])
    _choose_digest(runtime, citizen.id)
    start = clock.now()
    with notifying(runtime) as (sink, worker):
        quiet = [deliver(client, sender, bsns[0], f"D-{i}", subject=f"Nieuwsbrief {i}") for i in range(2)]
        urgent = deliver(client, sender, bsns[0], "D-urgent", **TAX)
        worker.drain()
        [first] = sink.wait_for(1)
        assert "Aanslag" in first["Subject"]  # asks something: right away
        clock.set_clock(lambda: start + timedelta(days=1, hours=1))
        worker.drain()
        [_, digest] = sink.wait_for(2)
        worker.drain()
    assert digest["Subject"] == "Postvak: 2 nieuwe brieven"
    assert all(f"/letters/{i}" in text_of(digest) for i in quiet)
    assert f"/letters/{urgent}" not in text_of(digest)
    assert all(("notified", "email") in events_of(client, sender, i) for i in quiet)
    assert len(sink.messages) == 2


def _choose_digest(runtime, citizen_id) -> None:
    with runtime.database.unit_of_work() as session:
        from postvak.citizens.models import Citizen

        session.get(Citizen, citizen_id).daily_digest = True


def _read(runtime, bsn: str, message_id: str) -> None:
    from sqlalchemy import select

    from postvak.citizens.models import Mailbox
    from postvak.inbox import service as inbox

    with runtime.database.unit_of_work() as session:
        mailbox_id = session.scalar(select(Mailbox.id).where(Mailbox.recipient_value == bsn))
        inbox.read_message(session, keyring=runtime.keyring, mailbox_id=mailbox_id, message_id=message_id)
