"""`postvak print waiting` and `postvak print retry`: the operator's view of letters that are not printed."""

import json
import os
import subprocess
import sys

import pytest

from postvak.printing import rules, service
from tests.support.printing import print_worker, register_addresses, send_unreachable


@pytest.fixture
def postvak(runtime):
    env = {
        **os.environ,
        "POSTVAK_DATABASE_URL": runtime.settings.database_url,
        "POSTVAK_DATA_DIR": str(runtime.settings.data_dir),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "-m", "postvak.cli", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done

    return run


def test_waiting_letters_are_listed_and_retried_after_the_address_arrives(
    runtime, client, sender, bsns, postvak
):
    message_id = send_unreachable(client, sender, bsns[0], "OP-1")
    with runtime.database.unit_of_work() as session:
        service.print_messages(session, message_ids=[message_id])
    listed = json.loads(postvak("print", "waiting", "--json").stdout)
    [row] = listed["letters"]
    assert (row["messageId"], row["sender"], row["senderReference"], row["state"], row["detail"]) == (
        str(message_id),
        "Gemeente Testdorp",
        "OP-1",
        "waiting-address",
        rules.NO_ADDRESS,
    )
    assert bsns[0] not in json.dumps(listed)
    assert json.loads(postvak("print", "retry", "--json").stdout) == {
        "claimed": 0,
        "batches": [],
        "waitingForAddress": 1,
    }
    register_addresses(runtime, bsns[:1])
    retried = json.loads(postvak("print", "retry", "--json").stdout)
    assert retried["claimed"] == 1 and len(retried["batches"]) == 1
    print_worker(runtime).drain()
    assert json.loads(postvak("print", "waiting", "--json").stdout) == {"letters": []}
    assert "no letters are waiting to be printed" in postvak("print", "waiting").stdout
