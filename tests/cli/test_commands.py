"""The `postvak` command as operators use it: a real process, JSON on stdout."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.letters import letter


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


def test_db_upgrade_is_repeatable(postvak):
    assert "up to date" in postvak("db", "upgrade").stdout
