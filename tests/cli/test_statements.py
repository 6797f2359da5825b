"""`postvak statements`: the operator sees the figures the sender's API answers, as a real process."""

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.support.letters import letter


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
        "POSTVAK_TARIFF_LETTER": "0.25",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "postvak.cli", *args], env=env, capture_output=True, text=True, timeout=60
        )

    return run


def test_the_operator_sees_the_same_figures_as_the_sender(runtime, client, sender, bsns, postvak):
    items = [letter(bsns[n], f"CLI-ST-{n}") for n in range(4)]
    assert (
        client.post("/api/v1/message-batches", json={"messages": items}, headers=sender.headers).status_code
        == 200
    )
    month = client.get("/api/v1/events", headers=sender.headers).json()["events"][0]["at"][:7]
    # The API's tariffs are the test runtime's (defaults); the command's come from its environment.
    runtime.settings = runtime.settings.model_copy(update={"tariff_letter": Decimal("0.25")})
    from_api = client.get(f"/api/v1/statements/{month}", headers=sender.headers).json()

    done = postvak("statements", month, "--oin", "00000001002220647000", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == from_api
    assert from_api["letters"] == 4 and from_api["amount"] == {"value": "1.00", "currency": "EUR"}

    by_id = postvak("statements", month, "--sender", str(sender.id), "--json")
    assert json.loads(by_id.stdout) == from_api
    text = postvak("statements", month, "--oin", "00000001002220647000")
    assert text.returncode == 0 and "Gemeente Testdorp" in text.stdout and "1.00 EUR" in text.stdout


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("2026-13", "--oin", "00000001002220647000"), "validation-failed"),
        (("2027-01", "--oin", "00000001002220647999"), "not-found"),
        (("2027-01", "--sender", "not-an-id"), "not-found"),
        (("2027-01",), "validation-failed"),
        (("2027-01", "--oin", "1", "--sender", "2"), "validation-failed"),
    ],
)
def test_a_bad_month_or_an_unknown_organisation_exits_2_with_one_json_object(postvak, sender, args, error):
    done = postvak("statements", *args, "--json")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == error
