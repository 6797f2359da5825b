"""A letter whose stored deadline is at the calendar's edge (dueDate 0001-01-02, the default date of
several platforms) never stops its reader's onboarding: `postvak citizens create` and the web's
activation deliver it, and the reminder rules plan nothing for a deadline long past."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from datetime import date

from sqlalchemy import update

from postvak.messages.models import Message
from tests.support.citizens import PASSWORD, csrf_token_in, login_with_totp, make_citizen
from tests.support.jobs import jobs_like
from tests.support.notifying import deliver, events_of
from tests.support.smtp import smtp_sink, text_of

TAX = {"action": {"kind": "pay", "label": "Betalen", "url": "https://betalen.example.nl/1"}}


def waiting_letter(runtime, client, sender, bsn: str, due: date) -> str:
    """A letter for a mailbox nobody activated yet, its stored deadline set to `due` (as the API
    accepted it before its edge check)."""
    message_id = deliver(client, sender, bsn, f"EDGE-{due.isoformat()}", dueDate="2027-03-31", **TAX)
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == uuid.UUID(message_id)).values(due_date=due))
    return message_id


def test_citizens_create_delivers_a_waiting_letter_due_at_the_calendars_edge(runtime, client, sender, bsns):
    ancient = waiting_letter(runtime, client, sender, bsns[0], date(1, 1, 2))
    far = deliver(client, sender, bsns[0], "EDGE-far", dueDate="2027-03-31")
    with runtime.database.unit_of_work() as session:
        session.execute(update(Message).where(Message.id == uuid.UUID(far)).values(due_date=date.max))
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
        "POSTVAK_ARGON2_TIME_COST": "1",
        "POSTVAK_ARGON2_MEMORY_KIB": "64",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "postvak.cli",
            "citizens",
            "create",
            "--bsn",
            bsns[0],
            "--email",
            "oud@example.nl",
        ]
        + ["--password", PASSWORD, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) == {"id", "username", "totpSecret"}
    assert [t for t, _ in events_of(client, sender, ancient)] == ["accepted", "unreachable", "delivered"]
    assert jobs_like(runtime, f"notify-email:%:{ancient}") == []  # its deadline is long past
    assert {j.dedupe_key.split(":")[1] for j in jobs_like(runtime, f"notify-email:%:{far}")} == {
        "unread",
        "due-date",
    }


def test_web_activation_delivers_a_waiting_letter_due_at_the_calendars_edge(
    runtime, client, web_client, sender, bsns
):
    newcomer = make_citizen(runtime, bsns[0], activated=False)
    ancient = waiting_letter(runtime, client, sender, bsns[0], date(1, 1, 2))
    with smtp_sink() as sink:
        runtime.settings.smtp_url = sink.url
        assert login_with_totp(web_client, newcomer).headers["location"] == "/activate"
        csrf = csrf_token_in(web_client.get("/activate").text)
        web_client.post(
            "/activate", data={"email": "nieuw@example.nl", "csrf_token": csrf}, follow_redirects=False
        )
        [code] = re.findall(r"\b\d{6}\b", text_of(sink.wait_for(1)[0]))
        answer = web_client.post(
            "/activate/verify", data={"code": code, "csrf_token": csrf}, follow_redirects=False
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/inbox"
    assert [t for t, _ in events_of(client, sender, ancient)] == ["accepted", "unreachable", "delivered"]
    assert "EDGE-0001-01-02" in web_client.get("/inbox").text
