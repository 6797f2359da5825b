"""The `postvak` command as operators use it: a real process, JSON on stdout."""

import json
import os
import re
import subprocess
import sys
import time

import pyotp
import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from postvak.auth import credentials
from postvak.citizens import service as citizens
from postvak.citizens.models import Citizen, PendingChange
from postvak.kit.crypto import KeyRing
from postvak.runtime import build_worker
from postvak.webhooks import service as webhooks
from postvak.webhooks.models import WebhookEndpoint
from tests.support.citizens import csrf_token_in, login_with_totp, make_citizen
from tests.support.letters import letter
from tests.support.receiver import receiver
from tests.support.webhooks import add_endpoint


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
    }

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "postvak.cli", *args], env=env, capture_output=True, text=True, timeout=60
        )
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


def test_senders_create_prints_one_json_object_with_a_working_key(postvak, client, bsns):
    done = postvak(
        "senders",
        "create",
        "--name",
        "Gemeente Utrecht",
        "--oin",
        "00000001002220647000",
        "--kind",
        "municipality",
        "--json",
    )
    created = json.loads(done.stdout)
    assert set(created) >= {"id", "apiKey", "apiKeyId"}
    headers = {"Authorization": f"Bearer {created['apiKey']}"}
    assert client.post("/api/v1/messages", json=letter(bsns[0], "CLI-1"), headers=headers).status_code == 201

    listed = json.loads(postvak("senders", "list", "--json").stdout)
    [entry] = listed["senders"]
    assert entry["name"] == "Gemeente Utrecht" and created["apiKey"] not in json.dumps(listed)

    postvak("senders", "revoke-key", created["apiKeyId"], "--json")
    assert client.post("/api/v1/messages", json=letter(bsns[0], "CLI-2"), headers=headers).status_code == 401


def test_senders_create_refuses_bad_input_clearly(postvak):
    done = postvak(
        "senders", "create", "--name", "X", "--oin", "123", "--kind", "municipality", "--json", ok=False
    )
    assert done.returncode == 2
    assert json.loads(done.stdout) == {
        "error": "validation-failed",
        "detail": "an OIN consists of exactly 20 digits",
    }
    done = postvak(
        "senders", "create", "--name", "X", "--oin", "00000001002220647000", "--kind", "castle", ok=False
    )
    assert done.returncode == 2 and "kind must be one of" in done.stderr


def test_keys_rotate_rewraps_and_letters_still_open(postvak, client, sender, bsns):
    client.post("/api/v1/messages", json=letter(bsns[0], "ROT-CLI"), headers=sender.headers)
    rotated = json.loads(postvak("keys", "rotate", "--json").stdout)
    assert rotated["letters"] == 1 and rotated["keyId"].startswith("k")
    again = json.loads(postvak("keys", "rotate", "--json").stdout)
    assert again["letters"] == 1 and again["keyId"] != rotated["keyId"]


def test_keys_rotate_rewraps_citizens_secrets_so_the_old_key_can_go(postvak, runtime, web_client, bsns):
    """After the rotation nothing is wrapped under the old key: with it removed from the key file,
    TOTP log-ins, a new app waiting for its first code and a phone number waiting for its SMS code
    all still work."""
    citizen, other = make_citizen(runtime, bsns[0]), make_citizen(runtime, bsns[1])
    with runtime.database.unit_of_work() as session:
        credentials.start_totp_replacement(session, keyring=runtime.keyring, citizen_id=citizen.id)
        sms = citizens.request_phone_code(
            session, keyring=runtime.keyring, citizen_id=other.id, number="+31612345678"
        )
    old_id = runtime.keyring.active_id

    rotated = json.loads(postvak("keys", "rotate", "--json").stdout)
    assert rotated["totpSecrets"] == 2 and rotated["pendingChanges"] == 2 and rotated["keyId"] != old_id
    with runtime.database.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).where(Citizen.totp_kek_id != rotated["keyId"])) == 0
        assert session.scalar(select(func.count()).where(PendingChange.kek_id != rotated["keyId"])) == 0

    key_file = runtime.settings.resolved_key_file
    document = json.loads(key_file.read_text())
    del document["keys"][old_id]
    key_file.write_text(json.dumps(document))
    runtime.keyring = KeyRing.load_or_create(key_file)
    assert runtime.keyring.key_ids() == [rotated["keyId"]]

    assert login_with_totp(web_client, citizen).headers["location"] == "/inbox"
    page = web_client.get("/settings/totp").text
    secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    form = {"csrf_token": csrf_token_in(page), "code": pyotp.TOTP(secret).now()}
    replaced = web_client.post("/settings/totp", data=form, follow_redirects=False)
    assert replaced.headers["location"].startswith("/settings?notice=totp-replaced")
    with runtime.database.unit_of_work() as session:
        assert (
            citizens.verify_phone_code(session, keyring=runtime.keyring, citizen_id=other.id, code=sms.code)
            == "ok"
        )


def test_keys_rotate_rewraps_webhook_secrets_and_deliveries_still_verify(
    postvak, runtime, client, sender, bsns
):
    """Both secrets of an endpoint in the middle of a secret rotation are re-wrapped: with the old key
    gone from the key file, a delivery is still signed with both, and each verifies."""
    runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": True})
    with receiver() as hooks:
        endpoint_id, first = add_endpoint(runtime, sender, hooks.url())
        with runtime.database.unit_of_work() as session:
            second = webhooks.rotate_secret(
                session, keyring=runtime.keyring, sender_id=sender.id, endpoint_id=str(endpoint_id)
            ).secret
        old_id = runtime.keyring.active_id

        rotated = json.loads(postvak("keys", "rotate", "--json").stdout)
        assert rotated["webhookSecrets"] == 1 and rotated["keyId"] != old_id
        with runtime.database.unit_of_work(write=False) as session:
            endpoint = session.get(WebhookEndpoint, endpoint_id)
            assert endpoint.secret_kek_id == endpoint.previous_kek_id == rotated["keyId"]

        key_file = runtime.settings.resolved_key_file
        document = json.loads(key_file.read_text())
        del document["keys"][old_id]
        key_file.write_text(json.dumps(document))
        runtime.keyring = KeyRing.load_or_create(key_file)

        message_id = client.post("/api/v1/messages", json=letter(bsns[0], "ROT-WH"), headers=sender.headers)
        worker = build_worker(runtime)
        try:
            for _ in range(100):
                if len(hooks.received) >= 2:
                    break
                worker.run_once() or time.sleep(0.05)
        finally:
            for lane in worker.lanes:
                if close := getattr(lane, "close", None):
                    close()
        requests = hooks.wait_for(2)
    assert len(requests) == 2
    for secret in (first, second):
        bodies = [Webhook(secret).verify(r.body, r.headers) for r in requests]
        assert {b["subject"] for b in bodies} == {message_id.json()["id"]}


def test_db_upgrade_is_repeatable(postvak):
    assert "up to date" in postvak("db", "upgrade").stdout
