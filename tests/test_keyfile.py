"""The key file of an installation: shared through POSTVAK_KEY_FILE, never made anew over sealed data."""

import json

import pytest

from postvak.config import ConfigurationError
from postvak.keyfile import load_keyring
from postvak.messages import service as messages
from postvak.messages.models import Message
from postvak.runtime import build_runtime
from tests.inbox.mailboxes import send
from tests.support.letters import letter


def _body(runtime, letter_id) -> str:
    with runtime.database.unit_of_work(write=False) as session:
        return messages.open_body(runtime.keyring, message=session.get(Message, letter_id))


def test_processes_with_their_own_data_dirs_share_one_key_file(runtime, sender, bsns, tmp_path):
    shared = tmp_path / "shared" / "keys.json"
    first = build_runtime(runtime.settings.model_copy(update={"key_file": shared}))
    [letter_id] = send(first, sender, letter(bsns[0], "K-1", body="Geachte heer, uw aanslag."))

    other_machine = runtime.settings.model_copy(
        update={"data_dir": tmp_path / "elsewhere", "key_file": shared}
    )
    second = build_runtime(other_machine)

    assert _body(second, letter_id) == "Geachte heer, uw aanslag."
    assert second.keyring.active_id == first.keyring.active_id
    assert not (tmp_path / "elsewhere" / "keys.json").exists()


def test_a_missing_key_file_over_sealed_letters_is_refused(runtime, sender, bsns, tmp_path):
    [_] = send(runtime, sender, letter(bsns[0], "K-2"))
    lost = runtime.settings.model_copy(update={"key_file": tmp_path / "not-mounted" / "keys.json"})

    with pytest.raises(ConfigurationError) as refused:
        build_runtime(lost)

    assert runtime.keyring.active_id in str(refused.value)
    assert "POSTVAK_KEY_FILE" in str(refused.value)
    assert not (tmp_path / "not-mounted").exists()  # no new key was made


def test_a_fresh_installation_gets_a_key_file(runtime, tmp_path):
    fresh = runtime.settings.model_copy(update={"key_file": tmp_path / "new" / "keys.json"})

    ring = load_keyring(fresh, runtime.database)

    assert json.loads((tmp_path / "new" / "keys.json").read_text())["active"] == ring.active_id


def test_a_database_not_yet_migrated_counts_as_fresh(settings, tmp_path):
    bare = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp_path / 'bare.db'}", "key_file": tmp_path / "keys.json"}
    )

    assert build_runtime(bare).keyring.active_id == json.loads((tmp_path / "keys.json").read_text())["active"]


@pytest.mark.parametrize("content", ["", "not json", '{"active": "k1", "keys": {"k1": "c2VjcmV0"}}', "{}"])
def test_an_unusable_key_file_is_a_configuration_error_that_shows_none_of_it(runtime, tmp_path, content):
    path = tmp_path / "keys.json"
    path.write_text(content)

    with pytest.raises(ConfigurationError, match="POSTVAK_KEY_FILE") as error:
        load_keyring(runtime.settings.model_copy(update={"key_file": path}), runtime.database)

    assert "c2VjcmV0" not in str(error.value)
